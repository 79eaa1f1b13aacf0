"""English to French translations, for English questions about French text.

The default embedding model is English-only and BM25 matches words, so "Where is the meeting
held?" shares nothing with "la réunion organisée à ...". An English word the corpus does not
contain is also searched as those of its French translations that the corpus does contain. The
translations are FreeDict's English-French dictionary and its French-English one inverted
(``qa/lexicons/en-fr/freedict.tsv``, general vocabulary, GPL-2.0-or-later), matched by English
stem; irregular verb forms ("held", "met") are brought back to their base form first
(``qa/lexicons/en/irregular-verbs.tsv``). Country names are in ``qa.query.aliases``.

>>> translations("Where is the meeting held?")
{'meeting': ('reunir', 'rencontrer', 'seance', 'reunion'), 'held': ('tenir',)}
"""

from __future__ import annotations

from functools import lru_cache

import Stemmer

from qa.core import lexicon_files
from qa.core.text import content_words, fold


@lru_cache(maxsize=1)
def _english_stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _base_forms() -> dict[str, str]:
    """Irregular past and participle forms -> the verb's base form ("held" -> "hold")."""
    table: dict[str, str] = {}
    for base, *forms in lexicon_files.rows("en/irregular-verbs.tsv"):
        for form in ",".join(forms).split(","):
            if form != base:
                table.setdefault(form, base)
    return table


@lru_cache(maxsize=1)
def _by_stem() -> dict[str, tuple[str, ...]]:
    stemmer = _english_stemmer()
    table: dict[str, tuple[str, ...]] = {}
    for english, french in lexicon_files.rows("en-fr/freedict.tsv"):
        key = stemmer.stemWord(english)
        table[key] = tuple(dict.fromkeys((*table.get(key, ()), *(fold(f) for f in french.split("|")))))
    return table


def translations(text: str) -> dict[str, tuple[str, ...]]:
    """French equivalents (folded) of the English words of a text that the dictionary knows."""
    table = _by_stem()
    base_forms = _base_forms()
    stemmer = _english_stemmer()
    found: dict[str, tuple[str, ...]] = {}
    for word in dict.fromkeys(content_words(text)):
        french = table.get(stemmer.stemWord(base_forms.get(word, word)))
        if french:
            found[word] = french
    return found


def load() -> None:
    """Read the dictionary now rather than on the first English question."""
    _by_stem(), _base_forms()
