"""The dense index: FAISS inner product over L2-normalised vectors (cosine similarity).

Exact search (``IndexFlatIP``) for corpora up to ``settings.approximate_above`` vectors
(20 000 by default), HNSW above, where exact search stops being cheap; the choice and its
parameters go into the manifest. Crossing the threshold changes the corpus, so the index is
rebuilt and the type chosen again.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def index_params(count: int, approximate_above: int) -> dict[str, object]:
    if count <= approximate_above:
        return {"type": "flat"}
    return {"type": "hnsw", "M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}


def build(vectors: np.ndarray, approximate_above: int) -> tuple[faiss.Index, dict[str, object]]:
    params = index_params(len(vectors), approximate_above)
    dim = vectors.shape[1]
    if params["type"] == "flat":
        index: faiss.Index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    _configure(index, params)
    return index, params


def _configure(index: faiss.Index, params: dict[str, object]) -> None:
    if params.get("type") == "hnsw":
        faiss.downcast_index(index).hnsw.efSearch = int(params["efSearch"])  # type: ignore[arg-type]


def save(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load(path: Path, params: dict[str, object]) -> faiss.Index:
    # One question at a time: OpenMP's thread start-up costs more than it saves (10 000 vectors,
    # flat: 14 ms with 2 threads, about 1 ms with one); concurrency comes from serving threads.
    faiss.omp_set_num_threads(1)
    index = faiss.read_index(str(path))
    _configure(index, params)
    return index


def search(index: faiss.Index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) for one query vector; ids of -1 (fewer vectors than k) are dropped."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    scores, ids = index.search(query.reshape(1, -1), k)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
