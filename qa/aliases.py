"""English/French names of institutions, places and people of international news, and their acronyms.

A reader may ask in English ("NATO", "White House", "Kyiv") about a French text ("OTAN",
"Maison Blanche", "Kiev"), or the other way round. This gazetteer is generic to geopolitical
news, not to one briefing: each group lists spellings of one entity, all folded (lower case,
no accents). A question that mentions one spelling is also searched with the others.
"""

from __future__ import annotations

import re
from functools import lru_cache

from qa.text import fold

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


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    patterns = []
    for group in ENTITY_SPELLINGS:
        for spelling in group:
            # Whole words only: "uk" must not fire inside "ukraine".
            pattern = re.compile(r"(?<!\w)" + re.escape(spelling).replace(r"\ ", r"[\s-]+") + r"(?!\w)")
            patterns.append((pattern, group))
    return patterns


def expand(question: str) -> list[str]:
    """Other spellings of the entities a question names (folded), to be searched as well."""
    folded = fold(question)
    extra: list[str] = []
    for pattern, group in _patterns():
        if pattern.search(folded):
            extra.extend(s for s in group if s not in extra)
    return extra
