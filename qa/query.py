"""Question analysis: clean the reader's text, correct typos against the corpus, add entity aliases.

>>> from qa.lexical_index import LexicalIndex
>>> lexical = LexicalIndex.build(["La réunion de Chevening House."])
>>> analyze("Ou se tient la reunion de Chevenning ?", lexical).corrections
{'chevenning': 'chevening'}
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from qa import aliases
from qa.lexical_index import LexicalIndex
from qa.text import char_ngrams, content_words, stem, word_tokens

MAX_QUESTION_CHARS = 1000
MIN_CORRECTABLE_CHARS = 4
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


@dataclass(frozen=True)
class Query:
    text: str  # the cleaned question, as embedded
    lexical_text: str  # the question plus corrections and aliases, as searched lexically
    words: list[str]  # stemmed word tokens
    chargrams: list[str]
    corrections: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # content words found nowhere in the corpus
    truncated: bool = False


def clean(question: str) -> tuple[str, bool]:
    """Drop control characters, ANSI escapes and invisible marks; fold whitespace; bound the length."""
    text = _ANSI.sub(" ", question)
    text = _INVISIBLE.sub("", text)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Co") else c for c in text)
    text = " ".join(text.split())
    truncated = len(text) > MAX_QUESTION_CHARS
    return text[:MAX_QUESTION_CHARS], truncated


def analyze(question: str, lexical: LexicalIndex, correct_spelling: bool = True, expand_aliases: bool = True) -> Query:
    text, truncated = clean(question)
    vocabulary = lexical.vocabulary
    corrections: dict[str, str] = {}
    unknown: list[str] = []
    for word in dict.fromkeys(content_words(text)):
        if word in vocabulary or word.isdigit() or _stem_known(word, lexical):
            continue
        fixed = _closest(word, vocabulary) if correct_spelling else None
        if fixed:
            corrections[word] = fixed
        else:
            unknown.append(word)
    extra = [*corrections.values(), *(aliases.expand(text) if expand_aliases else [])]
    lexical_text = " ".join([text, *extra])
    return Query(
        text=text,
        lexical_text=lexical_text,
        words=word_tokens(lexical_text),
        chargrams=char_ngrams(lexical_text),
        corrections=corrections,
        unknown=unknown,
        truncated=truncated,
    )


def _closest(word: str, vocabulary: dict[str, int]) -> str | None:
    """The corpus word within a small edit distance (1, or 2 for long words), most frequent on ties."""
    if len(word) < MIN_CORRECTABLE_CHARS:
        return None
    max_distance = 1 if len(word) <= 7 else 2
    matches = process.extract(
        word, vocabulary.keys(), scorer=Levenshtein.distance, score_cutoff=max_distance, limit=5
    )
    if not matches:
        return None
    best = min(matches, key=lambda m: (m[1], -vocabulary[m[0]]))
    return best[0]


def _stem_known(word: str, lexical: LexicalIndex) -> bool:
    return len(lexical.postings("words", stem([word])[0])) > 0
