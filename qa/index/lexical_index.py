"""The lexical indexes: BM25 (bm25s) over French word stems and over character n-grams.

Two analyzers: stems match inflected French words exactly ("négociations" / "négociation");
character n-grams forgive typos, missing accents and French/English cognates ("security" /
"sécurité"). Each runs at two granularities: whole chunks, and units (sentences, bullets,
table rows with their header), where one precise sentence is not diluted by its paragraph.
Saved as JSON and NumPy by bm25s.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from qa.core.text import char_ngrams, content_words, word_tokens

ANALYZERS: dict[str, Callable[[str], list[str]]] = {"words": word_tokens, "chargrams": char_ngrams}
VOCABULARY_FILE = "vocabulary.json"
MIN_TOKENS_KEPT = 5
# Score arrays kept for reuse (one question asks for about six; two questions may run at once).
RECENT_SCORES = 16


@dataclass
class LexicalIndex:
    fields: dict[str, bm25s.BM25]
    # Folded surface words of the corpus with their counts: the dictionary for spelling correction.
    vocabulary: dict[str, int]
    _recent: OrderedDict[tuple[str, tuple[str, ...], float], np.ndarray] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    _recent_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def build(cls, chunk_texts: list[str], unit_texts: list[str] | None = None) -> LexicalIndex:
        fields = {}
        granularities = {"": chunk_texts, "unit_": unit_texts if unit_texts is not None else chunk_texts}
        for prefix, texts in granularities.items():
            for name, analyze in ANALYZERS.items():
                bm25 = bm25s.BM25()
                # An empty token list would make bm25s fail; "" is its own empty-token convention.
                bm25.index([analyze(t) or [""] for t in texts] or [[""]], show_progress=False)
                fields[prefix + name] = bm25
        vocabulary = Counter(w for t in chunk_texts for w in content_words(t))
        return cls(fields=fields, vocabulary=dict(vocabulary))

    def n_docs(self, field: str = "words") -> int:
        return int(self.fields[field].scores["num_docs"])

    def scores(self, field: str, tokens: list[str], max_df_share: float = 1.0) -> np.ndarray:
        """BM25 score of every document of the field for these tokens (read-only: shared with later callers).

        The last few results are kept: the rankers, then the learned re-ranker and unit selector,
        ask for the same question's scores.
        """
        key = (field, tuple(tokens), max_df_share)
        with self._recent_lock:
            found = self._recent.get(key)
            if found is not None:
                self._recent.move_to_end(key)
                return found
        result = self._scores(field, tokens, max_df_share)
        result.flags.writeable = False
        with self._recent_lock:
            self._recent[key] = result
            while len(self._recent) > RECENT_SCORES:
                self._recent.popitem(last=False)
        return result

    def _scores(self, field: str, tokens: list[str], max_df_share: float) -> np.ndarray:
        """BM25 score of every document of the field for these tokens.

        ``max_df_share`` < 1 leaves out tokens found in more than that share of the documents
        (keeping the rarest few if none is left): on large corpora, common character n-grams
        ("_de", "ion") have posting lists of most documents and weigh almost nothing.
        """
        bm25 = self.fields[field]
        ids = bm25.get_tokens_ids([t for t in tokens if t])
        if ids and max_df_share < 1.0:
            indptr = bm25.scores["indptr"]
            df = {i: int(indptr[i + 1] - indptr[i]) for i in set(ids)}
            limit = max_df_share * self.n_docs(field)
            ids = [i for i in ids if df[i] <= limit] or sorted(ids, key=df.__getitem__)[:MIN_TOKENS_KEPT]
        if not ids:
            return np.zeros(self.n_docs(field), dtype=np.float32)
        if bm25.nonoccurrence_array is not None:  # BM25L/BM25+ variants add a per-token constant
            return np.asarray(bm25.get_scores_from_ids(ids), dtype=np.float32)
        return _summed_postings(bm25, ids, self.n_docs(field))

    def postings(self, field: str, token: str) -> np.ndarray:
        """Ids of the chunks that contain token."""
        bm25 = self.fields[field]
        token_id = bm25.vocab_dict.get(token)
        if token_id is None:
            return np.zeros(0, dtype=np.int64)
        indptr = bm25.scores["indptr"]
        return np.asarray(bm25.scores["indices"][indptr[token_id] : indptr[token_id + 1]])

    def idf(self, field: str, token: str) -> float:
        df = len(self.postings(field, token))
        n = self.n_docs(field)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def save(self, directory: Path) -> None:
        for name, bm25 in self.fields.items():
            bm25.save(str(directory / f"bm25-{name}"), allow_pickle=False)
        (directory / VOCABULARY_FILE).write_text(json.dumps(self.vocabulary, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        # Memory-mapped: the postings are paged in as queries read them (100 000 chunks: ~800 MB).
        fields = {
            name: bm25s.BM25.load(str(directory / f"bm25-{name}"), load_corpus=False, mmap=True, allow_pickle=False)
            for prefix in ("", "unit_")
            for name in (prefix + analyzer for analyzer in ANALYZERS)
        }
        for bm25 in fields.values():
            # Plain ndarray views of the mappings: np.memmap's Python-level indexing costs microseconds
            # per slice, and a question slices them hundreds of times.
            bm25.scores = {k: np.asarray(v) if isinstance(v, np.ndarray) else v for k, v in bm25.scores.items()}
        vocabulary = json.loads((directory / VOCABULARY_FILE).read_text("utf-8"))
        return cls(fields=fields, vocabulary=vocabulary)


def _summed_postings(bm25: bm25s.BM25, token_ids: list[int], n_docs: int) -> np.ndarray:
    """Each document's sum of the precomputed BM25 terms of these tokens (a token asked twice counts twice).

    What bm25s's ``get_scores_from_ids`` computes, but in one gather and one ``bincount``: without
    numba, bm25s slices the postings token by token and adds them with ``np.add.at``, which took
    0.9 ms for the ~150 character n-grams of a question over the briefing's 55 chunks (now 0.1 ms).
    """
    matrix = bm25.scores
    ids = np.asarray(token_ids, dtype=np.int64)
    starts = matrix["indptr"][ids].astype(np.int64)
    lengths = matrix["indptr"][ids + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(n_docs, dtype=np.float32)
    positions = concatenated_ranges(starts, lengths)
    summed = np.bincount(matrix["indices"][positions], weights=matrix["data"][positions], minlength=n_docs)
    return summed.astype(np.float32)


def concatenated_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``np.concatenate([np.arange(s, s + n) for s, n in zip(starts, lengths)])`` without the Python loop.

    >>> concatenated_ranges(np.array([10, 3]), np.array([2, 3])).tolist()
    [10, 11, 3, 4, 5]
    """
    firsts = np.cumsum(lengths) - lengths  # where each range begins in the output
    return np.repeat(starts - firsts, lengths) + np.arange(int(lengths.sum()))
