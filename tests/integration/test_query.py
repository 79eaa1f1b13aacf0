from __future__ import annotations

from qa.engine import Engine
from qa.query.analysis import ALIASES, ANALYSIS_PARTS, ENGLISH, SYNONYMS, analyze
from qa.query.coverage import coverage, covers


def _without(part: str) -> tuple[str, ...]:
    return tuple(p for p in ANALYSIS_PARTS if p != part)


def test_typos_are_corrected_and_their_misspelling_leaves_the_term_weights(engine: Engine) -> None:
    query = analyze("Ou se trouve Chevenning Hose ?", engine.index.lexical)
    assert query.corrections == {"chevenning": "chevening", "hose": "house"}
    assert query.respelled == ["chevenning", "hose"]
    # No unit could contain the misspelling: weighing it would cap every unit's word coverage.
    assert {term[0] for term in query.terms} == {("trouv",), ("chevening",), ("hous",)}


def test_a_place_name_stands_for_the_spelling_the_corpus_lacks(engine: Engine) -> None:
    query = analyze("What does the United Kingdom want?", engine.index.lexical)
    assert {"royaum", "uni"} <= set(query.words)
    assert "kingdom" in query.respelled and "kingdom" not in query.unknown
    kingdom = next(term for term in query.terms if ("royaum", "uni") in term)
    assert covers(kingdom, {"royaum", "uni"}) and not covers(kingdom, {"uni"})  # a phrase covers only whole
    assert "royaum" not in analyze("What does the United Kingdom want?", engine.index.lexical, _without(ALIASES)).names


def test_english_words_are_searched_as_their_french_in_the_corpus(engine: Engine) -> None:
    query = analyze("Where is the meeting held?", engine.index.lexical)
    assert "meeting" not in query.unknown
    assert {"reunion", "rencontrer"} <= set(query.corrections["meeting"].split())
    assert "reunion" in query.words
    # One of the French words covers the English one: a unit need not contain every translation.
    meeting = next(term for term in query.terms if ("reunion",) in term)
    assert coverage({meeting: 1.0}, {"reunion"}) == coverage({meeting: 1.0}, {"rencontr"}) == 1.0
    untranslated = analyze("Where is the meeting held?", engine.index.lexical, _without(ENGLISH))
    assert "rencontrer" not in untranslated.corrections.get("meeting", "").split()


def test_unknown_words_outside_the_glossary_stay_unknown(engine: Engine) -> None:
    query = analyze("Who won the 2024 Champions League final?", engine.index.lexical)
    assert {"champions", "league", "2024"} <= set(query.unknown)
    assert "2024" in query.unknown_names  # not "corrected" into the corpus's 2025
    assert query.respelled == []


def test_words_that_only_frame_the_question_are_neither_searched_nor_unknown(engine: Engine) -> None:
    query = analyze("Que signifie TAC ?", engine.index.lexical)
    assert query.frame_words == ["signifie"] and query.unknown == []
    assert set(query.terms) == {(("tac",),)}
    assert analyze("À quoi sert l’OTAN dans tout ça ?", engine.index.lexical).frame_words == ["sert"]
    # A topic word the corpus lacks is still unknown: that is what out-of-scope questions look like.
    assert analyze("Que signifie Bundestag ?", engine.index.lexical).unknown == ["bundestag"]


def test_a_word_the_corpus_has_is_also_covered_by_its_synonyms_at_its_own_weight(engine: Engine) -> None:
    query = analyze("Où se tient la réunion ?", engine.index.lexical)
    assert "rassembl" in query.synonyms["reunion"]
    weights = query.terms
    meeting = next(term for term in weights if term[0] == ("reunion",))
    assert covers(meeting, {"rassembl"}) and covers(meeting, {"reunion"})
    assert weights[meeting] == engine.index.lexical.idf("words", "reunion")  # not the rarer synonym's
    assert analyze("Où se tient la réunion ?", engine.index.lexical, _without(SYNONYMS)).synonyms == {}


def test_a_french_word_the_corpus_lacks_is_searched_as_its_synonyms(engine: Engine) -> None:
    query = analyze("Que surveillent les services de renseignement ?", engine.index.lexical)
    assert "observer" in query.corrections["surveillent"].split() and "surveillent" not in query.unknown
    assert "observ" in query.words
    assert query.stand_ins == ["surveillent"]  # weaker evidence than the word: the confidence weighs it apart


def test_an_english_word_is_not_corrected_into_a_french_word_it_is_spelt_like(engine: Engine) -> None:
    # "want" is in the English dictionary, its French ("vouloir") is not in the briefing: unknown, not "tant".
    query = analyze("What does the United Kingdom want?", engine.index.lexical)
    assert "want" in query.unknown and "want" not in query.corrections
    assert analyze("Who leads the talks at Chevenning?", engine.index.lexical).corrections["chevenning"] == "chevening"
    # A French question is not looked up in the English dictionary.
    assert analyze("Quel plan pour la réunion ?", engine.index.lexical).corrections.get("plan") != "plan"


def test_framing_verbs_of_judgement_and_english_framing_are_not_topic_words(engine: Engine) -> None:
    query = analyze("Pourquoi la réunion est-elle jugée cruciale ?", engine.index.lexical)
    assert query.frame_words == ["jugee"] and query.unknown == []
    assert analyze("What does TAC stand for?", engine.index.lexical).unknown == []


def test_the_kind_of_place_asked_for_is_not_corrected_into_another_word(engine: Engine) -> None:
    # "comté" is absent from the briefing; "correcting" it gave "comme", then "compte".
    query = analyze("Dans quel comté se trouve Chevening House ?", engine.index.lexical)
    assert query.corrections == {} and query.frame_words == ["comte"]
    assert "tout" not in analyze("À quoi sert l’OTAN dans tout ça ?", engine.index.lexical).words


def test_names_written_in_the_question_are_kept_as_the_corpus_spells_them(engine: Engine) -> None:
    lexical = engine.index.lexical
    assert analyze("Quelle est la position de l’Élysée ?", lexical).names == [(("elys",),)]
    # Without accents, misspelt or in English: the corpus's spelling is what a passage must hold.
    assert analyze("Quelle est la position de l'Elysee ?", lexical).names == [(("elys",),)]
    assert analyze("Que refuse Zelenski ?", lexical).names == [(("zelensky",),)]
    assert any(("royaum", "uni") in term for term in analyze("Is the United Kingdom useful?", lexical).names)
    # The first word is capitalised as any sentence is; a name the corpus lacks selects nothing.
    assert analyze("Élysée et Kremlin ?", lexical).names == []
    assert analyze("Que dit Macron ?", lexical).names == []
