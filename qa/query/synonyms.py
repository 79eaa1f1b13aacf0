"""French synonyms, for questions worded otherwise than the text.

Readers reword: they ask where "la réunion" is held when the text says "ce rassemblement", or
what the services "surveillent" when the text says "contrôler". The default embedding model is
English-only, so meaning cannot bridge French words; a general French thesaurus does: the
thesaurus of LibreOffice / Grammalecte (``qa/lexicons/fr/thesaurus.tsv.gz``, LGPL-2.1-or-later),
each word's closest synonyms kept. Words are matched by French stem, so one form stands for its
inflections ("surveiller" for "surveillent").

>>> synonyms("reunion")[:3]
('rassemblement', 'assemblee', 'attroupement')
"""

from __future__ import annotations

from functools import lru_cache

from qa.core import lexicon_files
from qa.core.text import fold, stem


@lru_cache(maxsize=1)
def _thesaurus() -> tuple[dict[str, str], dict[str, str]]:
    """(folded headword -> its synonyms, folded and "|"-joined; stem -> the shortest headword of that stem)."""
    by_word: dict[str, str] = {}
    for word, found in lexicon_files.rows("fr/thesaurus.tsv.gz"):
        word = fold(word)
        by_word[word] = f"{by_word[word]}|{fold(found)}" if word in by_word else fold(found)
    headwords = sorted(by_word, key=len, reverse=True)
    by_stem = dict(zip(stem(headwords), headwords, strict=True))  # the shortest written last, so kept
    return by_word, by_stem


# Verb endings the French stemmer keeps ("surveillent", "maintenues"), with the infinitive ending they
# are looked up as: present tense of -er verbs, the most common; past participles in -u of -ir verbs.
_VERB_ENDINGS = (("ent", "er"), ("ons", "er"), ("ez", "er"), ("ues", "ir"), ("ue", "ir"), ("us", "ir"), ("u", "ir"))


@lru_cache(maxsize=8192)  # a question's words recur across questions; each entry a dozen short words
def synonyms(word: str) -> tuple[str, ...]:
    """Folded synonyms of a folded word, without the words that share its stem.

    The word as written if the thesaurus has it, else its infinitive ("surveillent": "surveiller"),
    else the shortest headword of its stem ("organisee": "organise").
    """
    by_word, by_stem = _thesaurus()
    forms = [word] + [word[: -len(e)] + inf for e, inf in _VERB_ENDINGS if word.endswith(e) and len(word) > len(e) + 3]
    word_stem = stem([word])[0]
    headword = next((f for f in forms if f in by_word), None) or by_stem.get(word_stem)
    if headword is None:
        return ()
    words = list(dict.fromkeys(by_word[headword].split("|")))
    return tuple(w for w, w_stem in zip(words, stem(words), strict=True) if w_stem != word_stem)


def load() -> None:
    """Read the thesaurus now (about half a second) rather than on the first question."""
    _thesaurus()
