"""What kind of answer a question asks for, and whether a unit holds one the question does not.

"Où se tient la réunion ?" shares no word with its answer "organisée à Chevening House dans le
Kent": the answer is recognised by its shape (a place after à/en/dans), not by overlap. The
French and English question words map onto six shapes; a unit holding such a span that the
question does not already contain gets a bonus in unit scoring.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from text_to_num import alpha2digit

from qa.core import lexicon_files
from qa.core.text import fold

PLACE, TIME, DURATION, NUMBER, PERSON, REASON = "place", "time", "duration", "number", "person", "reason"
DEFINITION = "definition"

# "Qu'est-ce que Chevening House ?", "Que signifie TAC ?", "What does TAC stand for?": the subject
# to define is what follows the question words (group 1).
_DEFINITION_QUESTION = re.compile(
    r"^(?:qu'est[- ]ce (?:que|qu')|c'est quoi|que (?:signifie|veut dire|designe)|what does)\s*(.+?)"
    r"(?:\s+(?:stand for|mean|signifie))?\s*$"
)
# What follows a subject being defined: an apposition ("Chevening House, une résidence..."), a
# parenthesis ("la TAC (Task Assistance Coordination)") or a copula ("X est un...").
_DEFINED = re.compile(r"\s*(?:,\s*(?:une?|le|la|les|l')\b|\(|:|est (?:une?|le|la|l'))")
_QUESTION_WORDS = (
    (PLACE, re.compile(r"^(?:ou|d'ou|dans quel(?:le)?s? (?:lieu|ville|pays|region|comte)|where)\b")),
    (TIME, re.compile(r"^(?:quand|a quel(?:le)? (?:moment|date|heure)|en quelle annee|when)\b")),
    # Before NUMBER: "Combien de temps" asks for a duration, not a count.
    (DURATION, re.compile(r"^(?:combien de temps|pendant combien|quelle (?:est la )?duree|(?:for )?how long)\b")),
    (NUMBER, re.compile(r"^(?:combien|how (?:many|much))\b")),
    (PERSON, re.compile(r"^(?:qui|who|whom)\b")),
    (REASON, re.compile(r"^(?:pourquoi|pour quelle(?:s)? raisons?|dans quel but|why)\b")),
)
_NAME = r"[A-ZÀ-Ý][\w’'-]+(?:\s+[A-ZÀ-Ý][\w’'-]+)*"
# The answer check (``AnswerType.held_by(..., thorough=True)``) also reads bare years, centuries and
# months as dates, and numbers in words as numbers: it declines an answer that lacks them, so it
# must miss as few as it can (PIAF dev's gold answers: numbers 0.819 -> 0.988, dates 0.683 -> 0.908).
_THOROUGH_TIME = re.compile(
    r"\b((?:\d{1,2}(?:er)? )?(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre"
    r"|décembre)|1\d\d\d|20\d\d|(?:[IVXL]+|\d+)e siècle|week-end|lundi|mardi|mercredi|jeudi|vendredi|samedi"
    r"|dimanche|demain|hier)\b",
    re.IGNORECASE,
)
_SHAPES = {
    PLACE: re.compile(rf"\b(?:à|en|au|aux|dans le|dans la|dans les|près de)\s+({_NAME})"),
    TIME: re.compile(
        r"\b(\d{1,2}(?:er)? (?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)"
        r"|(?:19|20)\d\d|week-end|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|demain|hier)\b",
        re.IGNORECASE,
    ),
    DURATION: re.compile(
        r"\b((?:\d+|une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quelques|plusieurs)\s+"
        r"(?:minutes?|heures?|jours?|journées?|semaines?|mois|ans|années?)|week-end|semaine|journée|soirée)\b",
        re.IGNORECASE,
    ),
    NUMBER: re.compile(r"(\d[\d\s,.]*)"),
    PERSON: re.compile(rf"({_NAME}\s+{_NAME})"),  # two capitalised words: a first and last name
    # A cause or a purpose: "parce que...", "afin de...", "pour définir..." (pour + an infinitive).
    REASON: re.compile(
        r"\b(parce que?|car|puisque?|afin (?:de|d|que)|en raison (?:de|du|des|d)|grâce à|dans le but (?:de|d)"
        r"|visant à|pour \w+(?:er|ir|re))(?!\w)",
        re.IGNORECASE,
    ),
}


def _normalized(question: str) -> str:
    """Folded, with straight apostrophes and without the surrounding punctuation: what the patterns read."""
    return fold(question).replace("’", "'").strip(' ¿?¡!«»"')


# "Quel est le montant de ...", "Quelle date ...", "What is the population of ...": the noun after
# the interrogative (and a copula and an article) names the kind of answer (lexicons/*/answer-nouns.tsv).
_ASKED_NOUN = re.compile(
    r"^(?:quel(?:le)?s?|what|which)\s+(?:(?:est|sont|etait|etaient|sera|seront|fut|is|was|are|were|will be)\s+)?"
    r"(?:(?:les|le|la|the)\s+|l')?([a-z]+)\b"
)


@functools.lru_cache(maxsize=1)
def _answer_nouns() -> dict[str, str]:
    """Noun (folded) -> the kind of answer a question asking for it wants (lexicons/*/answer-nouns.tsv)."""
    nouns: dict[str, str] = {}
    for language in ("fr", "en"):
        for noun, kind in lexicon_files.rows(f"{language}/answer-nouns.tsv"):
            nouns.setdefault(noun, kind)
    return nouns


def expected(question: str, nouns: bool = False) -> str | None:
    """The answer shape a question asks for, if its first words say so; with ``nouns``, also the
    kind a "Quel est le montant ..." question names (lexicons/*/answer-nouns.tsv)."""
    folded = _normalized(question)
    if _DEFINITION_QUESTION.match(folded):
        return DEFINITION
    for kind, pattern in _QUESTION_WORDS:
        if pattern.match(folded):
            return kind
    asked_noun = _ASKED_NOUN.match(folded) if nouns else None
    if asked_noun:
        noun = asked_noun.group(1)
        return _answer_nouns().get(noun) or _answer_nouns().get(noun.removesuffix("s"))
    return None


@dataclass(frozen=True)
class AnswerType:
    """The shape of answer a question asks for, with what of the question a unit's span must not repeat."""

    kind: str
    asked: frozenset[str]  # the question's folded words: a name it already uses is not its answer
    subject: str = ""  # for a definition: what is to be defined ("la TAC" -> "tac")

    def held_by(self, unit: str, thorough: bool = False) -> bool:
        """Whether the unit holds a span of that shape sharing no word with the question.

        A name the question already uses ("Qui organise la rencontre de Chevening ?": "Chevening
        House") is what the question is about, not its answer.
        """
        if self.kind == DEFINITION:
            return _defines(unit, self.subject)
        return any(words and self.asked.isdisjoint(words) for words in _shaped_spans(self.kind, unit, thorough))


@functools.lru_cache(maxsize=8192)  # the same passages and units meet question after question
def _shaped_spans(kind: str, unit: str, thorough: bool = False) -> tuple[tuple[str, ...], ...]:
    """The folded words of each span of the unit that has the answer shape ``kind`` (``thorough``:
    see _THOROUGH_TIME)."""
    pattern = _SHAPES[kind]
    if thorough and kind in (NUMBER, DURATION):
        unit = _numerals(unit)
    elif thorough and kind == TIME:
        pattern = _THOROUGH_TIME
    return tuple(tuple(fold(match.group(1)).split()) for match in pattern.finditer(unit))


def _numerals(text: str) -> str:
    """The text with its numbers written in words as digits ("huit prisonniers": "8 prisonniers"),
    French and English; "un" and "une", mostly articles, are left as they are."""
    return alpha2digit(alpha2digit(text, "fr", threshold=2), "en", threshold=2)


def expected_type(question: str, nouns: bool = False) -> AnswerType | None:
    """The answer shape the question asks for, analysed once (None: it asks for none of them)."""
    kind = expected(question, nouns)
    if kind is None:
        return None
    return AnswerType(kind, frozenset(fold(question).split()), _subject(question) if kind == DEFINITION else "")


def holds_new(kind: str, unit: str, question: str, thorough: bool = False) -> bool:
    """``AnswerType.held_by`` for a kind and a question given apart."""
    subject = _subject(question) if kind == DEFINITION else ""
    return AnswerType(kind, frozenset(fold(question).split()), subject).held_by(unit, thorough)


def _subject(question: str) -> str:
    match = _DEFINITION_QUESTION.match(_normalized(question))
    # "Que signifie la TAC ?": the text may say "une TAC" or "TAC"; the article is not the subject.
    return re.sub(r"^(?:le|la|les|l'|un|une|des)\s*", "", match.group(1).strip()) if match else ""


def _defines(unit: str, subject: str) -> bool:
    """Whether the unit names the subject and says what it is right after."""
    if not subject:
        return False
    text = fold(unit).replace("’", "'")
    start = text.find(subject)
    while start >= 0:
        if _DEFINED.match(text, start + len(subject)):
            return True
        start = text.find(subject, start + 1)
    return False


# The kinds of lexicons/fr/interrogatives.tsv, in the order of the learned models' features.
QUESTION_KINDS = ("when", "how_many", "who", "where", "how", "why", "what", "which")


@functools.lru_cache(maxsize=1)
def _interrogatives() -> dict[tuple[str, ...], str]:
    """Interrogative phrase (folded words) -> the kind of question it opens (lexicons/fr/interrogatives.tsv)."""
    return {
        tuple(phrase.replace("'", " ").split()): kind for phrase, kind in lexicon_files.rows("fr/interrogatives.tsv")
    }


def question_kind(question: str) -> str | None:
    """The kind of the question's first interrogative ("Le ministère emploie combien de personnes ?": how_many)."""
    words = fold(question).replace("'", " ").replace("’", " ").replace("-", " ").split()
    table = _interrogatives()
    longest = max(len(phrase) for phrase in table)
    for start in range(len(words)):
        for size in range(min(longest, len(words) - start), 0, -1):
            kind = table.get(tuple(words[start : start + size]))
            if kind:
                return kind
    return None
