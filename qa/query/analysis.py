"""Question analysis, once: clean the text, correct typos against the corpus, add aliases, translations
and synonyms, and find the answer type and the terms' weights that every later stage reads.

>>> from qa.index.lexical_index import LexicalIndex
>>> lexical = LexicalIndex.build(["La réunion de Chevening House."])
>>> analyze("Ou se tient la reunion de Chevenning ?", lexical).corrections
{'chevenning': 'chevening'}
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from qa.core import lexicon_files
from qa.core.pipeline import Work
from qa.core.text import ENGLISH_SHARE, char_ngrams, content_words, english_share, fold, stem, word_tokens
from qa.index.lexical_index import LexicalIndex
from qa.query import aliases, answer_types, followup, glossary, synonyms
from qa.query.answer_types import AnswerType
from qa.query.coverage import Term, TermWeights

MAX_QUESTION_CHARS = 1000
# Words that frame a question rather than name its topic ("Que signifie ce sigle ?", "De quoi parle le
# texte ?", "What does it stand for?"): a text rarely contains them, and when it does not, they are neither
# searched for nor counted as unknown (which would lower the confidence as an unknown topic word does).
QUESTION_FRAME = frozenset(
    fold(row[0]) for language in ("fr", "en") for row in lexicon_files.rows(f"{language}/question-frame.tsv")
)
MIN_CORRECTABLE_CHARS = 4
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


# Parts of the analysis that can be left out (the benchmark's ablations).
SPELLING, ALIASES, ENGLISH, SYNONYMS, ANSWER_TYPES = "spelling", "aliases", "english", "synonyms", "answer_types"
ANALYSIS_PARTS = (SPELLING, ALIASES, ENGLISH, SYNONYMS, ANSWER_TYPES)


@dataclass(frozen=True)
class Query:
    """The question analysed once: every later stage reads it, none re-derives any of it."""

    text: str  # the cleaned question, as embedded
    lexical_text: str  # the question plus corrections and aliases, as searched lexically
    words: list[str]  # stemmed word tokens of lexical_text
    chargrams: list[str]
    # Question word -> the corpus word(s) searched for it: a typo's correction, an English word's French.
    corrections: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # content words found nowhere in the corpus
    # Unknown words written as names (capitalised mid-question, or with digits): "Macron", "2024".
    unknown_names: list[str] = field(default_factory=list)
    # Question words searched under another spelling (a typo's correction, an alias, a translation):
    # "Chevenning", "NATO", "meeting".
    respelled: list[str] = field(default_factory=list)
    # Words that only frame the question and that the corpus lacks (see QUESTION_FRAME): not searched.
    frame_words: list[str] = field(default_factory=list)
    # Words the corpus lacks that are searched as its synonyms only (a thesaurus neighbour is weaker
    # evidence than the word or its translation): the confidence weighs them apart.
    stand_ins: list[str] = field(default_factory=list)
    # What is searched for each respelled word: any one alternative (its stems) in a text covers that word.
    alternatives: list[Term] = field(default_factory=list)
    # The names the question writes (capitalised mid-question: "l'Élysée", "Zelenski") that the corpus
    # has, each as the stems that spell it there (any one alternative): retrieval demotes the passages
    # naming none of the rare ones.
    names: list[Term] = field(default_factory=list)
    # A question stem the corpus has -> the stems of its synonyms that the corpus also has: a unit holding
    # one covers the word ("reunion" -> ("rencontr",)). Not searched: in BM25 they cost more than they found.
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    english: float = 0.0  # share of English function words: the question's language
    truncated: bool = False
    stems: list[str] = field(default_factory=list)  # stemmed word tokens of the question as asked
    folded_words: frozenset[str] = frozenset()  # the question's words folded, apostrophes split
    kind: str | None = None  # its first interrogative's kind (when, who, how_many...; lexicons/fr)
    answer_type: AnswerType | None = None  # the shape of answer it asks for (a place for "Où"...)
    # Each question term with its IDF (see term_weights): the re-ranker, the unit scorer and the
    # confidence weigh coverage with it.
    terms: dict[Term, float] = field(default_factory=dict)

    @cached_property
    def weighted_terms(self) -> TermWeights:
        """``terms`` arranged once for the many coverage tests of this question."""
        return TermWeights(self.terms)


def clean(question: str) -> tuple[str, bool]:
    """Drop control characters, ANSI escapes and invisible marks; fold whitespace; bound the length."""
    text = _ANSI.sub(" ", question)
    text = _INVISIBLE.sub("", text)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Co") else c for c in text)
    text = " ".join(text.split())
    truncated = len(text) > MAX_QUESTION_CHARS
    return text[:MAX_QUESTION_CHARS], truncated


@dataclass
class _Spellings:
    """What the analysis finds of the question's words, word by word (see _respell)."""

    corrections: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    alternatives: list[list[list[str]]] = field(default_factory=list)
    frame_words: list[str] = field(default_factory=list)
    stand_ins: list[str] = field(default_factory=list)
    related: dict[str, tuple[str, ...]] = field(default_factory=dict)
    spelled_as: dict[str, list[list[str]]] = field(default_factory=dict)  # respelled word -> what is searched
    respelled: list[str] = field(default_factory=list)
    alias_words: list[str] = field(default_factory=list)


class _Corpus:
    """The corpus's vocabulary as the analysis asks of it."""

    def __init__(self, lexical: LexicalIndex, parts: tuple[str, ...]) -> None:
        self.lexical, self.vocabulary, self.parts = lexical, lexical.vocabulary, frozenset(parts)

    def knows(self, word: str) -> bool:
        return word in self.vocabulary or _stem_known(word, self.lexical)

    def has_phrase(self, phrase: str) -> bool:
        words = content_words(phrase)
        return bool(words) and all(self.knows(w) for w in words)

    def synonyms(self, word: str) -> list[str]:
        return [s for s in synonyms.synonyms(word) if self.has_phrase(s)] if SYNONYMS in self.parts else []


def load_lexicons() -> None:
    """Read every word list now: the engine does at start, so that no reader's first question waits."""
    glossary.load()
    synonyms.load()
    aliases.load()


def analyze(question: str, lexical: LexicalIndex, parts: tuple[str, ...] = ANALYSIS_PARTS) -> Query:
    """The question's one analysis against the corpus; ``parts``: which of ANALYSIS_PARTS to apply."""
    text, truncated = clean(question)
    return analyze_clean(text, truncated, lexical, parts)


def analyze_clean(text: str, truncated: bool, lexical: LexicalIndex, parts: tuple[str, ...] = ANALYSIS_PARTS) -> Query:
    """``analyze`` for a question already cleaned (``clean``): the engine cleans it once, to check it."""
    corpus = _Corpus(lexical, parts)
    found = _respell(text, corpus)
    if ALIASES in parts:
        _add_aliases(text, corpus, found)
    lexical_text = " ".join([text, *found.corrections.values(), *found.alias_words])
    query = Query(
        unknown_names=_names_among(text, found.unknown),
        names=list(dict.fromkeys(_names_known(text, corpus, found))),
        english=english_share(text),
        text=text,
        lexical_text=lexical_text,
        words=word_tokens(lexical_text),
        chargrams=char_ngrams(lexical_text),
        corrections=found.corrections,
        unknown=found.unknown,
        respelled=found.respelled,
        frame_words=found.frame_words,
        stand_ins=found.stand_ins,
        alternatives=[_term(alts) for alts in found.alternatives],
        synonyms=found.related,
        truncated=truncated,
        stems=word_tokens(text),
        folded_words=frozenset(fold(text).replace("'", " ").split()),
        kind=answer_types.question_kind(text),
        answer_type=answer_types.expected_type(text) if ANSWER_TYPES in parts else None,
    )
    return replace(query, terms=term_weights(query, lexical))


def _respell(text: str, corpus: _Corpus) -> _Spellings:
    """Each content word: known (with its corpus synonyms), a frame word, respelled, or unknown."""
    # Only a question that reads as English is translated: a French word the corpus lacks is not an
    # English word, even where the two languages spell alike ("plan", "date", "conclusion").
    english = glossary.translations(text) if ENGLISH in corpus.parts and english_share(text) > ENGLISH_SHARE else {}
    found = _Spellings()
    for word in dict.fromkeys(content_words(text)):
        if corpus.knows(word):
            synonyms_found = corpus.synonyms(word)
            if synonyms_found:
                found.related[stem([word])[0]] = tuple(dict.fromkeys(stem(synonyms_found)))
            continue
        if word in QUESTION_FRAME:
            found.frame_words.append(word)
            continue
        # An English word is searched as its French equivalents, and a French word the text does
        # not use as its synonyms that it does, before any attempt to correct it into a word it is
        # only spelt like ("meeting" is not "meetings" misspelt, "surveillent" is not "surveillance").
        translated = english.get(word)
        french = [f for f in translated or () if corpus.has_phrase(f)]
        if translated is None:
            french = corpus.synonyms(word)
            if french:
                found.stand_ins.append(word)
        # An English word the dictionary knows is no typo of a French one ("want" is not "tant").
        spelling = SPELLING in corpus.parts and translated is None
        fixed = " ".join(french) if french else (_closest(word, corpus.vocabulary) if spelling else None)
        if fixed:
            found.corrections[word] = fixed
            # A typo's correction is one alternative; each French equivalent of an English word is one.
            found.alternatives.append([word_tokens(f) for f in french] if french else [word_tokens(fixed)])
            found.spelled_as[word] = found.alternatives[-1]
        else:
            found.unknown.append(word)
    found.respelled = list(found.corrections)
    return found


def _add_aliases(text: str, corpus: _Corpus, found: _Spellings) -> None:
    """A name the corpus spells otherwise ("NATO" for "OTAN") is searched as it spells it, and is not unknown."""
    for spelling, group in aliases.matches(text):
        corpus_spellings = aliases.expand([(spelling, group)], corpus.has_phrase)
        if corpus_spellings:
            spelled = [w for w in content_words(spelling) if w not in corpus.vocabulary]
            found.unknown = [w for w in found.unknown if w not in spelled]
            found.respelled.extend(w for w in spelled if w not in found.respelled)
            found.alias_words.extend(w for w in corpus_spellings if w not in found.alias_words)
            found.alternatives.append([word_tokens(s) for s in corpus_spellings])
            found.spelled_as.update(dict.fromkeys(spelled, found.alternatives[-1]))


def _names_known(text: str, corpus: _Corpus, found: _Spellings) -> list[Term]:
    names = []
    for word in _written_as_names(text):
        if word in found.spelled_as:
            names.append(_term(found.spelled_as[word]))
        elif corpus.knows(word):
            names.append(((stem([word])[0],),))
    return names


def term_weights(query: Query, lexical: LexicalIndex) -> dict[Term, float]:
    """Each question term with its IDF; stems absent from the corpus weigh the most.

    A misspelt or foreign word ("Chevenning", "meeting", "NATO") is covered by any one of the
    corpus spellings searched for it ("chevening"; "réunion" or "rencontre"; "OTAN" or "Alliance
    atlantique"): a unit cannot contain the misspelling, nor need it contain every translation.
    A word with synonyms in the corpus is covered by itself or any of them ("réunion" by
    "rencontre"), at the word's own weight.
    """
    left_out = set(stem([*query.respelled, *query.frame_words]))
    weights: dict[Term, float] = {}
    for t in query.stems:
        if t not in left_out:
            weights[((t,), *((s,) for s in query.synonyms.get(t, ())))] = lexical.idf("words", t)
    for term in query.alternatives:
        weights[term] = max(lexical.idf("words", t) for alternative in term for t in alternative)
    return weights


@dataclass(frozen=True)
class AnalyzeQuestion:
    """Analyses the question asked, and a follow-up's reading with the question before it.

    ``applied``: the parts of the analysis applied (ANALYSIS_PARTS; each can be left out).
    """

    applied: tuple[str, ...] = ANALYSIS_PARTS
    name: str = "analysis"
    timing: str = "analyze"

    def parts(self) -> tuple[str, ...]:
        return self.applied

    def without(self, name: str) -> AnalyzeQuestion:
        return replace(self, applied=tuple(part for part in self.applied if part != name))

    def run(self, work: Work) -> None:
        # work.previous is set only when the question is read as a follow-up (the engine decides).
        lexical = work.index.lexical
        work.variants = [analyze_clean(work.text, work.truncated, lexical, self.applied)]
        if work.previous:
            joined = analyze_clean(f"{work.previous} {work.text}", False, lexical, self.applied)
            asked = work.variants[0]
            own_words_suffice = work.in_previous_document or followup.opens_with_connective(work.text)
            if not content_words(work.text) or not own_words_suffice:
                # "Pourquoi ?", "Par qui ?": nothing of its own to match; "Où se trouve-t-elle ?": its
                # pronoun stands for words of the question before. Their words pick the passage and
                # the extract; the kind of answer is the one asked now. Not so for a follow-up that
                # names what it asks instead ("Et la Russie ?"), nor within the document the question
                # before was answered from, whose subject the pronoun already stands for ("Où a-t-il
                # étudié ?" in an article on Satoru Iwata).
                work.variants[0] = replace(joined, text=asked.text, kind=asked.kind, answer_type=asked.answer_type)
            work.variants.append(joined)


def _term(alternatives: list[list[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(dict.fromkeys(tuple(a) for a in alternatives if a))


def _written_as_names(text: str, numbers: bool = False) -> list[str]:
    """Folded words capitalised after the question's first word ("Que pense l'Élysée ?": "elysee"),
    and with ``numbers`` any word holding a digit ("2024")."""
    names = [
        fold(raw)
        for position, raw in enumerate(re.findall(r"\w+", text))
        if (raw[:1].isupper() and position > 0) or (numbers and any(c.isdigit() for c in raw))
    ]
    return list(dict.fromkeys(names))


def _names_among(text: str, unknown: list[str]) -> list[str]:
    if not unknown:
        return []
    names = set(_written_as_names(text, numbers=True))
    return [w for w in unknown if w in names]


def _closest(word: str, vocabulary: dict[str, int]) -> str | None:
    """The corpus word within a small edit distance (1, or 2 for long words), most frequent on ties."""
    # Numbers are not typos: "2024" is not a misspelt "2025", and an unknown year says the question is out of scope.
    if len(word) < MIN_CORRECTABLE_CHARS or any(c.isdigit() for c in word):
        return None
    max_distance = 1 if len(word) <= 7 else 2
    matches = process.extract(word, vocabulary.keys(), scorer=Levenshtein.distance, score_cutoff=max_distance, limit=5)
    if not matches:
        return None
    best = min(matches, key=lambda m: (m[1], -vocabulary[m[0]]))
    return best[0]


def _stem_known(word: str, lexical: LexicalIndex) -> bool:
    return len(lexical.postings("words", stem([word])[0])) > 0
