"""Follow-up questions: "Et la Russie ?" after "Qui participe à la réunion ?" is read with the previous one.

A question leans on the one before when it opens with a connective ("Et ...", "And ...",
"Qu'en est-il de ..."), has no word of its own ("Pourquoi ?", "When?"), or stands on a reference
with nothing to refer to in itself:

- a French pronoun that is the subject or the object of its verb, with no noun before the verb
  for it to stand for: the inverted subject right after the interrogative ("Pourquoi hisse-t-elle
  le drapeau ?", "Quand a-t-il rencontré Vance à Londres ?"), an object pronoun before the verb
  ("Qui la dirige ?", "Qui l'a fondée ?"); in "La guerre est-elle finie ?" or "Où la réunion se
  tient-elle ?" the pronoun repeats the noun its question names;
- any other pronoun or possessive ("Quel est son rôle ?", "Who leads it?") with at most two words
  of its own.

A question that can stand alone is asked alone, however short ("Où se tient la réunion ?"), and so
is an impersonal "il" or "it" ("Y a-t-il un accord ?", "What time is it?"). A pronoun or possessive
among several words of its own ("What did they say about Ukraine's air defence?") is unclear: the
engine answers it both ways and keeps the reading it is surer of. The word lists are data:
``qa/lexicons/{fr,en}/follow-up.tsv``, with the interrogatives of ``fr/interrogatives.tsv``.

>>> reading("Et la Russie ?", "Qui participe à la réunion ?")
'follow_up'
>>> reading("Où se tient la réunion ?", "Qui mène la réunion ?")
'alone'
>>> reading("Who leads it?", "Qu'est-ce que le format E3 ?")
'follow_up'
>>> reading("Quand a-t-il rencontré Vance à Londres ?", "Qui est David Lammy ?")
'follow_up'
>>> reading("What did they say about Ukraine's air defence?", "Who met in Kent?")
'either'
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from qa.core import lexicon_files
from qa.core.text import content_words, fold

ALONE, FOLLOW_UP, EITHER = "alone", "follow_up", "either"
# A reference with this many words of the question's own or fewer has nothing else to stand on.
MAX_OWN_WORDS_WITH_REFERENCE = 2
_TOKEN = re.compile(r"[\w'-]+")
_CLITIC_TOKEN = re.compile(r"\w+'|[\w-]+")


@dataclass(frozen=True)
class _Lexicon:
    connectives: frozenset[tuple[str, ...]]  # as _tokens
    references: frozenset[str]
    objects: frozenset[str]  # le, la, les, l': pronouns only before the verb
    clitics: frozenset[str]  # the unstressed words that may stand between the interrogative and the verb
    auxiliaries: frozenset[str]
    impersonal: tuple[tuple[str, ...], ...]  # as _clitic_tokens, longest first
    interrogatives: tuple[tuple[str, ...], ...]  # those a verb may follow, as _clitic_tokens, longest first


@cache
def _lexicon() -> _Lexicon:
    """The follow-up word lists, French and English, by role."""
    by_role: dict[str, set[str]] = defaultdict(set)
    for language in ("fr", "en"):
        for phrase, role in lexicon_files.rows(f"{language}/follow-up.tsv"):
            by_role[role].add(phrase)
    # "Quel", "quelle"... take a noun before the verb ("Quelles consoles a-t-il lancées ?"): the
    # pronoun may stand for that noun, so they do not count as an interrogative a verb follows.
    interrogatives = {phrase for phrase, kind in lexicon_files.rows("fr/interrogatives.tsv") if kind != "which"}

    def longest_first(phrases: set[str]) -> tuple[tuple[str, ...], ...]:
        return tuple(sorted((tuple(_clitic_tokens(p)) for p in phrases), key=len, reverse=True))

    return _Lexicon(
        connectives=frozenset(tuple(_tokens(p)) for p in by_role["connective"]),
        references=frozenset(by_role["reference"]),
        objects=frozenset(by_role["object"]),
        clitics=frozenset(by_role["clitic"]),
        auxiliaries=frozenset(by_role["auxiliary"]),
        impersonal=longest_first(by_role["impersonal"]),
        interrogatives=longest_first(interrogatives),
    )


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text).replace("’", "'"))


def _clitic_tokens(text: str) -> list[str]:
    """Folded words with an elided word apart ("l'accueille": "l'", "accueille"), hyphens kept ("a-t-il")."""
    return _CLITIC_TOKEN.findall(fold(text).replace("’", "'"))


def _without_phrases(tokens: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[str]:
    kept, i = [], 0
    while i < len(tokens):
        found = next((p for p in phrases if tuple(tokens[i : i + len(p)]) == p), None)
        if found:
            i += len(found)
        else:
            kept.append(tokens[i])
            i += 1
    return kept


def _pronoun_before_verb(tokens: list[str], lexicon: _Lexicon) -> bool:
    """A subject pronoun inverted right after the interrogative ("Pourquoi hisse-t-elle ...", "Est-il
    venu ?"), or an object pronoun before the verb ("Qui la dirige ?", "Qui l'a fondée ?"): no noun
    of the question comes before the verb for it to stand for."""
    start = next((len(p) for p in lexicon.interrogatives if tuple(tokens[: len(p)]) == p), 0)
    rest = tokens[start:]
    verb = 0
    while verb < len(rest) and (rest[verb] in lexicon.clitics or rest[verb] in lexicon.objects):
        verb += 1
    if verb == len(rest):
        return False
    if any(part in lexicon.references for part in rest[verb].split("-")[1:]):
        return True
    if not any(t in lexicon.objects for t in rest[:verb]):
        return False
    # "la" stays an article when a noun and a verb follow it ("Où la réunion se tient-elle ?"); a verb
    # alone, or an auxiliary and its participle, can only follow a pronoun.
    after = rest[verb:]
    return len(after) == 1 or (len(after) == 2 and after[0] in lexicon.auxiliaries)


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
    lexicon = _lexicon()
    if _opens_with_connective(_tokens(question), lexicon.connectives):
        return FOLLOW_UP
    tokens = _without_phrases(_clitic_tokens(question), lexicon.impersonal)
    if _pronoun_before_verb(tokens, lexicon):
        return FOLLOW_UP
    if _has_reference(tokens, lexicon.references):
        return FOLLOW_UP if len(own) <= MAX_OWN_WORDS_WITH_REFERENCE else EITHER
    return ALONE


def leaned_on(question: str, previous: str | None, read_with_previous: bool) -> str:
    """The question the next one leans on: a follow-up keeps the one it was read with ("Et la Chine ?"
    after "Et la Russie ?" is read with the question both follow), any other question is its own."""
    return previous if read_with_previous and previous else question
