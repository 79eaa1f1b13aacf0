from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from qa.encode.embedding import PASSAGE, QUERY, Encoder
from qa.index import indexing
from qa.index.chunk_store import ChunkStore
from qa.ingest.chunking import chunk_documents
from qa.ingest.reader import read_corpus
from qa.settings import Settings


def _settings(corpus: Path, index_dir: Path) -> Settings:
    return Settings.from_env({}, corpus_dir=corpus, index_dir=index_dir)


def test_round_trip(small_corpus: Path, tmp_path: Path, encoder: Encoder) -> None:
    settings = _settings(small_corpus, tmp_path / "index")
    built = indexing.build(settings, encoder)
    assert indexing.check(settings) == built
    loaded = indexing.load(built)
    assert loaded.dense.ntotal == len(loaded.chunks) > 40
    assert loaded.unit_vectors.shape == (sum(len(c.units) for c in loaded.chunks), encoder.dimension)
    manifest = loaded.manifest
    assert manifest["model"]["dimension"] == encoder.dimension
    assert manifest["settings"]["chunk_size"] == settings.chunk_size
    assert manifest["vector_index"]["type"] == "flat"
    assert {"faiss-cpu", "bm25s", "sentence-transformers"} <= set(manifest["versions"])
    text = loaded.documents["chevening-briefing.fr.txt"]
    for chunk in loaded.chunks:
        assert text[chunk.start : chunk.end] == chunk.text
    # The chunks are read from disk as asked for, and come back exactly as chunked.
    documents, _ = read_corpus(small_corpus, settings.max_document_bytes)
    chunked = chunk_documents(documents, settings.chunk_size, settings.chunk_overlap)
    assert isinstance(loaded.chunks, ChunkStore) and list(loaded.chunks) == chunked
    assert loaded.chunks[-1] == chunked[-1] and loaded.chunks[3:6] == chunked[3:6]
    assert loaded.unit_count.tolist() == [len(c.units) for c in chunked]
    with pytest.raises(IndexError):
        loaded.chunks[len(chunked)]
    # Search the loaded FAISS index with a chunk's own vector: it finds itself.
    vector = encoder.encode([loaded.chunks[7].index_text], role=PASSAGE)
    _, ids = loaded.dense.search(vector, 1)
    assert ids[0][0] == 7
    # No pickle anywhere: every array loads with allow_pickle=False.
    for npy in built.rglob("*.npy"):
        np.load(npy, allow_pickle=False)


def test_missing_index_is_built_and_then_reused(small_corpus: Path, tmp_path: Path, encoder: Encoder, caplog) -> None:
    settings = _settings(small_corpus, tmp_path / "index")
    with caplog.at_level("INFO", logger="qa"):
        first = indexing.open_index(settings, encoder)
    assert "no index yet" in caplog.text
    second = indexing.open_index(settings, encoder)
    assert second.path == first.path


def test_corpus_change_makes_the_index_stale(small_corpus: Path, tmp_path: Path, encoder: Encoder, caplog) -> None:
    settings = _settings(small_corpus, tmp_path / "index")
    first = indexing.open_index(settings, encoder)
    (small_corpus / "ajout.md").write_text("# Ajout\n\nLe sommet de Reykjavik est évoqué.\n", "utf-8")
    with pytest.raises(indexing.StaleIndex, match="corpus changed"):
        indexing.check(settings)
    with caplog.at_level("INFO", logger="qa"):
        second = indexing.open_index(settings, encoder)
    assert second.path != first.path and "corpus changed" in caplog.text
    assert "ajout.md" in second.documents
    assert not first.path.exists()  # the replaced build is cleaned up


def test_settings_change_makes_the_index_stale(small_corpus: Path, tmp_path: Path, encoder: Encoder) -> None:
    settings = _settings(small_corpus, tmp_path / "index")
    indexing.build(settings, encoder)
    with pytest.raises(indexing.StaleIndex, match="settings changed"):
        indexing.check(replace(settings, chunk_size=300))


def _replaced(encoder: Encoder, digest: str) -> Encoder:
    """The same encoder, as if its tokenizer or its weights had been replaced."""

    class Replaced:
        def __getattr__(self, name: str) -> object:
            return "0" * 64 if name == digest else getattr(encoder, name)

    return Replaced()  # type: ignore[return-value]


def test_an_index_made_by_another_tokenizer_or_weights_is_rebuilt(
    small_corpus: Path, tmp_path: Path, encoder: Encoder, caplog
) -> None:
    """Vectors made by other weights or another reading of the text do not match new questions' vectors."""
    settings = _settings(small_corpus, tmp_path / "index")
    first = indexing.open_index(settings, encoder)
    assert first.manifest["model"]["tokenizer_sha256"] == encoder.tokenizer_sha256 != ""
    assert indexing.check(settings, encoder) == first.path
    for digest in ("tokenizer_sha256", "model_sha256"):
        with pytest.raises(indexing.StaleIndex, match="the encoder changed"):
            indexing.check(settings, _replaced(encoder, digest))
    with caplog.at_level("INFO", logger="qa"):
        again = indexing.open_index(settings, _replaced(encoder, "model_sha256"))
    assert again.path != first.path and "the encoder changed" in caplog.text
    assert again.manifest["model"]["sha256"] == "0" * 64


@pytest.mark.parametrize(
    "victim", ["dense.faiss", "chunks.jsonl", "chunk-lines.npy", "bm25-words/vocab.index.json", "manifest.json"]
)
def test_corrupted_index_is_detected_and_rebuilt(
    small_corpus: Path, tmp_path: Path, encoder: Encoder, victim: str, caplog
) -> None:
    settings = _settings(small_corpus, tmp_path / "index")
    build = indexing.build(settings, encoder)
    path = build / victim
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(indexing.StaleIndex):
        indexing.check(settings)
    with caplog.at_level("INFO", logger="qa"):
        loaded = indexing.open_index(settings, encoder)
    assert loaded.path != build
    assert len([r for r in caplog.records if r.name.startswith("qa.index.indexing")]) >= 1
    indexing.check(settings)


def test_a_build_that_dies_midway_leaves_the_previous_index(
    small_corpus: Path, tmp_path: Path, encoder: Encoder
) -> None:
    settings = _settings(small_corpus, tmp_path / "index")
    good = indexing.build(settings, encoder)
    # What a killed build leaves behind: a half-written temporary folder; CURRENT is untouched.
    leftover = settings.index_dir / ".tmp-build-killed"
    leftover.mkdir()
    (leftover / "chunks.jsonl").write_text("[{", "utf-8")
    assert indexing.check(settings) == good
    assert indexing.open_index(settings, encoder).path == good
    # The next real build sweeps the leftover away.
    indexing.build(settings, encoder, force=True)
    assert not leftover.exists()


def test_current_pointer_is_the_only_way_in(small_corpus: Path, tmp_path: Path, encoder: Encoder) -> None:
    settings = _settings(small_corpus, tmp_path / "index")
    indexing.build(settings, encoder)
    (settings.index_dir / indexing.CURRENT).write_text("../../etc", "utf-8")
    with pytest.raises(indexing.StaleIndex, match="no index"):
        indexing.check(settings)
    manifest_path = indexing.build(settings, encoder) / indexing.MANIFEST
    assert json.loads(manifest_path.read_text("utf-8"))["counts"]["documents"] == 1


def test_two_builds_at_once_leave_one_valid_index(small_corpus: Path, tmp_path: Path, encoder: Encoder) -> None:
    import subprocess
    import sys

    index_dir = tmp_path / "index"
    command = [
        sys.executable,
        "-m",
        "qa.cli",
        "index",
        "--force",
        "--corpus",
        str(small_corpus),
        "--index-dir",
        str(index_dir),
    ]
    builds = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [b.communicate(timeout=600) for b in builds]
    assert [b.returncode for b in builds] == [0, 0], outputs
    settings = _settings(small_corpus, index_dir)
    live = indexing.check(settings)
    assert [p.name for p in index_dir.iterdir() if p.name.startswith("build-")] == [live.name]
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
    assert len(indexing.load(live).chunks) > 40


def test_dense_index_turns_approximate_when_the_corpus_crosses_the_threshold(
    small_corpus: Path, tmp_path: Path, encoder: Encoder
) -> None:
    settings = replace(_settings(small_corpus, tmp_path / "index"), approximate_above=60)
    small = indexing.open_index(settings, encoder)
    assert len(small.chunks) <= 60 and small.manifest["vector_index"] == {"type": "flat"}
    # A second document takes the corpus over the threshold: rebuilt, now with HNSW.
    (small_corpus / "copie.txt").write_text((small_corpus / "chevening-briefing.fr.txt").read_text("utf-8"), "utf-8")
    large = indexing.open_index(settings, encoder)
    assert len(large.chunks) > 60 and large.path != small.path
    params = large.manifest["vector_index"]
    assert params["type"] == "hnsw" and params["M"] > 0 and params["efSearch"] >= 10
    assert isinstance(large.dense, faiss.IndexHNSWFlat)
    # On a corpus this small the approximate search finds what exact search finds. (Compared as sets:
    # the copy's chunks have exactly the vectors of the original's, so tied pairs come in either order.)
    vectors = encoder.encode(["Qui organise la réunion ?", "Quel est le rôle du MI6 ?"], role=QUERY)
    exact = faiss.IndexFlatIP(large.dense.d)
    exact.add(large.dense.reconstruct_n(0, large.dense.ntotal))
    approximate_ids, exact_ids = large.dense.search(vectors, 10)[1], exact.search(vectors, 10)[1]
    recall = [len(set(a) & set(e)) / 10 for a, e in zip(approximate_ids.tolist(), exact_ids.tolist(), strict=True)]
    assert min(recall) >= 0.9, recall
    # The threshold is part of what the index depends on: changing it rebuilds.
    with pytest.raises(indexing.StaleIndex, match="settings changed"):
        indexing.check(replace(settings, approximate_above=20_000))
