"""Hybrid retrieval: six rankers over the chunks, fused by weighted reciprocal rank.

Rankers:
- ``words``: BM25 over French stems (exact vocabulary, inflection-aware);
- ``chargrams``: BM25 over character n-grams (typos, accents, cognates);
- ``unit_words``, ``unit_chargrams``: the same over units (sentence, bullet, row with header),
  a chunk taking its best unit's score;
- ``dense``: cosine between the question and each chunk's embedding (FAISS);
- ``units``: best cosine between the question and any sentence/bullet/row of the chunk, which
  keeps one precise sentence from being diluted in a long paragraph.

Reciprocal-rank fusion needs no score calibration between rankers, which matters here: the
English MiniLM gives French texts compressed, noisy cosines while BM25 scores are unbounded.
After fusion, the passages that name none of the question's rare names are demoted.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np

from qa.core.model import Passage
from qa.core.pipeline import Work
from qa.index import vector_index
from qa.index.indexing import LoadedIndex
from qa.index.lexical_index import concatenated_ranges
from qa.query.analysis import Query
from qa.settings import NameMatching

# Above this many units, unit similarities are computed for the other rankers' candidates only.
FULL_UNIT_SCAN_LIMIT = 50_000
# In fields of more than PRUNE_ABOVE documents, character n-grams found in more than this share
# of them are not scored: their postings are most of the corpus and their weight next to nothing
# (100 000 chunks: 2 million postings a question). Small corpora, the briefing's included, are
# scored exactly.
PRUNE_ABOVE = 5_000
PRUNED_MAX_DF_SHARE = 0.05


@dataclass(frozen=True)
class Rankings:
    """Each ranker's ordered chunk ids (best first), before fusion."""

    order: dict[str, np.ndarray]


def rank(index: LoadedIndex, query: Query, query_vector: np.ndarray, weights: dict[str, float], depth: int) -> Rankings:
    order: dict[str, np.ndarray] = {}
    for lexical_field, tokens in (("words", query.words), ("chargrams", query.chargrams)):
        for name in (lexical_field, "unit_" + lexical_field):
            if weights.get(name):
                large = lexical_field == "chargrams" and index.lexical.n_docs(name) > PRUNE_ABOVE
                raw = index.lexical.scores(name, tokens, PRUNED_MAX_DF_SHARE if large else 1.0)
                order[name] = _top_chunks_by_unit(raw, index, depth) if name.startswith("unit_") else _top(raw, depth)
    if weights.get("dense"):
        _sims, ids = vector_index.search(index.dense, query_vector, depth)
        order["dense"] = ids
    if weights.get("units") and len(index.unit_vectors):
        order["units"] = _top_by_best_unit_similarity(
            index, query_vector, _candidates(order, len(index.chunks), index), depth
        )
    return Rankings(order=order)


def max_per_chunk(unit_scores: np.ndarray, index: LoadedIndex, empty: float = 0.0) -> np.ndarray:
    """Best unit score of each chunk (units are stored chunk by chunk, so one reduceat does it)."""
    per_chunk = np.full(len(index.chunks), empty, dtype=np.float32)
    has_units = index.unit_count > 0
    if len(index.unit_owner):
        per_chunk[has_units] = np.maximum.reduceat(unit_scores[: len(index.unit_owner)], index.unit_offset[has_units])
    return per_chunk


def _top_chunks_by_unit(unit_scores: np.ndarray, index: LoadedIndex, depth: int) -> np.ndarray:
    """The depth chunks whose best unit scores highest, best first.

    Ranking a few times depth of the best units and keeping each chunk's first appearance gives
    the same order as a max over every chunk's units, without touching all of them.
    """
    for units_wanted in (depth * 8, len(unit_scores)):
        units = _top(unit_scores, units_wanted)
        owners = index.unit_owner[units]
        _, first = np.unique(owners, return_index=True)
        chunks = owners[np.sort(first)]
        if len(chunks) >= depth or len(units) < units_wanted:
            return chunks[:depth]
    return chunks[:depth]


def _top(raw: np.ndarray, depth: int) -> np.ndarray:
    positive = np.flatnonzero(raw > 0)
    if len(positive) > depth:
        positive = positive[np.argpartition(-raw[positive], depth)[:depth]]
    return positive[np.argsort(-raw[positive], kind="stable")]


def _candidates(order: dict[str, np.ndarray], n_chunks: int, index: LoadedIndex) -> np.ndarray:
    if len(index.unit_vectors) <= FULL_UNIT_SCAN_LIMIT or not order:
        return np.arange(n_chunks)
    return np.unique(np.concatenate(list(order.values())))


def _top_by_best_unit_similarity(
    index: LoadedIndex, query_vector: np.ndarray, chunk_ids: np.ndarray, depth: int
) -> np.ndarray:
    if len(chunk_ids) == len(index.chunks):  # every unit: vectorised, no per-chunk Python
        per_chunk = max_per_chunk(index.unit_vectors @ query_vector, index, empty=-2.0)
        return _top(per_chunk + 2.0, depth)  # shifted so that every chunk with units is positive
    best = unit_best_similarity(index, query_vector, chunk_ids)
    return np.array(sorted(best, key=best.__getitem__, reverse=True)[:depth], dtype=np.int64)


def unit_best_similarity(index: LoadedIndex, query_vector: np.ndarray, chunk_ids: np.ndarray) -> dict[int, float]:
    """Max cosine between the question and the units of each chunk, for a few given chunks."""
    ids = np.unique(np.asarray(chunk_ids, dtype=np.int64))
    ids = ids[index.unit_count[ids] > 0]
    if not len(ids):
        return {}
    counts = index.unit_count[ids]
    # One product over the candidates' units, gathered in chunk order, then each chunk's maximum.
    sims = index.unit_vectors[concatenated_ranges(index.unit_offset[ids], counts)] @ query_vector
    best = np.maximum.reduceat(sims, np.cumsum(counts) - counts)
    return dict(zip(ids.tolist(), best.tolist(), strict=True))


def fuse(rankings: Rankings, weights: dict[str, float], rrf_k: int) -> list[tuple[int, float, dict[str, int]]]:
    """Weighted reciprocal-rank fusion; fused scores are scaled to [0, 1] (1: first for every ranker)."""
    fused: dict[int, float] = {}
    ranks: dict[int, dict[str, int]] = {}
    for name, ids in rankings.order.items():
        weight = weights.get(name, 0.0)
        for position, cid in enumerate(ids, start=1):
            cid = int(cid)
            fused[cid] = fused.get(cid, 0.0) + weight / (rrf_k + position)
            ranks.setdefault(cid, {})[name] = position
    ceiling = sum(weights.get(name, 0.0) for name in rankings.order) / (rrf_k + 1) or 1.0
    ordered = sorted(fused, key=lambda cid: (-fused[cid], cid))
    return [(cid, fused[cid] / ceiling, ranks[cid]) for cid in ordered]


def naming_chunks(
    index: LoadedIndex, names: list[tuple[tuple[str, ...], ...]], rare_share: float = NameMatching.rare_share
) -> set[int] | None:
    """Ids of the chunks that name at least one of the rare names (in at most ``rare_share`` of the
    chunks); None when no name is rare."""
    limit = rare_share * len(index.chunks)
    found: np.ndarray | None = None
    for alternatives in names:
        spellings = []
        for stems in alternatives:
            postings = [index.lexical.postings("words", s) for s in stems]
            if postings:
                spellings.append(postings[0] if len(postings) == 1 else functools.reduce(np.intersect1d, postings))
        # A common name ("Ukraine": tens of thousands of postings in a large corpus) is skipped before
        # any set operation: one spelling over the limit puts the name over it.
        if not spellings or any(len(p) > limit for p in spellings):
            continue
        spelled = functools.reduce(np.union1d, spellings)
        if 0 < len(spelled) <= limit:
            found = spelled if found is None else np.union1d(found, spelled)
    return None if found is None else set(found.tolist())


def demote_missing_names(
    fused: list[tuple[int, float, dict[str, int]]],
    naming: set[int] | None,
    factor: float = NameMatching.missing_factor,
) -> list[tuple[int, float, dict[str, int]]]:
    """Scale the score of the chunks outside ``naming`` by ``factor``, and re-sort."""
    if naming is None:
        return fused
    scaled = [(cid, score if cid in naming else score * factor, ranks) for cid, score, ranks in fused]
    return sorted(scaled, key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class Rank:
    """Ranks the chunks with every ranker for every variant of the question.

    A follow-up has two variants, the question alone and the question with the previous one:
    passages that both rank high ("Et la Russie ?" in a talk about the meeting) come first, as
    each variant's lists are fused together. ``weights``: each ranker's weight in the fusion
    (a ranker weighing 0 does not run); each is a part that can be left out.
    """

    weights: tuple[tuple[str, float], ...]
    name: str = "ranking"
    timing: str = "rank"

    def parts(self) -> tuple[str, ...]:
        return tuple(name for name, weight in self.weights if weight)

    def without(self, name: str) -> Rank:
        return replace(self, weights=tuple((ranker, w) for ranker, w in self.weights if ranker != name))

    def run(self, work: Work) -> None:
        weights = dict(self.weights)
        assert work.vectors is not None
        # Asked of some documents only: every chunk is ranked, so that theirs are all among the lists.
        depth = len(work.index.chunks) if work.documents is not None else work.depth
        for number, (query, vector) in enumerate(zip(work.variants, work.vectors, strict=True)):
            suffix = f"@{number + 1}" if number else ""
            rankings = rank(work.index, query, vector, weights, depth)
            for name, ids in rankings.order.items():
                work.rankings[name + suffix] = ids
                work.ranking_weights[name + suffix] = weights[name]


@dataclass(frozen=True)
class Fuse:
    """Fuses every ranker's list by weighted reciprocal rank (``rrf_k``: the rank offset)."""

    rrf_k: int
    name: str = "fusion"
    timing: str = "fuse"

    def run(self, work: Work) -> None:
        work.fused = fuse(Rankings(work.rankings), work.ranking_weights, self.rrf_k)


@dataclass(frozen=True)
class DemoteMissingNames:
    """Demotes the passages that name none of the rare names of the question asked now."""

    matching: NameMatching = field(default_factory=NameMatching)
    name: str = "question_names"
    timing: str = "fuse"

    def run(self, work: Work) -> None:
        # A follow-up that names nothing ("Et sa superficie ?") is about the names of the question it
        # leans on: those of its reading with that question.
        names = work.query.names or (work.variants[-1].names if len(work.variants) > 1 else ())
        naming = naming_chunks(work.index, names, self.matching.rare_share)
        work.fused = demote_missing_names(work.fused, naming, self.matching.missing_factor)


@dataclass(frozen=True)
class StayNearPreviousAnswer:
    """A follow-up is answered next to the answer before it ("Et celui de la Maison Blanche ?" after
    "Quel est le rôle de Downing Street ?" reads on down the same table): the candidates outside the
    previous answer's section have their score scaled by ``factor``, those outside the passage it was
    quoted from by ``chunk_factor`` too, and are re-sorted."""

    factor: float
    chunk_factor: float = 1.0
    name: str = "previous_section"
    timing: str = "fuse"

    def run(self, work: Work) -> None:
        near = work.previous_answer
        if near is None or self.factor == self.chunk_factor == 1.0:
            return
        factors = [
            (1.0 if p.chunk.id == near.chunk else self.chunk_factor)
            * (1.0 if (p.chunk.doc, p.chunk.section_index) == (near.doc, near.section) else self.factor)
            for p in work.passages
        ]
        work.passages = _rescaled(work.passages, factors)


def _rescaled(passages: list[Passage], factors: list[float]) -> list[Passage]:
    """The passages with their scores multiplied by the factors, best first, renumbered."""
    scores = [p.score * f for p, f in zip(passages, factors, strict=True)]
    order = sorted(range(len(passages)), key=lambda i: (-scores[i], i))
    return [replace(passages[i], rank=position, score=scores[i]) for position, i in enumerate(order, start=1)]


@dataclass(frozen=True)
class KeepCandidates:
    """Keeps the best ``work.depth`` fused chunks (of the documents asked, if given) as the
    candidate passages, numbered from 1."""

    name: str = "candidates"
    timing: str = "fuse"

    def run(self, work: Work) -> None:
        chunks, fused = work.index.chunks, work.fused
        if work.documents is not None:
            asked = work.index.chunks_of(work.documents)
            fused = [item for item in fused if asked[item[0]]]
        work.passages = [
            Passage(chunk=chunks[cid], rank=position, score=score, ranks=ranks)
            for position, (cid, score, ranks) in enumerate(fused[: work.depth], start=1)
        ]
