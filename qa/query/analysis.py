"""Question analysis: clean the reader's text, correct typos against the corpus, add entity aliases.

>>> from qa.index.lexical_index import LexicalIndex
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

from qa.core.text import char_ngrams, content_words, english_share, fold, stem, word_tokens
from qa.index.lexical_index import LexicalIndex
from qa.query import aliases, glossary, synonyms

MAX_QUESTION_CHARS = 1000
# Words that frame a question rather than name its topic ("Que signifie TAC ?", "À quoi sert
# l'OTAN ?", "Quels sujets sont abordés ?", "selon l'article", "Pourquoi est-elle jugée cruciale ?").
# A text rarely contains them, and when it does not, they are neither searched for nor counted as
# unknown (which would lower the confidence as an unknown topic word does).
QUESTION_FRAME = frozenset(
    fold(word)
    for word in (
        "signifie", "signifient", "signifier", "signification", "veut", "veulent", "dire", "sert", "servent",
        "servir", "consiste", "consistent", "désigne", "désignent", "correspond", "correspondent", "parle",
        "parlent", "traite", "traitent", "évoque", "évoquent", "évoqué", "évoqués", "évoquée", "évoquées",
        "aborde", "abordent", "abordé", "abordés", "abordée", "abordées", "mentionne", "mentionnent",
        "mentionné", "mentionnés", "mentionnée", "mentionnées", "sujet", "sujets", "thème", "thèmes",
        "propos", "concerne", "concernent", "agit", "explique", "expliquent", "décrit", "décrivent",
        "raconte", "lire", "lit", "article", "texte", "briefing", "document", "selon", "dure", "durent", "duré",
        "durée", "jugé", "jugée", "jugés", "jugées", "considéré", "considérée", "considérés", "considérées",
        "estimé", "estimée", "estimés", "estimées", "perçu", "perçue", "perçus", "perçues", "qualifié",
        "qualifiée", "qualifiés", "qualifiées",
        # The kind of place asked for ("Dans quel comté...?") names the answer's category, not the topic.
        "comté", "comtés", "région", "régions", "ville", "villes", "lieu", "lieux", "endroit", "endroits",
        "département", "province", "localité",
        # English: "What does TAC stand for?", "What is meant by...?"
        "stand", "stands", "mean", "means", "meant", "meaning", "refer", "refers", "mention", "mentions",
        "mentioned", "say", "says", "said",
    )
)  # fmt: skip
MIN_CORRECTABLE_CHARS = 4
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


@dataclass(frozen=True)
class Query:
    text: str  # the cleaned question, as embedded
    lexical_text: str  # the question plus corrections and aliases, as searched lexically
    words: list[str]  # stemmed word tokens
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
    # What is searched for each respelled word: any one alternative (its stems) in a text covers that word.
    alternatives: list[tuple[tuple[str, ...], ...]] = field(default_factory=list)
    # The names the question writes (capitalised mid-question: "l'Élysée", "Zelenski") that the corpus
    # has, each as the stems that spell it there (any one alternative): retrieval demotes the passages
    # naming none of the rare ones.
    names: list[tuple[tuple[str, ...], ...]] = field(default_factory=list)
    # A question stem the corpus has -> the stems of its synonyms that the corpus also has: a unit holding
    # one covers the word ("reunion" -> ("rencontr",)). Not searched: in BM25 they cost more than they found.
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    english: float = 0.0  # share of English function words: the question's language
    truncated: bool = False


def clean(question: str) -> tuple[str, bool]:
    """Drop control characters, ANSI escapes and invisible marks; fold whitespace; bound the length."""
    text = _ANSI.sub(" ", question)
    text = _INVISIBLE.sub("", text)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Co") else c for c in text)
    text = " ".join(text.split())
    truncated = len(text) > MAX_QUESTION_CHARS
    return text[:MAX_QUESTION_CHARS], truncated


def analyze(
    question: str,
    lexical: LexicalIndex,
    correct_spelling: bool = True,
    expand_aliases: bool = True,
    translate: bool = True,
    expand_synonyms: bool = True,
) -> Query:
    text, truncated = clean(question)
    vocabulary = lexical.vocabulary
    corrections: dict[str, str] = {}
    unknown: list[str] = []

    def in_corpus(phrase: str) -> bool:
        words = content_words(phrase)
        return bool(words) and all(w in vocabulary or _stem_known(w, lexical) for w in words)

    english = glossary.translations(text) if translate else {}
    alternatives: list[list[list[str]]] = []
    frame_words: list[str] = []
    related: dict[str, tuple[str, ...]] = {}
    spelled_as: dict[str, list[list[str]]] = {}  # a respelled question word -> what is searched for it

    def corpus_synonyms(word: str) -> list[str]:
        return [s for s in synonyms.synonyms(word) if in_corpus(s)] if expand_synonyms else []

    for word in dict.fromkeys(content_words(text)):
        if word in vocabulary or _stem_known(word, lexical):
            found = corpus_synonyms(word)
            if found:
                related[stem([word])[0]] = tuple(dict.fromkeys(stem(found)))
            continue
        if word in QUESTION_FRAME:
            frame_words.append(word)
            continue
        # An English word is searched as its French equivalents, and a French word the text does
        # not use as its synonyms that it does, before any attempt to correct it into a word it is
        # only spelt like ("meeting" is not "meetings" misspelt, "surveillent" is not "surveillance").
        french = [f for f in english.get(word, ()) if in_corpus(f)] or corpus_synonyms(word)
        fixed = " ".join(french) if french else (_closest(word, vocabulary) if correct_spelling else None)
        if fixed:
            corrections[word] = fixed
            # A typo's correction is one alternative; each French equivalent of an English word is one.
            alternatives.append([word_tokens(f) for f in french] if french else [word_tokens(fixed)])
            spelled_as[word] = alternatives[-1]
        else:
            unknown.append(word)
    respelled = list(corrections)

    alias_words: list[str] = []
    for spelling, group in aliases.matches(text) if expand_aliases else []:
        corpus_spellings = aliases.expand([(spelling, group)], in_corpus)
        if corpus_spellings:  # a name the corpus spells otherwise ("NATO" for "OTAN") is not unknown
            spelled = [w for w in content_words(spelling) if w not in vocabulary]
            unknown = [w for w in unknown if w not in spelled]
            respelled.extend(w for w in spelled if w not in respelled)
            alias_words.extend(w for w in corpus_spellings if w not in alias_words)
            alternatives.append([word_tokens(s) for s in corpus_spellings])
            spelled_as.update(dict.fromkeys(spelled, alternatives[-1]))
    if expand_aliases:
        alias_words.extend(w for w in aliases.countries_named_by_capital(text, in_corpus) if w not in alias_words)
    extra = [*corrections.values(), *alias_words]
    lexical_text = " ".join([text, *extra])
    names = []
    for word in _written_as_names(text):
        if word in spelled_as:
            names.append(_term(spelled_as[word]))
        elif word in vocabulary or _stem_known(word, lexical):
            names.append(((stem([word])[0],),))
    return Query(
        unknown_names=_names_among(text, unknown),
        names=list(dict.fromkeys(names)),
        english=english_share(text),
        text=text,
        lexical_text=lexical_text,
        words=word_tokens(lexical_text),
        chargrams=char_ngrams(lexical_text),
        corrections=corrections,
        unknown=unknown,
        respelled=respelled,
        frame_words=frame_words,
        alternatives=[_term(alts) for alts in alternatives],
        synonyms=related,
        truncated=truncated,
    )


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
