"""Follow-up questions: "Et la Russie ?" after "Qui participe à la réunion ?" is read with the previous one.

A question leans on the one before when it opens with a connective ("Et ...", "And ...",
"Qu'en est-il de ..."), has no word of its own ("Pourquoi ?", "When?"), or stands on a reference
with nothing to refer to in itself:

- a pronoun that is the subject or the object of its verb with no noun before the verb for it to
  stand for: in French the subject inverted right after the interrogative ("Pourquoi hisse-t-elle
  le drapeau ?", "Quelles courses a-t-il gagnées ?"), an object pronoun before the verb ("Qui la
  dirige ?", "Qui lui a reproché ... ?"); in English the subject after the first auxiliary ("Why
  did he leave Porsche?");
- any other pronoun or possessive ("Quel est son rôle ?", "Who leads it?", "L'Ukraine y sera-t-elle
  ?") with at most two words of its own.

A question that can stand alone is asked alone, however short ("Où se tient la réunion ?"). No
reference are an impersonal "il" or "it" ("Y a-t-il un accord ?", "What time is it?") and a pronoun
or possessive that repeats the subject its question names ("La Chine est-elle évoquée ?", "Où Iwata
a-t-il fait ses études ?", "When did Leavitt publish her results?"). A pronoun or possessive among
several words of its own ("What is their position on Ukraine's air defence?") is unclear: the
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
>>> reading("What is their position on Ukraine's air defence?", "Who met in Kent?")
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
    connectives: frozenset[tuple[str, ...]]  # French and English, as _tokens
    references: frozenset[str]  # French and English
    possessives: frozenset[str]  # French and English: the references that are determiners
    impersonal: tuple[tuple[str, ...], ...]  # French and English, as _clitic_tokens, longest first
    # French word order: the interrogatives a verb may follow (as _clitic_tokens, longest first), the
    # "quel" words that take a noun first, the prepositions that may open the question, the object
    # pronouns, the other clitics and the auxiliaries that may stand between them and the verb.
    interrogatives: tuple[tuple[str, ...], ...]
    which: frozenset[str]
    subject_interrogatives: frozenset[tuple[str, ...]]  # "qui": may be the verb's subject
    prepositions: frozenset[str]
    objects: frozenset[str]
    clitics: frozenset[str]
    auxiliaries: frozenset[str]
    # English word order: an interrogative, an auxiliary, then the subject ("Why did he leave?").
    english_interrogatives: frozenset[str]
    english_auxiliaries: frozenset[str]
    english_subjects: frozenset[str]


@cache
def _lexicon() -> _Lexicon:
    """The follow-up word lists, French and English, by role."""
    rows: dict[tuple[str, str], set[str]] = defaultdict(set)
    for language in ("fr", "en"):
        for phrase, role in lexicon_files.rows(f"{language}/follow-up.tsv"):
            rows[language, role].add(phrase)

    def both(role: str) -> set[str]:
        return rows["fr", role] | rows["en", role]

    def longest_first(phrases: set[str]) -> tuple[tuple[str, ...], ...]:
        return tuple(sorted((tuple(_clitic_tokens(p)) for p in phrases), key=len, reverse=True))

    kinds = list(lexicon_files.rows("fr/interrogatives.tsv"))
    return _Lexicon(
        connectives=frozenset(tuple(_tokens(p)) for p in both("connective")),
        references=frozenset(both("reference")),
        possessives=frozenset(both("possessive")),
        impersonal=longest_first(both("impersonal")),
        # "Qu'a-t-elle découvert ?": "que" elided.
        interrogatives=longest_first({phrase for phrase, kind in kinds if kind != "which"} | {"qu'"}),
        which=frozenset(phrase for phrase, kind in kinds if kind == "which"),
        subject_interrogatives=frozenset(
            tuple(_clitic_tokens(phrase)) for phrase, kind in kinds if kind == "who" and " " not in phrase
        ),
        prepositions=frozenset(rows["fr", "preposition"]),
        objects=frozenset(rows["fr", "object"]),
        clitics=frozenset(rows["fr", "clitic"]),
        auxiliaries=frozenset(rows["fr", "auxiliary"]),
        english_interrogatives=frozenset(rows["en", "interrogative"]),
        english_auxiliaries=frozenset(rows["en", "auxiliary"]),
        english_subjects=frozenset(rows["en", "subject"]),
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


def _after_interrogative(tokens: list[str], lexicon: _Lexicon) -> tuple[list[str], bool] | None:
    """The words after the question's interrogative phrase ("Jusqu'à quand", "Quelles courses",
    "Combien de buts"), and whether that phrase may be the verb's subject ("Qui"); None for "Quel est
    ...", whose verb comes before what follows."""
    start = 0
    while start < len(tokens) and tokens[start] in lexicon.prepositions:  # "Jusqu'à quand", "Sur quels États"
        start += 1
    rest = tokens[start:]
    if rest and rest[0] in lexicon.which:
        if len(rest) > 1 and rest[1] in lexicon.auxiliaries:
            return None  # "Quel est le budget ?": the verb came, uninverted; what follows is its subject
        # "Quelles courses a-t-il gagnées ?": the noun after "quel" is the object, the pronoun the subject.
        return (rest[1:] if len(rest) > 1 and _inverted_subject(rest[1], lexicon) else rest[2:]), True
    opening = next((p for p in lexicon.interrogatives if tuple(rest[: len(p)]) == p), ())
    rest = rest[len(opening) :]
    if opening and rest[:1] in (["de"], ["d'"]):  # "Combien de buts a-t-il marqués ?": as "quel" + noun
        return rest[2:], True
    return rest, opening in lexicon.subject_interrogatives


def _pronoun_before_verb(after_interrogative: tuple[list[str], bool] | None, lexicon: _Lexicon) -> bool:
    """A French subject pronoun inverted right after the interrogative ("Pourquoi hisse-t-elle ...",
    "Quelles courses a-t-il gagnées ?", "Est-il venu ?"), or an object pronoun before the verb ("Qui la
    dirige ?", "Qui lui a reproché ... ?"): no noun of the question comes before the verb for it to
    stand for. ``after_interrogative``: the question's _after_interrogative."""
    if after_interrogative is None:
        return False
    rest, may_be_subject = after_interrogative
    verb = 0
    while verb < len(rest) and (rest[verb] in lexicon.clitics or rest[verb] in lexicon.objects):
        verb += 1
    if verb == len(rest):
        return False
    if _inverted_subject(rest[verb], lexicon):
        return True
    before, after = rest[:verb], rest[verb:]
    if not any(t in lexicon.objects for t in before):
        return False
    # "le", "la", "les", "l'", "leur" stay determiners when a noun follows them ("Où la réunion se
    # tient-elle ?", "Jusqu'à quand les sanctions ?"). A verb follows a pronoun: an auxiliary, a verb
    # with its subject inverted ("les maintient-on"), or, after an interrogative that is the subject
    # ("Qui la commande ?"), the last word. "lui" is a pronoun wherever it stands.
    return (
        "lui" in before
        or after[0] in lexicon.auxiliaries
        or _inverted_subject(after[0], lexicon, impersonal=True)
        or (may_be_subject and len(after) == 1)
    )


def _without_repeated_subject(
    tokens: list[str], after_interrogative: tuple[list[str], bool] | None, lexicon: _Lexicon
) -> list[str]:
    """The words with the pronoun of a complex inversion left out: in "Quand la DSM a-t-elle été créée ?"
    or "La Chine est-elle évoquée ?", "elle" repeats the subject the question names before the verb."""
    if after_interrogative is None:
        return tokens
    rest = after_interrogative[0]
    verb = next((i for i, t in enumerate(rest) if _inverted_subject(t, lexicon)), None)
    if verb is None or all(t in lexicon.clitics or t in lexicon.objects for t in rest[:verb]):
        return tokens
    if rest[0] in lexicon.prepositions:  # "À quelle distance de la Terre se trouve-t-elle ?": no subject
        return tokens
    # Its possessives are the named subject's too ("Où Iwata a-t-il fait ses études ?").
    repeated = len(tokens) - len(rest) + verb
    kept = [*tokens[:repeated], rest[verb].split("-")[0], *tokens[repeated + 1 :]]
    return [t for t in kept if t not in lexicon.possessives]


def _inverted_subject(token: str, lexicon: _Lexicon, impersonal: bool = False) -> bool:
    # "a-t-il", "est-elle": the inverted subject is a part of a hyphenated word ("on" too, with impersonal).
    return any(part in lexicon.references or (impersonal and part == "on") for part in token.split("-")[1:])


def _english_subject(tokens: list[str], lexicon: _Lexicon) -> str | None:
    """The subject of an English question: the word after its first auxiliary ("Why did he leave?":
    "he"; "When did Leavitt publish her results?": "leavitt"); None if it opens otherwise."""
    if not tokens or (tokens[0] not in lexicon.english_interrogatives and tokens[0] not in lexicon.english_auxiliaries):
        return None
    auxiliary = next((i for i, t in enumerate(tokens) if t in lexicon.english_auxiliaries), None)
    return tokens[auxiliary + 1] if auxiliary is not None and auxiliary + 1 < len(tokens) else None


def _opens_with_connective(tokens: list[str], connectives: frozenset[tuple[str, ...]]) -> bool:
    return any(tuple(tokens[: len(phrase)]) == phrase for phrase in connectives)


def opens_with_connective(question: str) -> bool:
    """ "Et la Russie ?", "What about the E3?": the question names what replaces a part of the one before."""
    return _opens_with_connective(_tokens(question), _lexicon().connectives)


def _has_reference(tokens: list[str], references: frozenset[str]) -> bool:
    # "a-t-il", "est-elle": the inverted subject is a part of a hyphenated word; "celui-ci" is a whole one.
    return any(token in references or any(part in references for part in token.split("-")) for token in tokens)


def reading(question: str, previous: str | None) -> str:
    """How to read the question after previous: ALONE, FOLLOW_UP (with previous) or EITHER (both, the surer kept)."""
    if not previous or not previous.strip():
        return ALONE
    lexicon = _lexicon()
    # A pronoun is no word of the question's own ("What does he ask of his allies?": ask, allies).
    own = [w for w in content_words(question) if w not in lexicon.references]
    if not own:  # "Pourquoi ?", "When?", "Et ?": no word of its own, it can only be about the one before
        return FOLLOW_UP
    words = _tokens(question)
    if _opens_with_connective(words, lexicon.connectives):
        return FOLLOW_UP
    tokens = _without_phrases(_clitic_tokens(question), lexicon.impersonal)
    after_interrogative = _after_interrogative(tokens, lexicon)
    english_subject = _english_subject(_without_phrases(words, lexicon.impersonal), lexicon)
    if _pronoun_before_verb(after_interrogative, lexicon) or english_subject in lexicon.english_subjects:
        return FOLLOW_UP
    named = _without_repeated_subject(tokens, after_interrogative, lexicon)
    if english_subject is not None and english_subject not in lexicon.references:
        named = [t for t in named if t not in lexicon.possessives]  # "her results" are Leavitt's
    if _has_reference(named, lexicon.references):
        return FOLLOW_UP if len(own) <= MAX_OWN_WORDS_WITH_REFERENCE else EITHER
    return ALONE


def leaned_on(question: str, previous: str | None, read_with_previous: bool) -> str:
    """The question the next one leans on: a follow-up keeps the one it was read with ("Et la Chine ?"
    after "Et la Russie ?" is read with the question both follow), any other question is its own."""
    return previous if read_with_previous and previous else question
