"""English/French names of institutions, places and people of international news, and their acronyms.

A reader may ask in English ("NATO", "White House", "Kyiv") about a French text ("OTAN",
"Maison Blanche", "Kiev"), or the other way round. This gazetteer is generic to geopolitical
news, not to one briefing: each group lists spellings of one entity, all folded (lower case,
no accents). A question that mentions one spelling is also searched with the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from qa.core.text import fold

ENTITY_SPELLINGS: tuple[tuple[str, ...], ...] = (
    ("otan", "nato", "alliance atlantique", "north atlantic treaty organization"),
    ("onu", "nations unies", "united nations"),
    ("ue", "union europeenne", "european union"),
    ("etats unis", "usa", "united states", "etats-unis", "amerique", "america"),
    ("royaume uni", "royaume-uni", "united kingdom", "uk", "britain", "grande bretagne", "grande-bretagne"),
    ("maison blanche", "white house"),
    ("pentagone", "pentagon"),
    ("foreign office", "ministere des affaires etrangeres britannique"),
    ("downing street", "10 downing street"),
    ("kiev", "kyiv", "kyev"),
    ("moscou", "moscow"),
    ("londres", "london"),
    ("washington",),
    ("paris",),
    ("berlin",),
    ("russie", "russia", "russian federation", "federation de russie"),
    ("ukraine", "ukraina"),
    ("allemagne", "germany"),
    ("chine", "china"),
    ("europe",),
    ("poutine", "putin"),
    ("zelensky", "zelenskyy", "zelenskiy", "zelenski"),
    ("elysee", "elysee palace", "palais de l elysee"),
    ("mi6", "secret intelligence service", "sis"),
    ("cia", "central intelligence agency"),
    ("cessez-le-feu", "cessez le feu", "ceasefire", "cease-fire"),
)


# News names a country by its capital ("Moscou refuse", "Washington annonce"): a question naming the
# capital also searches the country. One way only: a question about Russia is not about Moscow.
CAPITAL_OF: dict[str, str] = {
    "moscou": "russie",
    "moscow": "russie",
    "kiev": "ukraine",
    "kyiv": "ukraine",
    "washington": "etats unis",
    "londres": "royaume uni",
    "london": "royaume uni",
    "paris": "france",
    "berlin": "allemagne",
    "pekin": "chine",
    "beijing": "chine",
    "bruxelles": "union europeenne",
    "brussels": "union europeenne",
}


def countries_named_by_capital(question: str, in_corpus: Callable[[str], bool]) -> list[str]:
    """The corpus's spellings of the countries whose capital the question names ("Moscou" -> "russie")."""
    words = set(re.findall(r"\w+", fold(question)))
    found: list[str] = []
    for capital, country in CAPITAL_OF.items():
        if capital in words:
            group = next((g for g in ENTITY_SPELLINGS if country in g), (country,))
            found.extend(s for s in group if s not in found and in_corpus(s))
    return found


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern[str], tuple[str, ...]]]:
    """(first word, pattern, group) of every spelling."""
    patterns = []
    for group in ENTITY_SPELLINGS:
        for spelling in group:
            # Whole words only: "uk" must not fire inside "ukraine".
            pattern = re.compile(r"(?<!\w)" + re.escape(spelling).replace(r"\ ", r"[\s-]+") + r"(?!\w)")
            first_word = re.match(r"\w*", spelling)
            patterns.append((first_word.group(0) if first_word else "", pattern, group))
    return patterns


def matches(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """(spelling found in the question, its entity group) for every entity the question names."""
    folded = fold(question)
    # A spelling can only match where the question has its first word as a whole word: the other
    # patterns are not run (a question is checked against a hundred spellings).
    words = set(re.findall(r"\w+", folded))
    found = []
    for first_word, pattern, group in _patterns():
        if first_word and first_word not in words:
            continue
        match = pattern.search(folded)
        if match:
            found.append((match.group(0), group))
    return found


def expand(found: list[tuple[str, tuple[str, ...]]], in_corpus: Callable[[str], bool]) -> list[str]:
    """The corpus's own spellings of the entities ``found`` (see ``matches``) that the corpus spells otherwise.

    "NATO" in a question about a French text adds "otan"; "OTAN" adds nothing, and neither
    does any spelling the corpus does not use, which would only add noise to the search.
    """
    extra: list[str] = []
    for spelling, group in found:
        if not in_corpus(spelling):
            extra.extend(s for s in group if s not in extra and in_corpus(s))
    return extra
