from __future__ import annotations

import itertools

from qa.query.coverage import TermWeights, covers

# "réunion" with a synonym and a two-word phrase; "Chevening" alone; "Kent".
TERMS = {
    (("reunion",), ("rencontr",), ("sommet", "bilateral")): 2.0,
    (("chevening",),): 3.0,
    (("kent",),): 1.5,
}


def _naive(tokens: set[str]) -> float:
    return sum(w for term, w in TERMS.items() if covers(term, tokens)) / sum(TERMS.values())


def test_a_term_is_covered_by_any_one_of_its_spellings_and_a_phrase_needs_all_its_words() -> None:
    weighted = TermWeights(TERMS)
    assert weighted.coverage({"rencontr", "kent"}) == (2.0 + 1.5) / 6.5
    assert weighted.coverage({"sommet"}) == 0.0
    assert weighted.coverage({"sommet", "bilateral", "chevening"}) == 5.0 / 6.5
    assert TermWeights({}).coverage({"kent"}) == 0.0


def test_coverage_of_two_token_sets_is_that_of_their_union() -> None:
    weighted = TermWeights(TERMS)
    words = ["reunion", "rencontr", "sommet", "bilateral", "chevening", "kent", "londr"]
    for size_a, size_b in itertools.product(range(3), repeat=2):
        for a in itertools.combinations(words, size_a):
            for b in itertools.combinations(words[::-1], size_b):
                expected = _naive(set(a) | set(b))
                assert weighted.coverage(frozenset(a), frozenset(b)) == expected
                assert weighted.coverage(frozenset(a) | frozenset(b)) == expected
