"""The ONNX encoder against sentence-transformers: same vectors, same rankings; fallbacks when it cannot run."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.embedding import Encoder, ModelError, TorchEncoder, encoder_for, export_key, load_encoder
from qa.engine import Engine
from qa.onnx_encoder import MODEL_FILE
from qa.settings import Settings
from tests.conftest import QUESTIONS


def _questions() -> list[str]:
    return [json.loads(line)["question"] for line in QUESTIONS.read_text("utf-8").splitlines() if line.strip()]


def test_onnx_vectors_match_torch(encoder: Encoder, torch_encoder: TorchEncoder, engine: Engine) -> None:
    texts = _questions() + [c.index_text for c in engine.index.chunks]
    onnx_vectors = encoder.encode(texts, batch_size=16)
    torch_vectors = torch_encoder.encode(texts, batch_size=16)
    assert onnx_vectors.shape == torch_vectors.shape == (len(texts), 384)
    assert np.abs(onnx_vectors - torch_vectors).max() < 1e-5
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    # One text alone (no padding) and in a batch (padded) encode alike.
    assert np.abs(encoder.encode([texts[0]])[0] - onnx_vectors[0]).max() < 1e-5


def test_onnx_gives_the_same_rankings_as_torch(engine: Engine, settings: Settings, torch_encoder: TorchEncoder) -> None:
    with_torch = Engine(settings, encoder=torch_encoder)
    assert engine.encoder.backend == "onnx" and with_torch.encoder.backend == "torch"
    for question in _questions():
        onnx_reply, torch_reply = engine.ask(question), with_torch.ask(question)
        assert [p.chunk.id for p in onnx_reply.passages] == [p.chunk.id for p in torch_reply.passages], question
        assert onnx_reply.answer == torch_reply.answer and onnx_reply.answered == torch_reply.answered


def test_a_broken_export_is_made_again(tmp_path: Path, settings: Settings, caplog) -> None:
    folder = tmp_path / export_key(settings.model)
    first = load_encoder(settings.model, "onnx", tmp_path)
    reference = first.encode(["Où se tient la réunion ?"])
    (folder / MODEL_FILE).write_bytes((folder / MODEL_FILE).read_bytes()[:1000])  # truncated
    with caplog.at_level(logging.WARNING, logger="qa"):
        again = load_encoder(settings.model, "auto", tmp_path)
    assert again.backend == "onnx" and "exporting again" in caplog.text
    assert np.abs(again.encode(["Où se tient la réunion ?"]) - reference).max() < 1e-6


def test_auto_falls_back_to_torch_when_the_export_cannot_be_written(tmp_path: Path, caplog) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the export folder should go")
    with caplog.at_level(logging.WARNING, logger="qa"):
        encoder = load_encoder(Settings().model, "auto", blocked)
    assert encoder.backend == "torch" and "using sentence-transformers" in caplog.text
    assert encoder.encode(["bonjour"]).shape == (1, 384)
    with pytest.raises(ModelError, match="ONNX"):
        load_encoder(Settings().model, "onnx", blocked)


def test_backend_and_threads_are_checked() -> None:
    with pytest.raises(ModelError, match="unknown encoder backend"):
        load_encoder(Settings().model, "tensorrt", Path("/tmp"))
    with pytest.raises(ModelError, match="threads"):
        load_encoder(Settings().model, "auto", Path("/tmp"), threads=-1)


def test_an_index_built_by_one_backend_serves_the_other(settings: Settings, engine: Engine) -> None:
    torch_settings = replace(settings, encoder="torch")
    assert torch_settings.fingerprint() == settings.fingerprint()  # no rebuild when the backend changes


def test_int8_encoder_is_close_to_float_and_builds_its_own_index(
    tmp_path: Path, settings: Settings, encoder: Encoder, engine: Engine
) -> None:
    """The opt-in quantised encoder: made once from the float export, close to it, and never mixed
    with float vectors (its index has another fingerprint)."""
    int8_settings = replace(settings, encoder="onnx-int8", index_dir=tmp_path / "index")
    shutil.copytree(settings.encoder_dir, int8_settings.encoder_dir)  # the float export, made by the session
    quantised = encoder_for(int8_settings)
    assert quantised.backend == "onnx-int8"
    key = export_key(settings.model)
    float_size = (int8_settings.encoder_dir / key / MODEL_FILE).stat().st_size
    assert (int8_settings.encoder_dir / f"{key}-int8" / MODEL_FILE).stat().st_size < float_size / 3
    questions = _questions()
    similarity = (quantised.encode(questions) * encoder.encode(questions)).sum(axis=1)
    assert similarity.min() > 0.95 and float(np.median(similarity)) > 0.98, similarity.min()
    assert int8_settings.fingerprint() != settings.fingerprint()
    int8_engine = Engine(int8_settings, encoder=quantised)
    assert int8_engine.index.manifest["model"]["encoder"] == "onnx-int8"
    # Same top passage as the float engine on most questions (the benchmark reports the exact cost).
    same = sum(int8_engine.ask(q).passages[0].chunk.id == engine.ask(q).passages[0].chunk.id for q in questions)
    assert same >= 0.9 * len(questions)
