"""Answer extraction: the smallest self-sufficient extracts from the best passages, and a confidence.

Every unit (sentence, bullet, table row, FAQ answer) of the top passages is scored against the
question by meaning (its own embedding) and by words (IDF-weighted share of the question's
stems and character n-grams it contains). The best units become the answer, quoted verbatim.
When the best unit is an FAQ question, the answer is that question's answer.

The confidence is a logistic model over a few evidence features (see ``qa.answer.confidence``); below
``settings.abstain_below`` the briefing is said not to answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import chain

import numpy as np

from qa.answer.confidence import Calibration, logistic
from qa.core.model import Extract, Kind, Passage, Unit
from qa.core.text import content_words, stem, surface_words, token_sets, word_tokens
from qa.index.indexing import LoadedIndex
from qa.ingest.chunking import unit_text
from qa.query import answer_types
from qa.query.analysis import Query
from qa.query.answer_types import expected as expected_answer_type
from qa.query.coverage import Term, coverage, gram_coverage
from qa.retrieve.learned import LearnedModel, unit_features

PASSAGES_SEARCHED = 3
# Prior for units of the 1st, 2nd, 3rd passage: fusion already weighed all rankers.
RANK_PRIOR = (0.12, 0.05, 0.0)
SECOND_EXTRACT_RATIO = 0.92
# Added to a unit holding the kind of answer the question asks for (a place for "Où", ...).
ANSWER_TYPE_BONUS = 0.1
# Question-to-question cosines run high whatever the topic: an FAQ question answers for its
# answer only when the two questions share most of their (IDF-weighted) words both ways.
FAQ_MATCH_MIN = 0.5
# A sentence that opens on a pronoun, possessive or demonstrative ("Leur rencontre débute...", "Il
# s'agit pour eux...") is about what the sentence before it names: the question words found only
# there count this much.
ANTECEDENT_CREDIT = 0.5
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


def term_weights(query: Query, index: LoadedIndex) -> dict[Term, float]:
    """Each question term with its IDF; stems absent from the corpus weigh the most.

    A misspelt or foreign word ("Chevenning", "meeting", "NATO") is covered by any one of the
    corpus spellings searched for it ("chevening"; "réunion" or "rencontre"; "OTAN" or "Alliance
    atlantique"): a unit cannot contain the misspelling, nor need it contain every translation.
    A word with synonyms in the corpus is covered by itself or any of them ("réunion" by
    "rencontre"), at the word's own weight.
    """
    idf = index.lexical.idf
    left_out = set(stem([*query.respelled, *query.frame_words]))
    weights: dict[Term, float] = {}
    for t in word_tokens(query.text):
        if t not in left_out:
            weights[((t,), *((s,) for s in query.synonyms.get(t, ())))] = idf("words", t)
    for term in query.alternatives:
        weights[term] = max(idf("words", t) for alternative in term for t in alternative)
    return weights


def score_units(
    index: LoadedIndex,
    query: Query,
    query_vector: np.ndarray,
    passages: list[Passage],
    weights: dict[Term, float],
    use_answer_types: bool = True,
) -> list[ScoredUnit]:
    """Every unit of the top passages scored against the question (``weights``: its terms' IDF), best first."""
    query_grams = set(query.chargrams)
    wanted = answer_types.expected(query.text) if use_answer_types else None
    # The reader's stems and their synonyms: an FAQ question must find its own words among them (below).
    asked = set(query.words).union(*query.synonyms.values())
    scored = []
    for position, passage in enumerate(passages[:PASSAGES_SEARCHED]):
        chunk = passage.chunk
        first = int(index.unit_offset[chunk.id])
        sims = index.unit_vectors[first : first + len(chunk.units)] @ query_vector
        previous: Unit | None = None
        for unit, sim in zip(chunk.units, sims, strict=True):
            text = unit_text(index.documents[chunk.doc], unit)
            tokens, grams = token_sets(text)
            words = coverage(weights, tokens)
            refers = previous is not None and unit.kind == previous.kind == Kind.SENTENCE and _opens_on_reference(text)
            if refers:
                antecedent, _ = token_sets(unit_text(index.documents[chunk.doc], previous))
                words += ANTECEDENT_CREDIT * (coverage(weights, tokens | antecedent) - words)
            previous = unit
            if unit.kind == Kind.FAQ_QUESTION:
                # Two questions match only if each covers the other: "Quel est le rôle des conseillers ?"
                # is not "Qui mène la réunion des conseillers ?" although one contains most of the other.
                reverse = coverage({((t,),): index.lexical.idf("words", t) for t in tokens}, asked)
                words = 2 * words * reverse / (words + reverse) if words + reverse else 0.0
                if words < FAQ_MATCH_MIN:
                    continue
            gram_share = gram_coverage(query_grams, grams)
            # Words weigh more than meaning: the English MiniLM's cosines on French text are noisy
            # (bench: 0.5/0.35/0.15 gave hit@1 0.818, 0.35/0.5/0.15 gives 0.836).
            score = 0.35 * float(sim) + 0.5 * words + 0.15 * gram_share + RANK_PRIOR[position]
            if wanted and answer_types.holds_new(wanted, index.documents[chunk.doc][unit.start : unit.end], query.text):
                score += ANSWER_TYPE_BONUS
            scored.append(ScoredUnit(passage, unit, score, float(sim), words, gram_share, refers))
    scored.sort(key=lambda s: -s.score)
    return scored


def _opens_on_reference(text: str) -> bool:
    return any(w in ANAPHORIC_OPENERS for w in surface_words(text[:80])[:OPENER_WORDS])


def extracts_for(index: LoadedIndex, best: ScoredUnit) -> list[Extract]:
    chunk = best.passage.chunk
    if best.unit.kind == Kind.FAQ_QUESTION:
        units = [u for u in chunk.units if u.kind == Kind.FAQ_ANSWER] or [best.unit]
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


def features(
    index: LoadedIndex,
    query: Query,
    passages: list[Passage],
    ranked: list[ScoredUnit],
    weights: dict[Term, float],
) -> dict[str, float]:
    """The confidence model's evidence: how well the best passage and unit match, how sure the
    ranking is (its margins), and how much of the question the corpus does not know."""
    if not passages or not ranked:
        return dict.fromkeys(Calibration.FEATURES, 0.0)
    best = ranked[0]
    top = passages[0].chunk
    # Coverage of the words the corpus knows; unknown words are features of their own, as a
    # question verb missing from the text ("signifie") says much less than an unknown name.
    postings = index.lexical.postings
    known = {term: w for term, w in weights.items() if any(len(postings("words", t)) for t in chain(*term))}
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
        "english": query.english,
        # English questions meet French text through meaning, not words: let the model weigh that.
        "english_x_dense": query.english * best.dense,
    }


def select_units(
    index: LoadedIndex,
    query: Query,
    scored: list[ScoredUnit],
    weights: dict[Term, float],
    selector: LearnedModel,
    wanted: str | None,
) -> list[ScoredUnit]:
    """The scored units re-scored by the learned selector (probability that the unit holds the answer), best first."""
    raw = selector.predict(unit_features(index, query, scored, weights, wanted))
    rescored = [replace(s, score=logistic(r)) for s, r in zip(scored, raw, strict=True)]
    return sorted(rescored, key=lambda s: -s.score)


def extract_answer(
    index: LoadedIndex,
    query: Query,
    query_vector: np.ndarray,
    passages: list[Passage],
    calibration: Calibration,
    max_extracts: int,
    unit_scoring: bool = True,
    answer_types: bool = True,
    selector: LearnedModel | None = None,
    weights: dict[Term, float] | None = None,
) -> Answer:
    """The best units of the top passages as extracts, and the confidence that they answer.

    ``selector``: the learned unit selector, which re-scores the hand-made scorer's units;
    ``weights``: the question's term weights, if already computed (``term_weights``).
    """
    if weights is None:
        weights = term_weights(query, index)
    scored = score_units(index, query, query_vector, passages, weights, answer_types)
    if selector is not None and scored:
        wanted = expected_answer_type(query.text) if answer_types else None
        scored = select_units(index, query, scored, weights, selector, wanted)
    if not unit_scoring:  # ablation: quote the top passage's first unit, whatever the question
        scored = sorted((s for s in scored if s.passage is passages[0]), key=lambda s: s.unit.start)[:1]
    feats = features(index, query, passages, scored, weights)
    if not scored:
        return Answer((), 0.0, feats)
    best = scored[0]
    confidence = calibration.probability(feats)
    extracts = extracts_for(index, best)
    for other in scored[1:]:
        if len(extracts) >= max_extracts or other.score < SECOND_EXTRACT_RATIO * best.score:
            break
        if other.unit.kind in (Kind.FAQ_QUESTION, Kind.FAQ_ANSWER) or any(_overlaps(e, other) for e in extracts):
            continue
        extracts.extend(extracts_for(index, other))
    return Answer(tuple(extracts[:max_extracts]), confidence, feats)


def _overlaps(extract: Extract, other: ScoredUnit) -> bool:
    return extract.doc == other.passage.chunk.doc and other.unit.start < extract.end and extract.start < other.unit.end
