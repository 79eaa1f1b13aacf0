"""Build, verify and open the index: corpus -> chunks -> FAISS + BM25 + metadata, written atomically.

Layout of the index folder::

    CURRENT          name of the live build, replaced atomically (os.replace) after a build is complete
    .lock            held while building, so two builds never interleave
    build-*/         one complete build: manifest.json, chunks.jsonl (+ chunk-lines.npy,
                     chunk-unit-counts.npy), documents.json, dense.faiss, unit-vectors.npy,
                     bm25-words/, bm25-chargrams/ (and unit_ twins), vocabulary.json

A build killed at any point leaves CURRENT pointing at the previous, complete build.
Opening checks the manifest against the corpus and settings and every file's checksum; a
missing, stale or broken index is rebuilt, with one log line saying why.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock, Timeout

from qa.core.files import write_atomically
from qa.core.model import Chunk, Document
from qa.encode.embedding import PASSAGE, Encoder
from qa.encode.onnx_encoder import file_digest
from qa.index import chunk_store, vector_index
from qa.index.chunk_store import ChunkStore
from qa.index.lexical_index import LexicalIndex
from qa.ingest.chunking import chunk_documents, unit_text
from qa.ingest.reader import corpus_files, read_corpus, unreadable_reason
from qa.settings import Settings

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK_TIMEOUT_S = 900


class IndexBuildError(Exception):
    """The index cannot be built or written; the message says why (disk full, read-only...)."""


class StaleIndex(Exception):
    """The index on disk cannot be used as it is; the message is the reason to rebuild."""


@dataclass(frozen=True)
class LoadedIndex:
    path: Path
    manifest: dict[str, Any]
    chunks: Sequence[Chunk]  # a ChunkStore when loaded: read from disk as asked for
    documents: dict[str, str]
    dense: faiss.Index
    unit_vectors: np.ndarray  # one row per unit, in chunk order
    unit_owner: np.ndarray  # chunk id of each unit row
    unit_offset: np.ndarray  # first unit row of each chunk
    unit_count: np.ndarray  # number of units of each chunk
    lexical: LexicalIndex
    # Each document's title (its first heading or line), by path: a field of its own for ranking.
    titles: dict[str, str] = field(default_factory=dict)
    # Each document's description (path, title, format, date, language, pages, characters), by path.
    catalogue: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Offsets of each document's line breaks, computed on first use (citations give line numbers).
    _newlines: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def line_of(self, doc: str, offset: int) -> int:
        newlines = self._newlines.get(doc)
        if newlines is None:
            code_points = np.frombuffer(self.documents[doc].encode("utf-32-le"), dtype=np.uint32)
            newlines = self._newlines.setdefault(doc, np.flatnonzero(code_points == ord("\n")))
        return int(np.searchsorted(newlines, offset)) + 1

    def chunks_of(self, documents: frozenset[str]) -> np.ndarray:
        """Whether each chunk belongs to one of ``documents`` (a boolean per chunk id)."""
        mask = np.zeros(len(self.chunks), dtype=bool)
        for doc in documents:
            first, end = self.catalogue[doc]["chunks"]
            mask[first:end] = True
        return mask

    def page_of(self, doc: str, offset: int) -> int | None:
        """1-based page of an offset in a PDF (None for documents without pages)."""
        pages = self.catalogue.get(doc, {}).get("pages") or ()
        return int(np.searchsorted(pages, offset, side="right")) if pages else None


def corpus_fingerprint(corpus_dir: Path, max_bytes: int) -> dict[str, str]:
    """sha256 of every indexable file, by relative path: any edit, addition or removal shows.
    A file that is not read (see reader.unreadable_reason) counts by its size and time instead."""
    files = {}
    for path in sorted(corpus_files(corpus_dir)):
        rel = path.relative_to(corpus_dir).as_posix()
        try:
            if unreadable_reason(path, max_bytes) is None:
                files[rel] = file_digest(path)
            else:
                info = path.lstat()
                files[rel] = f"skipped:{info.st_size}:{info.st_mtime_ns}"
        except OSError:
            files[rel] = "unreadable"
    return files


def change_signature(settings: Settings) -> tuple[object, ...]:
    """Sizes and modification times of the corpus files, and the CURRENT pointer: cheap to read,
    and different whenever a document is edited, added or removed, or another build went live."""
    stats = []
    for path in sorted(corpus_files(settings.corpus_dir)):
        try:
            info = path.stat()
            stats.append((str(path), info.st_size, info.st_mtime_ns))
        except OSError:
            stats.append((str(path), -1, -1))
    build = current_build(settings.index_dir)
    return (tuple(stats), build.name if build else "")


def _digest(parts: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _versions() -> dict[str, str]:
    names = [
        "faiss-cpu",
        "bm25s",
        "PyStemmer",
        "sentence-transformers",
        "onnxruntime",
        "langchain-text-splitters",
        "pysbd",
    ]
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    found["python"] = platform.python_version()
    return found


def current_build(index_dir: Path) -> Path | None:
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text("utf-8").strip()
    except OSError:
        return None
    if not name or "/" in name or name.startswith("."):
        return None
    return index_dir / name


def check(settings: Settings, encoder: Encoder | None = None) -> Path:
    """Return the live build folder if it matches corpus, settings and (when given) the encoder's
    weights and tokenizer; raise StaleIndex otherwise."""
    build = current_build(settings.index_dir)
    if build is None:
        raise StaleIndex("no index yet")
    try:
        manifest = json.loads((build / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise StaleIndex(f"manifest unreadable ({exc.__class__.__name__})") from exc
    if manifest.get("settings") != settings.fingerprint():
        raise StaleIndex("settings changed (model or chunking)")
    if _encoder_changed(manifest, encoder):
        raise StaleIndex("the encoder changed (its weights or tokenizer)")
    corpus = corpus_fingerprint(settings.corpus_dir, settings.max_document_bytes)
    if manifest.get("corpus", {}).get("hash") != _digest(corpus):
        raise StaleIndex("corpus changed")
    broken = _first_broken_file(build, manifest)
    if broken:
        raise StaleIndex(f"index file {broken} is missing or corrupted")
    return build


def _first_broken_file(build: Path, manifest: dict[str, Any]) -> str | None:
    """The first file of the build that is missing or whose checksum differs from the manifest's."""
    for name, expected in manifest.get("files", {}).items():
        path = build / name
        if not path.is_file() or file_digest(path) != expected:
            return name
    return None


def load(build: Path) -> LoadedIndex:
    manifest = json.loads((build / MANIFEST).read_text("utf-8"))
    chunks = ChunkStore.open(build)
    docs = json.loads((build / "documents.json").read_text("utf-8"))
    # Memory-mapped: large corpora only touch the rows of the candidates' units. Read through a plain
    # ndarray view of the mapping: np.memmap's Python-level indexing costs microseconds per slice.
    unit_vectors = np.asarray(np.load(build / "unit-vectors.npy", mmap_mode="r", allow_pickle=False))
    counts = chunk_store.unit_counts(build)
    unit_offset = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(chunks) else np.zeros(0, np.int64)
    return LoadedIndex(
        path=build,
        manifest=manifest,
        chunks=chunks,
        documents={d["path"]: d["text"] for d in docs},
        titles={d["path"]: d.get("title", "") for d in docs},
        catalogue={d["path"]: {k: v for k, v in d.items() if k != "text"} for d in docs},
        dense=vector_index.load(build / "dense.faiss", manifest["vector_index"]),
        unit_vectors=unit_vectors,
        unit_owner=np.repeat(np.arange(len(chunks), dtype=np.int64), counts),
        unit_offset=unit_offset,
        unit_count=counts,
        lexical=LexicalIndex.load(build),
    )


def open_index(settings: Settings, encoder: Encoder) -> LoadedIndex:
    """The usable index for these settings: loaded if fresh, else (re)built first."""
    try:
        return load(check(settings, encoder))
    except StaleIndex as reason:
        log.info("index: %s, building it in %s", reason, settings.index_dir)
        try:
            return load(build(settings, encoder))
        except IndexBuildError as exc:
            previous = _previous_build(settings)
            if previous is None:
                raise
            # Out of date beats no answers at all: keep serving what was built, and say so.
            log.error("index: %s; serving the previous index %s (%s)", exc, previous.path.name, reason)
            return previous
    except Exception as exc:  # a build that passes its checksums but does not load: replace it
        log.warning("index: unreadable (%s: %s), rebuilding in %s", type(exc).__name__, exc, settings.index_dir)
        return load(build(settings, encoder, force=True))


def _previous_build(settings: Settings) -> LoadedIndex | None:
    """The live build even if stale (corpus or settings changed), when it is intact and loads."""
    build = current_build(settings.index_dir)
    if build is None:
        return None
    try:
        manifest = json.loads((build / MANIFEST).read_text("utf-8"))
        return None if _first_broken_file(build, manifest) else load(build)
    except Exception:  # missing, corrupted or unloadable: there is nothing to fall back on
        return None


def build(settings: Settings, encoder: Encoder, force: bool = False) -> Path:
    """Build the index under a lock and switch CURRENT to it; returns the new build folder."""
    index_dir = settings.index_dir
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(index_dir / ".lock"), timeout=LOCK_TIMEOUT_S)
        with lock:
            if not force:
                try:  # another process may have built it while we waited for the lock
                    return check(settings, encoder)
                except StaleIndex:
                    pass
            return _build_locked(settings, encoder)
    except Timeout as exc:
        raise IndexBuildError(f"index folder {index_dir} is locked by another build for too long") from exc
    except OSError as exc:
        raise IndexBuildError(f"cannot write the index in {index_dir}: {exc.strerror or exc}") from exc


def _model_record(settings: Settings, encoder: Encoder, dimension: int) -> dict[str, Any]:
    """The model behind the vectors; with an ONNX export, its SHA-256 and its tokenizer's (which
    weights and which reading of the text made them)."""
    record = {"name": settings.model, "dimension": dimension, "encoder": encoder.backend}
    return {**record, **_encoder_digests(encoder)}


def _encoder_digests(encoder: Encoder) -> dict[str, str]:
    return {
        "sha256": getattr(encoder, "model_sha256", ""),
        "tokenizer_sha256": getattr(encoder, "tokenizer_sha256", ""),
    }


def _encoder_changed(manifest: dict[str, Any], encoder: Encoder | None) -> bool:
    """True when the vectors were made by other weights or another tokenizer than encoder's (known
    only for ONNX exports: a torch model has no digest, and is never taken for changed)."""
    if encoder is None:
        return False
    built = manifest.get("model", {})
    return any(now and built.get(name) != now for name, now in _encoder_digests(encoder).items())


def _build_locked(settings: Settings, encoder: Encoder) -> Path:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    corpus = corpus_fingerprint(settings.corpus_dir, settings.max_document_bytes)
    documents, problems = read_corpus(settings.corpus_dir, settings.max_document_bytes)
    chunks = chunk_documents(documents, settings.chunk_size, settings.chunk_overlap)
    timings["parse_chunk_s"] = time.perf_counter() - started

    mark = time.perf_counter()
    show = len(chunks) > 500
    chunk_vectors = encoder.encode([c.index_text for c in chunks], role=PASSAGE, show_progress=show)
    texts = {d.path: d.text for d in documents}
    unit_texts = [unit_text(texts[c.doc], u) for c in chunks for u in c.units]
    unit_vectors = encoder.encode(unit_texts, role=PASSAGE, show_progress=show)
    timings["embed_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    dense, dense_params = vector_index.build(chunk_vectors, settings.approximate_above)
    lexical = LexicalIndex.build([c.index_text for c in chunks], unit_texts)
    timings["index_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    index_dir = settings.index_dir
    build_dir = index_dir / f"build-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp_dir = index_dir / f".tmp-{build_dir.name}"
    tmp_dir.mkdir()
    try:
        files = _write_parts(tmp_dir, documents, chunks, unit_vectors, dense, lexical)
        timings["write_s"] = time.perf_counter() - mark
        manifest = {
            "format": settings.index_format,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "settings": settings.fingerprint(),
            "corpus": {"hash": _digest(corpus), "files": corpus, "problems": problems},
            "model": _model_record(settings, encoder, int(chunk_vectors.shape[1])),
            "vector_index": dense_params,
            "counts": {"documents": len(documents), "chunks": len(chunks), "units": len(unit_texts)},
            "versions": _versions(),
            "timings": {k: round(v, 3) for k, v in timings.items()},
            "files": files,
        }
        (tmp_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
        _fsync_tree(tmp_dir)
        os.replace(tmp_dir, build_dir)
        write_atomically(index_dir / CURRENT, build_dir.name)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    _remove_old_builds(index_dir, keep=build_dir.name)
    log.info(
        "index: built %d chunks from %d document(s) in %.1f s -> %s",
        len(chunks),
        len(documents),
        time.perf_counter() - started,
        build_dir,
    )
    return build_dir


def _write_parts(
    folder: Path,
    documents: list[Document],
    chunks: list[Chunk],
    unit_vectors: np.ndarray,
    dense: faiss.Index,
    lexical: LexicalIndex,
) -> dict[str, str]:
    """Write the index's files into folder; returns each file's SHA-256, for the manifest."""
    chunk_store.write(chunks, folder)
    # Chunks are made document by document: each document's chunk ids are one range [first, end).
    ranges: dict[str, list[int]] = {}
    for chunk in chunks:
        ranges.setdefault(chunk.doc, [chunk.id, chunk.id])[1] = chunk.id + 1
    docs_json = [
        {
            "path": d.path,
            "title": d.title,
            "format": d.format,
            "date": d.date,
            "language": d.language,
            "pages": list(d.pages),
            "chars": len(d.text),
            "chunks": ranges.get(d.path, [0, 0]),
            "text": d.text,
        }
        for d in documents
    ]
    (folder / "documents.json").write_text(json.dumps(docs_json, ensure_ascii=False), "utf-8")
    np.save(folder / "unit-vectors.npy", unit_vectors, allow_pickle=False)
    vector_index.save(dense, folder / "dense.faiss")
    lexical.save(folder)
    return {p.relative_to(folder).as_posix(): file_digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def _remove_old_builds(index_dir: Path, keep: str) -> None:
    for path in index_dir.iterdir():
        stale_build = path.name.startswith("build-") and path.name != keep
        if stale_build or path.name.startswith(".tmp-build-"):
            shutil.rmtree(path, ignore_errors=True)
