"""How much of a question a text covers: its terms weighted by IDF, each covered by any of its spellings."""

from __future__ import annotations

# A question term: its alternatives, each the stems that must all be present to cover it.
Term = tuple[tuple[str, ...], ...]


def covers(term: Term, tokens: set[str] | frozenset[str]) -> bool:
    return any(all(t in tokens for t in alternative) for alternative in term)


def coverage(weights: dict[Term, float], tokens: set[str] | frozenset[str]) -> float:
    """IDF-weighted share of the question's terms that the tokens cover."""
    total = sum(weights.values())
    return sum(w for term, w in weights.items() if covers(term, tokens)) / total if total else 0.0


def coverages(weights: dict[Term, float], texts_tokens: list[frozenset[str]]) -> list[float]:
    """``coverage`` of each token set, the question's terms sorted once (the re-ranker's many candidates)."""
    total = sum(weights.values())
    if not total:
        return [0.0] * len(texts_tokens)
    # Most terms are one stem: a set lookup each. A term with synonyms is mostly one-stem alternatives:
    # one set test for all of them, then the few phrases alternative by alternative.
    single = [(term[0][0], w) for term, w in weights.items() if len(term) == 1 and len(term[0]) == 1]
    other = [
        (frozenset(a[0] for a in term if len(a) == 1), [a for a in term if len(a) > 1], w)
        for term, w in weights.items()
        if not (len(term) == 1 and len(term[0]) == 1)
    ]
    return [
        (
            sum(w for t, w in single if t in tokens)
            + sum(
                w
                for stems, phrases, w in other
                if not stems.isdisjoint(tokens) or any(all(t in tokens for t in a) for a in phrases)
            )
        )
        / total
        for tokens in texts_tokens
    ]


def gram_coverage(query_grams: set[str], grams: frozenset[str]) -> float:
    return len(query_grams & grams) / len(query_grams) if query_grams else 0.0
