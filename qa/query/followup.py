"""Follow-up questions: "Et la Russie ?" after "Qui participe à la réunion ?" is read with the previous one.

A question leans on the one before when it opens with a connective ("Et ...", "And ...",
"Qu'en est-il de ..."), has no word of its own ("Pourquoi ?", "When?"), or stands on a reference
with nothing to refer to in itself: a pronoun or possessive ("Quel est son rôle ?", "Who leads
it?") and at most two words of its own. A question
that can stand alone is asked alone, however short ("Où se tient la réunion ?"). A reference
among several words of its own ("Quand a-t-il rencontré Vance à Londres ?") is unclear: the engine answers
it both ways and keeps the reading it is surer of. The word lists are data:
``qa/lexicons/{fr,en}/follow-up.tsv``.

>>> reading("Et la Russie ?", "Qui participe à la réunion ?")
'follow_up'
>>> reading("Où se tient la réunion ?", "Qui mène la réunion ?")
'alone'
>>> reading("Who leads it?", "Qu'est-ce que le format E3 ?")
'follow_up'
>>> reading("Quand a-t-il rencontré Vance à Londres ?", "Qui est David Lammy ?")
'either'
"""

from __future__ import annotations

import re
from functools import cache

from qa.core import lexicon_files
from qa.core.text import content_words, fold

ALONE, FOLLOW_UP, EITHER = "alone", "follow_up", "either"
# A reference with this many words of the question's own or fewer has nothing else to stand on.
MAX_OWN_WORDS_WITH_REFERENCE = 2
_TOKEN = re.compile(r"[\w'-]+")


@cache
def _lexicon() -> tuple[frozenset[tuple[str, ...]], frozenset[str]]:
    """The connective phrases (as token tuples) and the reference words, French and English."""
    connectives, references = set(), set()
    for language in ("fr", "en"):
        for phrase, role in lexicon_files.rows(f"{language}/follow-up.tsv"):
            if role == "connective":
                connectives.add(tuple(_tokens(phrase)))
            else:
                references.add(phrase)
    return frozenset(connectives), frozenset(references)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text).replace("’", "'"))


def _opens_with_connective(tokens: list[str], connectives: frozenset[tuple[str, ...]]) -> bool:
    return any(tuple(tokens[: len(phrase)]) == phrase for phrase in connectives)


def _has_reference(tokens: list[str], references: frozenset[str]) -> bool:
    # "a-t-il", "est-elle": the inverted subject is a part of a hyphenated word; "celui-ci" is a whole one.
    return any(token in references or any(part in references for part in token.split("-")) for token in tokens)


def reading(question: str, previous: str | None) -> str:
    """How to read the question after previous: ALONE, FOLLOW_UP (with previous) or EITHER (both, the surer kept)."""
    if not previous or not previous.strip():
        return ALONE
    own = content_words(question)
    if not own:  # "Pourquoi ?", "When?", "Et ?": no word of its own, it can only be about the one before
        return FOLLOW_UP
    connectives, references = _lexicon()
    tokens = _tokens(question)
    if _opens_with_connective(tokens, connectives):
        return FOLLOW_UP
    if _has_reference(tokens, references):
        return FOLLOW_UP if len(own) <= MAX_OWN_WORDS_WITH_REFERENCE else EITHER
    return ALONE


def leaned_on(question: str, previous: str | None, read_with_previous: bool) -> str:
    """The question the next one leans on: a follow-up keeps the one it was read with ("Et la Chine ?"
    after "Et la Russie ?" is read with the question both follow), any other question is its own."""
    return previous if read_with_previous and previous else question
