"""Answer extraction: the smallest self-sufficient extracts from the best passages, and a confidence.

Every unit (sentence, bullet, table row, FAQ answer) of the top passages is scored against the
question by meaning (its own embedding) and by words (IDF-weighted share of the question's
stems and character n-grams it contains). The best units become the answer, quoted verbatim.
When the best unit is an FAQ question, the answer is that question's answer.

The confidence is a logistic model over a few evidence features (see ``qa.answer.confidence``); below
``settings.abstain_below`` the briefing is said not to answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import chain

import numpy as np

from qa.answer.confidence import Calibration
from qa.core.model import Extract, Kind, Passage, Unit
from qa.core.pipeline import Work
from qa.core.text import content_words, surface_words, token_sets
from qa.index.indexing import LoadedIndex
from qa.ingest.chunking import unit_text
from qa.query import answer_types
from qa.query.analysis import Query
from qa.query.coverage import coverage, gram_coverage
from qa.retrieve.learned import LearnedModel, logistic, unit_features
from qa.settings import UnitScoring

DEFAULT_UNIT_SCORING = UnitScoring()

# The words a sentence opening on a reference starts with ("Il s'agit pour eux...": see
# UnitScoring.antecedent_credit); closed grammatical classes.
ANAPHORIC_OPENERS = frozenset(
    ("il", "elle", "ils", "elles", "ce", "cet", "cette", "ces", "celui", "celle", "ceux", "celles", "cela",
     "ceci", "leur", "leurs", "son", "sa", "ses", "eux", "lui")
)  # fmt: skip
OPENER_WORDS = 3


@dataclass(frozen=True)
class ScoredUnit:
    passage: Passage
    unit: Unit
    score: float
    dense: float
    word_coverage: float
    gram_coverage: float
    opens_on_reference: bool = False


@dataclass(frozen=True)
class Answer:
    extracts: tuple[Extract, ...]
    confidence: float
    features: dict[str, float]


def score_units(
    index: LoadedIndex,
    query: Query,
    query_vector: np.ndarray,
    passages: list[Passage],
    scoring: UnitScoring = DEFAULT_UNIT_SCORING,
) -> list[ScoredUnit]:
    """Every unit of the top ``scoring.passages`` passages scored against the question, best first."""
    query_grams = set(query.chargrams)
    weighted, wanted = query.weighted_terms, query.answer_type
    # The reader's stems and their synonyms: an FAQ question must find its own words among them (below).
    asked = set(query.words).union(*query.synonyms.values())
    scored = []
    for position, passage in enumerate(passages[: scoring.passages]):
        chunk = passage.chunk
        first = int(index.unit_offset[chunk.id])
        sims = index.unit_vectors[first : first + len(chunk.units)] @ query_vector
        previous: Unit | None = None
        for unit, sim in zip(chunk.units, sims, strict=True):
            text = unit_text(index.documents[chunk.doc], unit)
            tokens, grams = token_sets(text)
            words = weighted.coverage(tokens)
            refers = previous is not None and unit.kind == previous.kind == Kind.SENTENCE and _opens_on_reference(text)
            if refers:
                antecedent, _ = token_sets(unit_text(index.documents[chunk.doc], previous))
                words += scoring.antecedent_credit * (weighted.coverage(tokens, antecedent) - words)
            previous = unit
            if unit.kind == Kind.FAQ_QUESTION:
                # Two questions match only if each covers the other: "Quel est le rôle des conseillers ?"
                # is not "Qui mène la réunion des conseillers ?" although one contains most of the other.
                reverse = coverage({((t,),): index.lexical.idf("words", t) for t in tokens}, asked)
                words = 2 * words * reverse / (words + reverse) if words + reverse else 0.0
                if words < scoring.faq_match_min:
                    continue
            gram_share = gram_coverage(query_grams, grams)
            score = (
                scoring.dense * float(sim)
                + scoring.words * words
                + scoring.grams * gram_share
                + scoring.rank_prior[min(position, len(scoring.rank_prior) - 1)]
            )
            if wanted is not None and wanted.held_by(index.documents[chunk.doc][unit.start : unit.end]):
                score += scoring.answer_type_bonus
            scored.append(ScoredUnit(passage, unit, score, float(sim), words, gram_share, refers))
    scored.sort(key=lambda s: -s.score)
    return scored


def _opens_on_reference(text: str) -> bool:
    return any(w in ANAPHORIC_OPENERS for w in surface_words(text[:80])[:OPENER_WORDS])


def extracts_for(index: LoadedIndex, best: ScoredUnit, antecedent: bool = True) -> list[Extract]:
    """The extracts quoting a unit: an FAQ question's answer, a sentence that opens on a reference with
    the sentence before (``antecedent``), else the unit itself."""
    chunk = best.passage.chunk
    if best.unit.kind == Kind.FAQ_QUESTION:
        units = [u for u in chunk.units if u.kind == Kind.FAQ_ANSWER] or [best.unit]
    elif best.opens_on_reference and antecedent:
        # "Dès 1987, il abandonne..." does not say who: quoted from the sentence it refers to.
        previous = chunk.units[chunk.units.index(best.unit) - 1]
        units = [replace(best.unit, start=previous.start)]
    else:
        units = [best.unit]
    doc_text = index.documents[chunk.doc]
    return [
        Extract(
            text=doc_text[u.start : u.end],
            doc=chunk.doc,
            start=u.start,
            end=u.end,
            section=chunk.section,
            passage=best.passage.rank,
            score=round(best.score, 4),
            context=u.context if u.kind == Kind.TABLE_ROW else None,
            context_text=doc_text[u.context.start : u.context.end] if u.kind == Kind.TABLE_ROW and u.context else "",
        )
        for u in units
    ]


def features(index: LoadedIndex, query: Query, passages: list[Passage], ranked: list[ScoredUnit]) -> dict[str, float]:
    """The confidence model's evidence: how well the best passage and unit match, how sure the
    ranking is (its margins), and how much of the question the corpus does not know."""
    if not passages or not ranked:
        return dict.fromkeys(Calibration.FEATURES, 0.0)
    best = ranked[0]
    top = passages[0].chunk
    # Coverage of the words the corpus knows; unknown words are features of their own, as a
    # question verb missing from the text ("signifie") says much less than an unknown name.
    postings = index.lexical.postings
    known = {term: w for term, w in query.terms.items() if any(len(postings("words", t)) for t in chain(*term))}
    top_words, top_grams = token_sets(top.index_text)
    return {
        "passage_score": passages[0].score,
        "passage_margin": passages[0].score - (passages[1].score if len(passages) > 1 else 0.0),
        "unit_score": best.score,
        "unit_margin": best.score - (ranked[1].score if len(ranked) > 1 else 0.0),
        "passage_words": coverage(known, top_words),
        "passage_grams": gram_coverage(set(query.chargrams), top_grams),
        "unit_dense": best.dense,
        "unit_words": best.word_coverage,
        "unknown_share": (len(query.unknown) - len(query.unknown_names)) / max(1, len(content_words(query.text))),
        "unknown_names": float(len(query.unknown_names)),
        "stand_in_share": len(query.stand_ins) / max(1, len(content_words(query.text))),
        "english": query.english,
        # English questions meet French text through meaning, not words: let the model weigh that.
        "english_x_dense": query.english * best.dense,
    }


def select_units(
    index: LoadedIndex, query: Query, scored: list[ScoredUnit], selector: LearnedModel
) -> list[ScoredUnit]:
    """The scored units re-scored by the learned selector (probability that the unit holds the answer), best first."""
    raw = selector.predict(unit_features(index, query, scored))
    rescored = [replace(s, score=logistic(r)) for s, r in zip(scored, raw, strict=True)]
    return sorted(rescored, key=lambda s: -s.score)


def answer_from(
    index: LoadedIndex,
    query: Query,
    passages: list[Passage],
    scored: list[ScoredUnit],
    calibration: Calibration,
    max_extracts: int,
    second_extract_ratio: float = UnitScoring.second_extract_ratio,
) -> Answer:
    """The best units as extracts (up to ``max_extracts``; the others when they score at least
    ``second_extract_ratio`` of the best), and the confidence that they answer."""
    feats = features(index, query, passages, scored)
    if not scored:
        return Answer((), 0.0, feats)
    best = scored[0]
    confidence = calibration.probability(feats)
    extracts = extracts_for(index, best)
    for other in scored[1:]:
        if len(extracts) >= max_extracts or other.score < second_extract_ratio * best.score:
            break
        if other.unit.kind in (Kind.FAQ_QUESTION, Kind.FAQ_ANSWER) or any(_overlaps(e, other) for e in extracts):
            continue
        extracts.extend(extracts_for(index, other))
    return Answer(tuple(extracts[:max_extracts]), confidence, feats)


def kind_not_given(query: Query, extracts: tuple[Extract, ...] | list[Extract], required: tuple[str, ...]) -> str:
    """The kind of answer the question asks for ("Combien ...": a number) when it is one of
    ``required`` and none of the extracts holds one the question does not already say; "" otherwise.

    Asked "Quel est le montant de l'aide américaine ?", an extract that names the aid without an
    amount does not answer, however close its words.
    """
    if not required or not extracts:
        return ""
    wanted = answer_types.expected_type(query.text, nouns=True)
    if wanted is None or wanted.kind not in required:
        return ""
    return "" if any(wanted.held_by(e.text, thorough=True) for e in extracts) else wanted.kind


def _overlaps(extract: Extract, other: ScoredUnit) -> bool:
    return extract.doc == other.passage.chunk.doc and other.unit.start < extract.end and extract.start < other.unit.end


@dataclass(frozen=True)
class ScoreUnits:
    """Scores every unit of the top passages against the question (the hand-made unit score)."""

    scoring: UnitScoring = field(default_factory=UnitScoring)
    name: str = "unit_scoring"
    timing: str = "extract"

    def run(self, work: Work) -> None:
        work.units = score_units(work.index, work.query, work.query_vector, work.passages, self.scoring)


@dataclass(frozen=True)
class SelectUnits:
    """Re-scores the units with the learned unit selector: the probability that a unit holds the answer."""

    model: LearnedModel
    name: str = "unit_selector"
    timing: str = "extract"

    def run(self, work: Work) -> None:
        if work.units:
            work.units = select_units(work.index, work.query, work.units, self.model)


@dataclass(frozen=True)
class LeadUnit:
    """A baseline for the benchmark, not a stage of the engine: quote the top passage's first unit."""

    name: str = "lead_unit"
    timing: str = "extract"

    def run(self, work: Work) -> None:
        first = work.passages[0] if work.passages else None
        work.units = sorted((s for s in work.units if s.passage is first), key=lambda s: s.unit.start)[:1]


@dataclass(frozen=True)
class ExtractAnswer:
    """Quotes the best units as the answer's extracts, with the confidence that they answer."""

    calibration: Calibration
    max_extracts: int
    second_extract_ratio: float = UnitScoring.second_extract_ratio
    name: str = "extraction"
    timing: str = "extract"

    def run(self, work: Work) -> None:
        work.answer = answer_from(
            work.index,
            work.query,
            work.passages,
            work.units,
            self.calibration,
            self.max_extracts,
            self.second_extract_ratio,
        )


@dataclass(frozen=True)
class AnswerFirst:
    """Puts the passage the best extract is quoted from first, and renumbers the citations.

    Extraction weighs every unit of the top passages against the question; when the best one
    lies in the second or third passage, that passage answers better than the first, so [1]
    is always the passage the answer comes from.
    """

    name: str = "answer_first"
    timing: str = "extract"

    def run(self, work: Work) -> None:
        if work.answer is not None and work.answer.extracts:
            passages, extracts = answer_first(work.passages, work.answer.extracts)
            work.passages, work.answer = passages, replace(work.answer, extracts=extracts)


def answer_first(passages: list[Passage], extracts: tuple[Extract, ...]) -> tuple[list[Passage], tuple[Extract, ...]]:
    """The passages with the best extract's first, and the extracts' citations renumbered to match."""
    source = extracts[0].passage
    if source == 1:
        return passages, extracts
    order = [passages[source - 1], *(p for p in passages if p.rank != source)]
    new_rank = {p.rank: position for position, p in enumerate(order, start=1)}
    reordered = [replace(p, rank=new_rank[p.rank]) for p in order]
    return reordered, tuple(replace(e, passage=new_rank[e.passage]) for e in extracts)
