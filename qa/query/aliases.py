"""English and French names of places: countries, regions, unions.

A reader may ask in English ("United Kingdom", "European Union") about a French text
("Royaume-Uni", "Union européenne"), or the other way round. The names are CLDR's and ISO
3166-1's, in English and French (``qa/lexicons/en-fr/places.tsv``): each group lists spellings of
one place, all folded (lower case, no accents). A question that mentions one spelling is also
searched with the others that the corpus uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from qa.core import lexicon_files
from qa.core.text import fold


@lru_cache(maxsize=1)
def entity_spellings() -> tuple[tuple[str, ...], ...]:
    """Each place's spellings, folded (``qa/lexicons/en-fr/places.tsv``: CLDR and ISO 3166-1, English and French)."""
    return tuple(tuple(dict.fromkeys(fold(name) for name in names)) for names in lexicon_files.rows("en-fr/places.tsv"))


@lru_cache(maxsize=1)
def _patterns() -> dict[str, list[tuple[int, re.Pattern[str], tuple[str, ...]]]]:
    """First word of a spelling -> (its position in the file, its pattern, its group); "" for the others."""
    patterns: dict[str, list[tuple[int, re.Pattern[str], tuple[str, ...]]]] = {}
    spellings = ((spelling, group) for group in entity_spellings() for spelling in group)
    for position, (spelling, group) in enumerate(spellings):
        # Whole words only: "uk" must not fire inside "ukraine".
        pattern = re.compile(r"(?<!\w)" + re.escape(spelling).replace(r"\ ", r"[\s-]+") + r"(?!\w)")
        first_word = re.match(r"\w*", spelling)
        key = first_word.group(0) if first_word else ""
        patterns.setdefault(key, []).append((position, pattern, group))
    return patterns


def matches(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """(spelling found in the question, its entity group) for every entity the question names."""
    folded = fold(question)
    # A spelling can only match where the question has its first word as a whole word: only those
    # patterns are run (a question meets a thousand spellings), in the file's order.
    table = _patterns()
    words = set(re.findall(r"\w+", folded))
    candidates = sorted((entry for word in (*words, "") for entry in table.get(word, ())), key=lambda entry: entry[0])
    found = []
    for _position, pattern, group in candidates:
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


def load() -> None:
    """Read the place names now rather than on the first question."""
    _patterns()
