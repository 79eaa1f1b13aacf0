"""Learned stages: a passage re-ranker and an answer-unit selector, both LightGBM models.

The hand-made stages stay: fusion gives the candidates and their ranks, the unit scorer gives
each unit's word, n-gram and meaning evidence. The learned models weigh that evidence, with
what the hand-made stages do not see (the document's title, how many of the candidates come
from the same document, the answer's shape), as learned from span-located questions
(``briefing-qa fit``: PIAF dev and the tuning part of the bundled set, cross-validated by
document).

A model file is JSON: the feature names, what it was fitted on, its cross-validated scores,
LightGBM's own text model and the same trees as lists, which the server evaluates with NumPy
(``TreeEnsemble``). Nothing is pickled.

>>> model = LearnedModel.load(learned_dir(DEFAULT_MODEL) / RERANKER_NAME, PASSAGE_FEATURES)   # doctest: +SKIP
>>> model.features[:3], len(model.trees)                         # doctest: +SKIP
(('fused', 'fused_rank', 'rr_words'), 200)
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.core.model import Kind, Passage
from qa.core.pipeline import Work
from qa.core.text import fold, stem_set, token_sets, word_tokens
from qa.index.indexing import LoadedIndex
from qa.ingest.chunking import unit_text
from qa.query.analysis import Query
from qa.query.answer_types import QUESTION_KINDS
from qa.query.coverage import TermWeights, covers
from qa.retrieve.retrieval import max_per_chunk, unit_best_similarity
from qa.settings import RERANKER_NAME, UNIT_SELECTOR_NAME

log = logging.getLogger(__name__)


RANKERS = ("words", "chargrams", "unit_words", "unit_chargrams", "dense", "units")
PASSAGE_KINDS = ("paragraph", "list", "table", "faq")
UNIT_KINDS = (Kind.SENTENCE, Kind.BULLET, Kind.TABLE_ROW, Kind.FAQ_QUESTION, Kind.FAQ_ANSWER)
PASSAGE_FEATURES: tuple[str, ...] = (
    "fused",
    "fused_rank",
    *(f"rr_{name}" for name in RANKERS),
    "rankers",
    "words",
    "body_words",
    "grams",
    "title_words",
    "heading_words",
    "best_unit_bm25",
    "best_unit_dense",
    "doc_share",
    "doc_candidates",
    "doc_first_rank",
    "typed",
    "wants_type",
    *(f"kind_{kind}" for kind in PASSAGE_KINDS),
    "log_chars",
    "position_in_doc",
    "question_terms",
    "english",
    "bm25_words",
    "bm25_grams",
    "new_numbers",
    "new_names",
    *(f"asks_{kind}" for kind in QUESTION_KINDS),
)
UNIT_FEATURES: tuple[str, ...] = (
    "hand_score",
    "dense",
    "words",
    "grams",
    "words_rank",
    "dense_rank",
    "words_gap",
    "passage_position",
    "passage_score",
    "passage_gap",
    "typed",
    "wants_type",
    "unit_position",
    "first_unit",
    "log_chars",
    "opens_on_reference",
    "previous_words",
    "next_words",
    "window_words",
    "bigrams",
    "bm25_words",
    "bm25_grams",
    "bm25_words_raw",
    "title_gain",
    "heading_gain",
    "proximity",
    "new_numbers",
    "new_names",
    *(f"kind_{kind}" for kind in UNIT_KINDS),
    *(f"asks_{kind}" for kind in QUESTION_KINDS),
)


def logistic(value: float) -> float:
    """1 / (1 + e^-x), bounded: a log-odds as a probability (the confidence, the learned models' scores)."""
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, float(value)))))


_NUMBER = re.compile(r"\d")


def new_tokens(text: str, question_words: frozenset[str]) -> tuple[int, int]:
    """Numbers and capitalised words of a text that the question does not write: candidate answers."""
    numbers, names = _numbers_and_names(text)
    return (
        sum(n for word, n in numbers.items() if word not in question_words),
        sum(n for word, n in names.items() if word not in question_words),
    )


@functools.lru_cache(maxsize=8192)  # the same passages meet question after question
def _numbers_and_names(text: str) -> tuple[dict[str, int], dict[str, int]]:
    numbers: dict[str, int] = {}
    names: dict[str, int] = {}
    for position, raw in enumerate(re.findall(r"\w+", text)):
        if _NUMBER.search(raw):
            numbers[fold(raw)] = numbers.get(fold(raw), 0) + 1
        elif raw[:1].isupper() and position > 0:
            names[fold(raw)] = names.get(fold(raw), 0) + 1
    return numbers, names


def _bigrams(words: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(words))


@functools.lru_cache(maxsize=8192)  # the same units meet question after question
def _text_bigrams(text: str) -> frozenset[tuple[str, str]]:
    return frozenset(_bigrams(word_tokens(text)))


@functools.lru_cache(maxsize=8192)  # the same units meet question after question
def _stem_sequence(text: str) -> tuple[str, ...]:
    return tuple(word_tokens(text))


def _proximity(terms: dict[Any, float], tokens: frozenset[str], body: str) -> float:
    """How closely the question's words stand together in a unit: the covered terms' stems per word of
    the stretch from the first to the last of them (their count when fewer than two occur)."""
    asked = {stem for term in terms if covers(term, tokens) for alternative in term for stem in alternative}
    positions = [i for i, stem in enumerate(_stem_sequence(body)) if stem in asked]
    if len(positions) < 2:
        return float(len(positions))
    return len(positions) / (positions[-1] - positions[0] + 1)


MAX_LEAVES = 64  # a tree's reachable leaves are the bits of one word


@dataclass(frozen=True)
class TreeEnsemble:
    """A LightGBM model's trees evaluated with NumPy: the server never imports lightgbm.

    (Importing it brings pandas, pyarrow, scikit-learn and their native pools into the process; under
    32 web clients that alone made RSS creep by 30 MiB in 90 s.) Every split is LightGBM's numerical
    ``value <= threshold`` (checked when fitted). Evaluated as QuickScorer does (Lucchese et al.,
    SIGIR 2015), every split at once rather than tree by tree, level by level: a tree's leaves are
    the bits of a word, numbered left to right; a split whose test fails (the row goes right) rules
    out the leaves on its left, and the row's leaf is the leftmost one no failed split ruled out. A
    model costs a few array operations whatever the depth of its trees. Every tree has as many
    splits (padded with splits that rule out nothing). Tested equal to LightGBM's predictions.
    """

    feature: np.ndarray  # (trees x splits) each split's feature, flat; a tree of n leaves has n - 1 splits
    threshold: np.ndarray
    rules_out: np.ndarray  # each split's word: all the tree's leaves but those on its left
    leaf_value: np.ndarray  # (trees, leaves) the leaves' values, left to right

    @classmethod
    def from_lists(cls, trees: list[dict[str, list[float]]]) -> TreeEnsemble:
        width = max(max(sum(f < 0 for f in t["feature"]) for t in trees), 2)
        if width > MAX_LEAVES:
            raise ValueError(f"a tree of {width} leaves: at most {MAX_LEAVES} are supported")
        word = next(dtype for dtype in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(dtype).bits >= width)
        splits = width - 1
        every = np.iinfo(word).max
        # The padding split: feature 0 <= inf holds (NaN aside) and rules out nothing either way.
        feature = np.zeros((len(trees), splits), dtype=np.int64)
        threshold = np.full((len(trees), splits), np.inf)
        rules_out = np.full((len(trees), splits), every, dtype=np.uint64)
        leaf_value = np.zeros((len(trees), width))
        for number, tree in enumerate(trees):
            leaves, found = _in_order(tree)
            for position, (split_feature, split_threshold, left_bits) in enumerate(found):
                feature[number, position] = split_feature
                threshold[number, position] = split_threshold
                rules_out[number, position] = every & ~left_bits
            leaf_value[number, : len(leaves)] = [tree["value"][leaf] for leaf in leaves]
        return cls(
            feature=feature.ravel(),
            threshold=threshold.ravel(),
            rules_out=rules_out.astype(word).ravel(),
            leaf_value=leaf_value,
        )

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """The summed leaf values (LightGBM's raw score) of each row, summed in the trees' order."""
        rows = np.asarray(matrix, dtype=np.float64)
        goes_left = rows[:, self.feature] <= self.threshold  # NaN goes right, as in LightGBM
        word = self.rules_out.dtype.type
        # A split passed rules out nothing (all bits set), a failed one its left leaves.
        words = self.rules_out | (goes_left.astype(word) * word(np.iinfo(word).max))
        trees, width = self.leaf_value.shape
        reachable = np.bitwise_and.reduce(words.reshape(len(rows), trees, width - 1), axis=2)
        leftmost = reachable & (~reachable + word(1))  # the lowest bit set
        leaf = np.log2(leftmost.astype(np.float64)).astype(np.int64)  # exact: a power of two
        flat = leaf + np.arange(trees, dtype=np.int64) * width
        return self.leaf_value.ravel().take(flat).sum(axis=1)


def _in_order(tree: dict[str, list[float]]) -> tuple[list[int], list[tuple[int, float, int]]]:
    """A tree's leaves left to right, and each split's feature, threshold and the bits of the
    leaves on its left (a leaf's bit: its place in that order)."""
    leaves: list[int] = []
    splits: list[tuple[int, float, int]] = []

    def walk(node: int) -> range:
        """The places of the leaves under node."""
        if tree["feature"][node] < 0:
            leaves.append(node)
            return range(len(leaves) - 1, len(leaves))
        left = walk(int(tree["left"][node]))
        right = walk(int(tree["right"][node]))
        splits.append((int(tree["feature"][node]), float(tree["threshold"][node]), sum(1 << leaf for leaf in left)))
        return range(left.start, right.stop)

    walk(0)
    return leaves, splits


def trees_of(booster: Any) -> list[dict[str, Any]]:
    """A trained LightGBM booster's trees as the lists TreeEnsemble reads (at fit time, where lightgbm is)."""
    flat = []
    for info in booster.dump_model()["tree_info"]:
        tree: dict[str, Any] = {"feature": [], "threshold": [], "left": [], "right": [], "value": []}

        def add(node: dict[str, Any], tree: dict[str, Any] = tree) -> int:
            index = len(tree["feature"])
            for key in ("feature", "threshold", "left", "right", "value"):
                tree[key].append(0)
            if "split_index" not in node:
                tree["feature"][index], tree["value"][index] = -1, float(node["leaf_value"])
                return index
            if node["decision_type"] != "<=" or node["missing_type"] not in ("None", "NaN"):
                raise ValueError(f"unsupported split {node['decision_type']} / {node['missing_type']}")
            tree["feature"][index], tree["threshold"][index] = int(node["split_feature"]), float(node["threshold"])
            tree["left"][index] = add(node["left_child"])
            tree["right"][index] = add(node["right_child"])
            return index

        add(info["tree_structure"])
        flat.append(tree)
    return flat


@dataclass(frozen=True)
class LearnedModel:
    """A fitted LightGBM model with the feature names it reads and where it came from.

    The file keeps LightGBM's own text model (to reload it in LightGBM) and its trees as lists, which
    the server evaluates with NumPy (TreeEnsemble).
    """

    name: str
    features: tuple[str, ...]
    model_text: str
    trees: list[dict[str, Any]]
    fitted_on: str = ""
    cross_validated: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    ensemble: TreeEnsemble = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ensemble", TreeEnsemble.from_lists(self.trees))

    @classmethod
    def from_booster(cls, name: str, features: tuple[str, ...], booster: Any, **extra: Any) -> LearnedModel:
        return cls(name, features, booster.model_to_string(), trees_of(booster), **extra)

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds for the unit selector, relevance for the re-ranker), one per row."""
        if not len(matrix):
            return np.zeros(0)
        return self.ensemble.predict(matrix)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "name": self.name,
            "features": list(self.features),
            "fitted_on": self.fitted_on,
            "cross_validated": self.cross_validated,
            "params": self.params,
            "trees": self.trees,
            "model": self.model_text,
        }
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")

    @classmethod
    def load(cls, path: Path, features: tuple[str, ...]) -> LearnedModel | None:
        """The model in path, or None (with a warning) if it is missing or reads other features."""
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("learned model %s not used: %s (run briefing-qa fit)", path.name, exc)
            return None
        if tuple(data.get("features", ())) != features or "trees" not in data:
            log.warning("learned model %s not used: its features differ from this code's (run briefing-qa fit)", path)
            return None
        return cls(
            name=data["name"],
            features=features,
            model_text=data["model"],
            trees=data["trees"],
            fitted_on=data.get("fitted_on", ""),
            cross_validated=data.get("cross_validated", {}),
            params=data.get("params", {}),
        )


@dataclass(frozen=True)
class Models:
    reranker: LearnedModel | None = None
    unit_selector: LearnedModel | None = None

    @classmethod
    def load(cls, folder: Path) -> Models:
        """The models of a learned_dir (a missing or stale file: that stage left out)."""
        return cls(
            LearnedModel.load(folder / RERANKER_NAME, PASSAGE_FEATURES),
            LearnedModel.load(folder / UNIT_SELECTOR_NAME, UNIT_FEATURES),
        )


def passage_features(
    index: LoadedIndex,
    query: Query,
    query_vector: np.ndarray,
    passages: list[Passage],
) -> np.ndarray:
    """One row of PASSAGE_FEATURES per candidate passage (in the fused order)."""
    n = len(passages)
    if not n:
        return np.zeros((0, len(PASSAGE_FEATURES)), dtype=np.float32)
    query_grams = set(query.chargrams)
    fused = np.array([p.score for p in passages], dtype=float)
    best_dense = unit_best_similarity(index, query_vector, np.array([p.chunk.id for p in passages]))
    ids = np.array([p.chunk.id for p in passages])
    bm25 = {
        name: _relative(index.lexical.scores(name, tokens)[ids])
        for name, tokens in (("words", query.words), ("chargrams", query.chargrams))
    }
    unit_bm25 = index.lexical.scores("unit_words", query.words)
    best_unit_bm25 = _relative(max_per_chunk(unit_bm25, index)[ids])
    terms, wanted, kind = query.terms, query.answer_type, query.kind
    chunks = [p.chunk for p in passages]
    constant = {
        "wants_type": float(wanted is not None),
        "question_terms": float(len(terms)),
        "english": query.english,
        **{f"asks_{name}": float(kind == name) for name in QUESTION_KINDS},
    }
    answers = [new_tokens(c.text, query.folded_words) for c in chunks]
    columns: dict[str, Any] = {
        **{name: np.full(n, value) for name, value in constant.items()},
        "fused": fused,
        "fused_rank": 1.0 / np.array([p.rank for p in passages], dtype=float),
        **{
            f"rr_{name}": np.array([1.0 / p.ranks[name] if name in p.ranks else 0.0 for p in passages])
            for name in RANKERS
        },
        "rankers": np.array([sum(name in p.ranks for name in RANKERS) for p in passages], dtype=float),
        **_field_coverages(index, query.weighted_terms, chunks),
        "grams": np.array(
            [len(query_grams & token_sets(c.index_text)[1]) / len(query_grams) if query_grams else 0.0 for c in chunks]
        ),
        "best_unit_bm25": best_unit_bm25,
        "best_unit_dense": np.array([best_dense.get(c.id, 0.0) for c in chunks]),
        **_document_columns(passages, fused),
        "typed": np.array([float(wanted is not None and wanted.held_by(c.text)) for c in chunks]),
        **{f"kind_{name}": np.array([c.kind == name for c in chunks], dtype=float) for name in PASSAGE_KINDS},
        "log_chars": np.log1p([len(c.text) for c in chunks]),
        "position_in_doc": np.array([c.start / max(1, len(index.documents[c.doc])) for c in chunks]),
        "bm25_words": bm25["words"],
        "bm25_grams": bm25["chargrams"],
        "new_numbers": np.log1p([numbers for numbers, _ in answers]),
        "new_names": np.log1p([names for _, names in answers]),
    }
    return np.column_stack([columns[name] for name in PASSAGE_FEATURES]).astype(np.float32)


def _field_coverages(index: LoadedIndex, terms: TermWeights, chunks: list[Any]) -> dict[str, list[float]]:
    """Coverage of the question by each field of each chunk: all of it, its body, its document's title, its heading."""
    return {
        name: _coverage_of_texts(terms, [of(c) for c in chunks])
        for name, of in (
            ("words", lambda c: c.index_text),
            ("body_words", lambda c: c.text),
            ("title_words", lambda c: index.titles.get(c.doc, "")),
            ("heading_words", lambda c: c.section),
        )
    }


def _document_columns(passages: list[Passage], fused: np.ndarray) -> dict[str, np.ndarray]:
    """For each candidate, its document's share of the fused score, its count of candidates, its first rank."""
    docs = [p.chunk.doc for p in passages]
    doc_mass: dict[str, float] = {}
    doc_count: dict[str, int] = {}
    doc_first: dict[str, int] = {}
    for position, (doc, score) in enumerate(zip(docs, fused, strict=True), start=1):
        doc_mass[doc] = doc_mass.get(doc, 0.0) + score
        doc_count[doc] = doc_count.get(doc, 0) + 1
        doc_first.setdefault(doc, position)
    total_mass = float(fused.sum()) or 1.0
    return {
        "doc_share": np.array([doc_mass[d] for d in docs]) / total_mass,
        "doc_candidates": np.array([doc_count[d] for d in docs], dtype=float),
        "doc_first_rank": 1.0 / np.array([doc_first[d] for d in docs], dtype=float),
    }


def _coverage_of_texts(terms: TermWeights, texts: list[str]) -> list[float]:
    """coverage of each text, computed once per distinct text (candidates share titles and headings)."""
    distinct = list(dict.fromkeys(texts))
    shares = dict(zip(distinct, terms.coverages(stem_set(t) for t in distinct), strict=True))
    return [shares[t] for t in texts]


def _relative(scores: np.ndarray) -> np.ndarray:
    """Scores divided by their maximum (0 when none is positive): comparable across questions."""
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


def _candidate_answers(text: str, asked: frozenset[str]) -> dict[str, float]:
    numbers, names = new_tokens(text, asked)
    return {"new_numbers": math.log1p(numbers), "new_names": math.log1p(names)}


def rerank(passages: list[Passage], raw: np.ndarray) -> list[Passage]:
    """Passages in the order of the re-ranker's scores, renumbered; the score shown is its logistic.

    Candidates past the scored ones (``len(raw)``) keep their fused order below them.
    """
    scored = len(raw)
    order = sorted(range(scored), key=lambda i: (-raw[i], i))
    shown = [logistic(raw[i]) for i in order]
    floor = shown[-1] if shown else 1.0
    ranked = [  # built, not replace()d: a tenth of a millisecond a question
        Passage(
            chunk=passages[i].chunk,
            rank=position,
            score=score,
            ranks=passages[i].ranks,
            line=passages[i].line,
            page=passages[i].page,
        )
        for position, (i, score) in enumerate(zip(order, shown, strict=True), start=1)
    ]
    tail = [
        replace(p, score=min(p.score, floor), rank=position)
        for position, p in enumerate(passages[scored:], start=scored + 1)
    ]
    return [*ranked, *tail]


def unit_features(index: LoadedIndex, query: Query, scored: list[Any]) -> np.ndarray:
    """One row of UNIT_FEATURES per scored unit (``extraction.ScoredUnit``, in the scorer's order)."""
    rows = np.zeros((len(scored), len(UNIT_FEATURES)), dtype=np.float32)
    if not scored:
        return rows
    words = np.array([s.word_coverage for s in scored])
    dense = np.array([s.dense for s in scored])
    words_rank = np.argsort(np.argsort(-words, kind="stable"), kind="stable") + 1
    dense_rank = np.argsort(np.argsort(-dense, kind="stable"), kind="stable") + 1
    top_passage = max(s.passage.score for s in scored)
    unit_rows = np.array(
        [int(index.unit_offset[s.passage.chunk.id]) + s.passage.chunk.units.index(s.unit) for s in scored]
    )
    raw_words = index.lexical.scores("unit_words", query.words)[unit_rows]
    bm25 = {
        "words": _relative(raw_words),
        "chargrams": _relative(index.lexical.scores("unit_chargrams", query.chargrams)[unit_rows]),
    }
    terms, wanted, kind = query.terms, query.answer_type, query.kind
    question_bigrams = _bigrams(query.stems)
    weighted = query.weighted_terms
    for row, item in enumerate(scored):
        chunk = item.passage.chunk
        text = index.documents[chunk.doc]
        position = chunk.units.index(item.unit)
        body = text[item.unit.start : item.unit.end]
        own_text = unit_text(text, item.unit)  # a table row with its header, as the unit scorer read it
        tokens = token_sets(own_text)[0]
        values = {
            "hand_score": item.score,
            "dense": item.dense,
            "words": item.word_coverage,
            "grams": item.gram_coverage,
            "words_rank": 1.0 / words_rank[row],
            "dense_rank": 1.0 / dense_rank[row],
            "words_gap": float(words.max() - item.word_coverage),
            "passage_position": float(item.passage.rank),
            "passage_score": item.passage.score,
            "passage_gap": top_passage - item.passage.score,
            "typed": float(wanted is not None and wanted.held_by(body)),
            "wants_type": float(wanted is not None),
            "unit_position": position / max(1, len(chunk.units)),
            "first_unit": float(position == 0),
            "log_chars": math.log1p(len(body)),
            "opens_on_reference": float(item.opens_on_reference),
            **_neighbour_coverages(weighted, text, chunk.units, position),
            "bigrams": len(question_bigrams & _text_bigrams(body)) / len(question_bigrams) if question_bigrams else 0.0,
            "bm25_words": bm25["words"][row],
            "bm25_grams": bm25["chargrams"][row],
            "bm25_words_raw": raw_words[row],
            # What the unit leaves to its document's title and its heading ("il" for the article's subject).
            "title_gain": weighted.coverage(tokens, stem_set(index.titles.get(chunk.doc, ""))) - item.word_coverage,
            "heading_gain": weighted.coverage(tokens, stem_set(chunk.section)) - item.word_coverage,
            "proximity": _proximity(terms, tokens, own_text),
            **_candidate_answers(body, query.folded_words),
            **{f"kind_{name}": float(item.unit.kind == name) for name in UNIT_KINDS},
            **{f"asks_{name}": float(kind == name) for name in QUESTION_KINDS},
        }
        rows[row] = [values[name] for name in UNIT_FEATURES]
    return rows


def _neighbour_coverages(terms: TermWeights, text: str, units: tuple[Any, ...], position: int) -> dict[str, float]:
    """Coverage of the question by the units before and after one, and by the three together."""
    previous, following = (
        terms.coverage(token_sets(unit_text(text, units[i]))[0]) if 0 <= i < len(units) else 0.0
        for i in (position - 1, position + 1)
    )
    window = text[units[max(0, position - 1)].start : units[min(len(units) - 1, position + 1)].end]
    return {"previous_words": previous, "next_words": following, "window_words": terms.coverage(stem_set(window))}


def rerank_passages(
    index: LoadedIndex,
    query: Query,
    query_vector: np.ndarray,
    passages: list[Passage],
    reranker: LearnedModel,
    depth: int,
) -> list[Passage]:
    """The fused candidates re-ordered by the learned re-ranker (the first ``depth`` of them)."""
    depth = min(depth, len(passages))
    raw = reranker.predict(passage_features(index, query, query_vector, passages[:depth]))
    return rerank(passages, raw)


@dataclass(frozen=True)
class LearnedRerank:
    """Re-orders the fused candidates with the learned passage re-ranker."""

    model: LearnedModel
    depth: int  # the candidates re-ranked (Settings.rerank_depth: the model was fitted on this many)
    name: str = "reranker"
    timing: str = "fuse"

    def run(self, work: Work) -> None:
        query, vector = work.query, work.query_vector
        work.passages = rerank_passages(work.index, query, vector, work.passages, self.model, self.depth)
