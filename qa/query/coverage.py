"""How much of a question a text covers: its terms weighted by IDF, each covered by any of its spellings."""

from __future__ import annotations

from collections.abc import Iterable

# A question term: its alternatives, each the stems that must all be present to cover it.
Term = tuple[tuple[str, ...], ...]
Tokens = set[str] | frozenset[str]
NO_TOKENS: frozenset[str] = frozenset()


def covers(term: Term, tokens: Tokens) -> bool:
    return any(all(t in tokens for t in alternative) for alternative in term)


class TermWeights:
    """A question's weighted terms, arranged once for the many coverage tests of one question.

    Most terms are one stem: a set lookup each. A term with synonyms is mostly one-stem alternatives:
    one set test for all of them, then its few phrases alternative by alternative. The terms are
    summed in their order, so every form of coverage gives the same float.
    """

    __slots__ = ("_tests", "total")

    def __init__(self, weights: dict[Term, float]) -> None:
        self.total = sum(weights.values())
        self._tests = tuple(
            (
                term[0][0] if len(term) == 1 and len(term[0]) == 1 else None,
                frozenset(a[0] for a in term if len(a) == 1),
                tuple(a for a in term if len(a) != 1),
                weight,
            )
            for term, weight in weights.items()
        )

    def coverage(self, tokens: Tokens, more: Tokens = NO_TOKENS) -> float:
        """IDF-weighted share of the question's terms that the tokens (and ``more``, as if added) cover."""
        if not self.total:
            return 0.0
        if more:
            return sum(w for *test, w in self._tests if _covered_by_either(*test, tokens, more)) / self.total
        return (
            sum(
                w
                for single, stems, phrases, w in self._tests
                if (
                    single in tokens
                    if single is not None
                    else not stems.isdisjoint(tokens) or any(all(t in tokens for t in a) for a in phrases)
                )
            )
            / self.total
        )

    def coverages(self, texts_tokens: Iterable[Tokens]) -> list[float]:
        return [self.coverage(tokens) for tokens in texts_tokens]


def _covered_by_either(single: str | None, stems: frozenset[str], phrases: Term, tokens: Tokens, more: Tokens) -> bool:
    if single is not None:
        return single in tokens or single in more
    if not (stems.isdisjoint(tokens) and stems.isdisjoint(more)):
        return True
    return any(all(t in tokens or t in more for t in a) for a in phrases)


def coverage(weights: dict[Term, float], tokens: Tokens) -> float:
    """IDF-weighted share of the question's terms that the tokens cover (once; TermWeights for many)."""
    return TermWeights(weights).coverage(tokens)


def gram_coverage(query_grams: set[str], grams: frozenset[str]) -> float:
    return len(query_grams & grams) / len(query_grams) if query_grams else 0.0
