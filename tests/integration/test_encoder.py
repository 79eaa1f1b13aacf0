"""The ONNX encoder against sentence-transformers: same vectors, same rankings; fallbacks when it cannot run."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest

from qa.encode.embedding import PASSAGE, QUERY, Encoder, ModelError, TorchEncoder, export_key, load_encoder
from qa.encode.onnx_encoder import MODEL_FILE
from qa.engine import Engine
from qa.settings import Settings
from tests.conftest import bundled_questions


def test_onnx_vectors_match_torch(float_encoder: Encoder, torch_encoder: TorchEncoder, engine: Engine) -> None:
    texts = bundled_questions() + [c.index_text for c in engine.index.chunks]
    onnx_vectors = float_encoder.encode(texts, role=PASSAGE, batch_size=16)
    torch_vectors = torch_encoder.encode(texts, role=PASSAGE, batch_size=16)
    assert onnx_vectors.shape == torch_vectors.shape == (len(texts), 384)
    assert np.abs(onnx_vectors - torch_vectors).max() < 1e-5
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    # One text alone (no padding) and in a batch (padded) encode alike.
    assert np.abs(float_encoder.encode([texts[0]], role=PASSAGE)[0] - onnx_vectors[0]).max() < 1e-5


@pytest.fixture(scope="module")
def float_settings(settings: Settings, float_encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Float vectors have their own index: built in its own folder, with the session's exports copied in."""
    float_settings = replace(settings, encoder="onnx", index_dir=tmp_path_factory.mktemp("float-index"))
    shutil.copytree(settings.encoder_dir, float_settings.encoder_dir)
    return float_settings


def test_onnx_gives_the_same_rankings_as_torch(
    float_settings: Settings, float_encoder: Encoder, torch_encoder: TorchEncoder
) -> None:
    with_onnx = Engine(float_settings, encoder=float_encoder)
    with_torch = Engine(replace(float_settings, encoder="torch"), encoder=torch_encoder)
    assert with_onnx.encoder.backend == "onnx" and with_torch.encoder.backend == "torch"
    assert with_onnx.index.path == with_torch.index.path  # one float index serves both
    for question in bundled_questions():
        onnx_reply, torch_reply = with_onnx.ask(question), with_torch.ask(question)
        assert [p.chunk.id for p in onnx_reply.passages] == [p.chunk.id for p in torch_reply.passages], question
        assert onnx_reply.answer == torch_reply.answer and onnx_reply.answered == torch_reply.answered


def test_a_broken_export_is_made_again(tmp_path: Path, settings: Settings, caplog) -> None:
    folder = tmp_path / export_key(settings.model)
    first = load_encoder(settings.model, "onnx", tmp_path)
    reference = first.encode(["Où se tient la réunion ?"], role=QUERY)
    (folder / MODEL_FILE).write_bytes((folder / MODEL_FILE).read_bytes()[:1000])  # truncated
    with caplog.at_level(logging.WARNING, logger="qa"):
        again = load_encoder(settings.model, "onnx", tmp_path)
    assert again.backend == "onnx" and "exporting again" in caplog.text
    assert np.abs(again.encode(["Où se tient la réunion ?"], role=QUERY) - reference).max() < 1e-6
    # The int8 export made from it, truncated in turn, is made again too.
    quantised = load_encoder(settings.model, "auto", tmp_path)
    int8_file = tmp_path / f"{export_key(settings.model)}-int8" / MODEL_FILE
    int8_file.write_bytes(int8_file.read_bytes()[:1000])
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="qa"):
        remade = load_encoder(settings.model, "auto", tmp_path)
    assert remade.backend == "onnx-int8" and "making it again" in caplog.text
    question = ["Où se tient la réunion ?"]
    assert np.abs(remade.encode(question, role=QUERY) - quantised.encode(question, role=QUERY)).max() < 1e-6


def test_auto_falls_back_to_torch_when_the_export_cannot_be_written(tmp_path: Path, caplog) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the export folder should go")
    with caplog.at_level(logging.WARNING, logger="qa"):
        encoder = load_encoder(Settings().model, "auto", blocked)
    assert encoder.backend == "torch" and "int8 unavailable" in caplog.text
    assert "using sentence-transformers" in caplog.text
    assert encoder.encode(["bonjour"], role=QUERY).shape == (1, 384)
    with pytest.raises(ModelError, match="ONNX"):
        load_encoder(Settings().model, "onnx", blocked)


def test_backend_and_threads_are_checked() -> None:
    with pytest.raises(ModelError, match="unknown encoder backend"):
        load_encoder(Settings().model, "tensorrt", Path("/tmp"))
    with pytest.raises(ModelError, match="threads"):
        load_encoder(Settings().model, "auto", Path("/tmp"), threads=-1)


def test_float_backends_share_an_index_and_int8_has_its_own(settings: Settings) -> None:
    assert settings.encoder == "auto"
    float_print = replace(settings, encoder="onnx").fingerprint()
    assert replace(settings, encoder="torch").fingerprint() == float_print  # no rebuild between the two
    assert replace(settings, encoder="onnx-int8").fingerprint() == settings.fingerprint() != float_print


def test_int8_default_is_close_to_float_and_ranks_alike(
    float_settings: Settings, float_encoder: Encoder, encoder: Encoder, engine: Engine
) -> None:
    """The quantised default against the float export it is made from: close vectors, a file under
    a third of the size, and the same top passage on nearly every bundled question (the benchmark
    reports the exact figures for both)."""
    assert encoder.backend == "onnx-int8" and engine.index.manifest["model"]["encoder"] == "onnx-int8"
    # The index records which exported weights made its vectors.
    assert engine.index.manifest["model"]["sha256"] == encoder.model_sha256 != ""
    key = export_key(float_settings.model)
    float_size = (float_settings.encoder_dir / key / MODEL_FILE).stat().st_size
    assert (float_settings.encoder_dir / f"{key}-int8" / MODEL_FILE).stat().st_size < float_size / 3
    questions = bundled_questions()
    similarity = (encoder.encode(questions, role=QUERY) * float_encoder.encode(questions, role=QUERY)).sum(axis=1)
    assert similarity.min() > 0.95 and float(np.median(similarity)) > 0.98, similarity.min()
    float_engine = Engine(float_settings, encoder=float_encoder)
    assert float_engine.index.manifest["model"]["encoder"] == "onnx"
    same = sum(float_engine.ask(q).passages[0].chunk.id == engine.ask(q).passages[0].chunk.id for q in questions)
    assert same >= 0.9 * len(questions)


def test_int8_export_is_fused_and_a_text_encodes_alike_whatever_its_batch(
    float_settings: Settings, encoder: Encoder, engine: Engine
) -> None:
    """The int8 graph is fused (attention, layer norms, GELU in one kernel each) before quantisation,
    and encodes one text per run: quantised activations are scaled per tensor, so in a batch a
    chunk's vector would change with its batch-mates (and with every document added)."""
    folder = float_settings.encoder_dir / f"{export_key(float_settings.model)}-int8"
    config = json.loads((folder / "encoder.json").read_text("utf-8"))
    assert config["quantization"]["fused"] is True
    operators = {node.op_type for node in onnx.load(str(folder / MODEL_FILE), load_external_data=False).graph.node}
    assert {"QAttention", "SkipLayerNormalization"} <= operators
    texts = [c.index_text for c in engine.index.chunks[:12]] + bundled_questions()[:12]
    together = encoder.encode(texts, role=PASSAGE, batch_size=64)
    alone = np.vstack([encoder.encode([t], role=PASSAGE) for t in texts])
    assert np.abs(together - alone).max() < 1e-6


def test_one_thread_and_all_threads_encode_alike(encoder: Encoder, engine: Engine) -> None:
    """Questions computed side by side encode on one thread each, a lone one on every core: same vectors."""
    texts = bundled_questions()[:20]
    assert (
        np.abs(
            encoder.encode(texts, role=QUERY, all_threads=False) - encoder.encode(texts, role=QUERY, all_threads=True)
        ).max()
        < 1e-6
    )


def test_the_multilingual_default_beats_the_english_model_on_french_and_minilm_stays_selectable(
    torch_encoder: TorchEncoder, engine: Engine, briefing_text: str
) -> None:
    from qa.settings import BASE_MODEL, DEFAULT_MODEL, E5_MODEL, FINE_TUNED_MODEL, FINE_TUNED_MODEL_DIR
    from qa_eval import metrics
    from qa_eval.questions import load_questions
    from tests.conftest import BRIEFING, TEST_QUESTIONS

    assert DEFAULT_MODEL == E5_MODEL
    card = json.loads((FINE_TUNED_MODEL_DIR / "training.json").read_text("utf-8"))
    assert card["base_model"] == BASE_MODEL and card["pairs"] > 1000 and "piaf" in card["fitted_on"]
    # Dense retrieval alone, on the bundled test part (never trained on): the multilingual default finds
    # the answer's chunk at least as often as the fine-tuned MiniLM, and more often than the English one.
    questions = [q for q in load_questions(TEST_QUESTIONS, {BRIEFING: briefing_text}) if q.answerable]
    chunks = list(engine.index.chunks)

    def hits_at_3(encoder: TorchEncoder) -> int:
        chunk_vectors = encoder.encode([c.index_text for c in chunks], role=PASSAGE)
        similarities = encoder.encode([q.question for q in questions], role=QUERY) @ chunk_vectors.T
        return sum(
            any(metrics.is_relevant({"doc": c.doc, "start": c.start, "end": c.end}, q.spans) for c in top)
            for q, row in zip(questions, similarities, strict=True)
            for top in [[chunks[i] for i in np.argsort(-row)[:3]]]
        )

    default = hits_at_3(torch_encoder)
    assert default >= hits_at_3(TorchEncoder(FINE_TUNED_MODEL)) and default > hits_at_3(TorchEncoder(BASE_MODEL))


def test_a_missing_fine_tuned_model_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from qa.encode import embedding

    monkeypatch.setattr(embedding, "FINE_TUNED_MODEL_DIR", tmp_path / "absent")
    with pytest.raises(ModelError, match="fit-encoder"):
        embedding.resolve_model(embedding.FINE_TUNED_MODEL)
