"""Text normalisation shared by indexing and querying: accent folding, French tokens, character n-grams.

Documents and questions go through the same functions, so a question typed without
accents ("securite") meets the accented text ("sécurité").

>>> word_tokens("Qu'a dit l’OTAN sur la sécurité ?")
['otan', 'secur']
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS, STOPWORDS_FRENCH

# Questions mix French and English; both lists are small and rarely content words in the other language.
# A few interrogatives and light verbs are added: they carry no topic in a question.
_EXTRA_STOPWORDS = {
    "quel",
    "quelle",
    "quels",
    "quelles",
    "qui",
    "que",
    "quoi",
    "comment",
    "pourquoi",
    "combien",
    "ou",
    "quand",
    "est",
    "sont",
    "ce",
    "cette",
    "ces",
    "cet",
    "il",
    "elle",
    "ils",
    "elles",
    "lui",
    "leur",
    "leurs",
    "dans",
    "sur",
    "pour",
    "par",
    "avec",
    "sans",
    "sous",
    "entre",
    "vers",
    "chez",
    "plus",
    "moins",
    "tres",
    "aussi",
    "donc",
    "fait",
    "faire",
    "etre",
    "avoir",
    "ete",
    "a",
    "what",
    "which",
    "who",
    "whom",
    "how",
    "why",
    "when",
    "where",
    "does",
    "did",
    "do",
    "is",
    "are",
    "was",
    "were",
    "the",
    "of",
    "about",
    "tell",
    "me",
    "briefing",
    "article",
    "dit",
    "selon",
    "ca",
    "cela",
    "ceci",
    "chose",
    "choses",
    # Frequent French function words missing from bm25s's list: as terms they only add noise, and as
    # spelling-correction targets they turn a real word into nothing ("comté" into "comme").
    "comme",
    "tout",
    "toute",
    "tous",
    "toutes",
    "ainsi",
    "alors",
    "chaque",
}
_WORD = re.compile(r"\w+", re.UNICODE)
# French elision: l', d', qu', n', s', c', j', m', t', jusqu', lorsqu', puisqu' (straight or curly apostrophe).
_ELISION = re.compile(r"\b(?:[ldnscjmt]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)


class _CombiningMarksDropped(dict[int, str]):
    """A str.translate table deleting combining marks, filled as characters are met (a C-speed
    lookup per character instead of a Python call)."""

    def __missing__(self, code_point: int) -> str:
        character = chr(code_point)
        self[code_point] = kept = "" if unicodedata.combining(character) else character
        return kept


_DROP_COMBINING_MARKS = _CombiningMarksDropped()


def fold(text: str) -> str:
    """Lower-case and strip accents; œ/æ are expanded so 'cœur' meets 'coeur'.

    >>> fold("Cœur de l’Élysée, ＮＡＴＯ")
    'coeur de l’elysee, nato'
    """
    text = text.lower()
    if text.isascii():
        return text
    text = text.replace("œ", "oe").replace("æ", "ae")
    return unicodedata.normalize("NFKD", text).translate(_DROP_COMBINING_MARKS)


STOPWORDS = frozenset({fold(w) for w in (*STOPWORDS_FRENCH, *STOPWORDS_EN)} | _EXTRA_STOPWORDS)
# English function words that are not also French words: a cheap, robust language signal.
ENGLISH_ONLY = frozenset(STOPWORDS_EN_PLUS) - frozenset(fold(w) for w in STOPWORDS_FRENCH) - {"a"}


# Past this share of English function words, a text or a question reads as English.
ENGLISH_SHARE = 0.1


def english_share(text: str) -> float:
    """Share of a text's words that are English-only function words (0 for French prose)."""
    words = surface_words(text)
    return sum(w in ENGLISH_ONLY for w in words) / len(words) if words else 0.0


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def surface_words(text: str) -> list[str]:
    """Folded words with elisions removed, stop words kept (used for spelling correction)."""
    return _WORD.findall(fold(_ELISION.sub(" ", text)))


def content_words(text: str) -> list[str]:
    """Folded words without stop words or one-letter tokens."""
    return [w for w in surface_words(text) if len(w) > 1 and w not in STOPWORDS]


# The French stemmer reads accents: "organisée" and "sécurité" lose their suffixes, but folded
# "organisee" and "securite" keep them and miss "organise" and "sécurités". Words are folded
# before stemming (so that questions typed without accents agree with the text), so the
# accents of the suffixes that the stemmer needs are put back first.
_ACCENTED_ENDINGS = (
    ("ieres", "ières"),
    ("iere", "ière"),
    ("ees", "ées"),
    ("ee", "ée"),
    ("ites", "ités"),
    ("ite", "ité"),
)


def _accented_ending(word: str) -> str:
    for folded, accented in _ACCENTED_ENDINGS:
        if word.endswith(folded) and len(word) > len(folded) + 1:
            return word[: -len(folded)] + accented
    return word


def stem(words: list[str]) -> list[str]:
    """French stems of folded words (accent-free themselves)."""
    # Only a restored accent the stemmer kept needs folding again: most stems are plain ASCII.
    return [s if s.isascii() else fold(s) for s in _stemmer().stemWords([_accented_ending(w) for w in words])]


def word_tokens(text: str) -> list[str]:
    """Tokens of the word-level lexical index: folded, stop words removed, French-stemmed."""
    return stem(content_words(text))


def char_ngrams(text: str, sizes: tuple[int, ...] = (3, 4, 5)) -> list[str]:
    """Character n-grams of each content word, padded: robust to typos, inflection and cognates.

    'security' and 'sécurité' share 'secur', 'ecuri', ...; 'Chevenning' still shares most grams
    with 'Chevening'.
    """
    grams: list[str] = []
    for word in content_words(text):
        padded = f"_{word}_"
        for n in sizes:
            if len(padded) < n:
                continue
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


@lru_cache(maxsize=2048)  # ~25 KB each: enough for every unit of a briefing, bounded for big corpora
def token_sets(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """A text's stems and character n-grams as sets, memoised: the same passages' units are
    scored against question after question, and tokenising them was most of the answering time."""
    return frozenset(word_tokens(text)), frozenset(char_ngrams(text))


@lru_cache(maxsize=8192)  # about 3 KB each: a tenth of token_sets' entries, which also hold the n-grams
def stem_set(text: str) -> frozenset[str]:
    """A text's stems as a set, memoised: ``token_sets(text)[0]`` for the texts (bodies, headings,
    titles, sentence windows) whose character n-grams are never needed."""
    return frozenset(word_tokens(text))
