"""The engine end to end on the fixture corpus: cited verbatim extracts, structure kept, bad input refused."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from qa.answer.reply import to_json
from qa.core.pipeline import Work
from qa.engine import Engine, QuestionError
from qa.settings import Settings
from tests.unit.conftest import BUDGET, NOTE, HashingEncoder


def _check_verbatim(reply: dict, texts: dict[str, str]) -> None:
    for item in [*reply["answer"], *reply["passages"]]:
        assert texts[item["doc"]][item["start"] : item["end"]] == item["text"]


def test_a_question_gets_a_cited_verbatim_extract(fixture_engine: Engine, fixture_texts: dict[str, str]) -> None:
    reply = to_json(fixture_engine.ask("Qui coordonne les opérations du déménagement ?"))
    _check_verbatim(reply, fixture_texts)
    assert reply["answered"]
    extract = reply["answer"][0]
    assert "Claire Fontaine" in extract["text"] and extract["doc"] == NOTE
    assert extract["section"] == "Organisation" and extract["passage"] == 1
    assert reply["passages"][0]["doc"] == NOTE


def test_a_table_row_is_quoted_with_its_header(fixture_engine: Engine, fixture_texts: dict[str, str]) -> None:
    reply = to_json(fixture_engine.ask("Quel jour a lieu le transport des échantillons ?"))
    _check_verbatim(reply, fixture_texts)
    row = next(e for e in reply["answer"] if "Transport des échantillons" in e["text"])
    assert "Mercredi 5 mars" in row["text"] and row["context"]["text"].startswith("| Jour")
    text = fixture_texts[row["doc"]]
    assert text[row["context"]["start"] : row["context"]["end"]] == row["context"]["text"]


def test_an_faq_question_is_answered_by_its_answer(fixture_engine: Engine, fixture_texts: dict[str, str]) -> None:
    reply = to_json(fixture_engine.ask("Qui contacter en cas de problème ?"))
    _check_verbatim(reply, fixture_texts)
    assert "Paul Mercier" in reply["answer"][0]["text"]


def test_each_document_answers_its_own_questions(fixture_engine: Engine, fixture_texts: dict[str, str]) -> None:
    reply = to_json(fixture_engine.ask("Quel est le montant du budget informatique ?"))
    _check_verbatim(reply, fixture_texts)
    assert reply["passages"][0]["doc"] == BUDGET and "1,2 million" in reply["passages"][0]["text"]


def test_a_follow_up_is_read_with_the_question_before(fixture_engine: Engine) -> None:
    reply = fixture_engine.ask("Et le budget ?", previous="Quand a lieu le vote du conseil ?")
    assert reply.interpreted_as == "Quand a lieu le vote du conseil ? Et le budget ?"
    assert reply.other_reading == "alone"


def test_a_short_question_standing_alone_is_not_glued_to_the_one_before(fixture_engine: Engine) -> None:
    after = fixture_engine.ask("Quel est le budget ?", previous="Quand a lieu le vote du conseil ?")
    alone = fixture_engine.ask("Quel est le budget ?")
    assert not after.interpreted_as and after.other_reading == "with_previous"
    assert (after.answer, after.passages, after.confidence) == (alone.answer, alone.passages, alone.confidence)


@pytest.mark.parametrize(("question", "message"), [("", "empty"), ("   \u200b ", "empty"), (42, "text")])
def test_bad_questions_are_refused_with_a_reason(fixture_engine: Engine, question: object, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        fixture_engine.ask(question)  # type: ignore[arg-type]


def test_k_is_bounded(fixture_engine: Engine) -> None:
    with pytest.raises(QuestionError, match="k must be"):
        fixture_engine.ask("Qui ?", k=0)
    assert len(fixture_engine.ask("Qui coordonne les opérations ?", k=2).passages) == 2


def test_a_question_asked_of_one_document_cites_that_document_only(fixture_engine: Engine) -> None:
    question = "Qui coordonne les opérations du déménagement ?"  # the note answers; asked of the budget
    reply = fixture_engine.ask(question, k=5, documents=[BUDGET])
    assert reply.passages and {p.chunk.doc for p in reply.passages} == {BUDGET}
    assert {p.chunk.doc for p in fixture_engine.ask(question, k=5, documents=[NOTE]).passages} == {NOTE}
    with pytest.raises(QuestionError, match="unknown document"):
        fixture_engine.ask(question, documents=["nowhere.md"])


def test_a_model_without_learned_stages_of_its_own_uses_the_default_ones_and_says_how_to_fit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from qa.engine import learned_stages_of
    from qa.settings import DEFAULT_MODEL, learned_dir

    assert learned_stages_of(DEFAULT_MODEL) == learned_dir(DEFAULT_MODEL)
    with caplog.at_level(logging.WARNING, logger="qa"):
        assert learned_stages_of("/models/my-encoder") == learned_dir(DEFAULT_MODEL)
    assert "briefing-qa fit --model /models/my-encoder" in caplog.text
    assert learned_dir("/models/my-encoder").parent == learned_dir(DEFAULT_MODEL).parent


def test_a_follow_up_stays_in_the_document_the_question_before_was_answered_from(fixture_engine: Engine) -> None:
    alone = fixture_engine.ask("Et le calendrier ?")
    assert {p.chunk.doc for p in alone.passages} == {BUDGET, NOTE}  # both documents have a "Calendrier"
    for previous, document in [
        ("Quand a lieu le déménagement du laboratoire ?", NOTE),
        ("Quel est le budget du service informatique ?", BUDGET),
    ]:
        reply = fixture_engine.ask("Et le calendrier ?", previous=previous)
        assert reply.interpreted_as and {p.chunk.doc for p in reply.passages} == {document}


def test_a_follow_up_after_a_declined_question_is_asked_of_every_document(fixture_engine: Engine) -> None:
    previous = "Quelle est la capitale de l'Australie ?"
    assert not fixture_engine.ask(previous).answered
    reply = fixture_engine.ask("Et le calendrier ?", previous=previous)
    assert reply.interpreted_as and {p.chunk.doc for p in reply.passages} == {BUDGET, NOTE}


@pytest.mark.parametrize(("factor", "section"), [(1.0, "Calendrier"), (0.0, "Organisation")])
def test_a_follow_up_leans_towards_the_section_of_the_answer_before(
    fixture_settings: Settings, factor: float, section: str
) -> None:
    engine = Engine(replace(fixture_settings, previous_section_factor=factor), encoder=HashingEncoder())
    previous = "Qui coordonne les opérations du déménagement ?"
    assert engine.ask(previous).answer[0].section == "Organisation"
    reply = engine.ask("Et le calendrier ?", previous=previous)
    assert reply.interpreted_as and reply.passages[0].chunk.section == section
    # Asked alone, the question is not drawn to any section.
    assert engine.ask("Et le calendrier ?").passages[0].chunk.section == "Calendrier"


@pytest.mark.parametrize(("factor", "near"), [(1.0, False), (0.0, True)])
def test_a_follow_up_leans_towards_the_passage_of_the_answer_before(
    fixture_settings: Settings, factor: float, near: bool
) -> None:
    engine = Engine(replace(fixture_settings, previous_chunk_factor=factor), encoder=HashingEncoder())
    previous = "Qui coordonne les opérations du déménagement ?"
    answered_from = engine.ask(previous).answer[0].text
    assert answered_from.startswith("La direction technique")
    reply = engine.ask("Et le transport ?", previous=previous)
    # The transport's own passage, in the same section, comes first either way; the passage of the
    # answer before comes next only when the other passages are scaled down.
    assert reply.interpreted_as and reply.passages[0].chunk.text.startswith("Les échantillons congelés")
    assert reply.passages[1].chunk.text.startswith("La direction technique") == near


def test_a_follow_up_without_a_word_of_its_own_is_answered_from_the_words_before(
    fixture_engine: Engine, fixture_texts: dict[str, str]
) -> None:
    previous = "Quand le conseil d'administration vote-t-il le budget ?"
    reply = to_json(fixture_engine.ask("Par qui ?", previous=previous))
    _check_verbatim(reply, fixture_texts)
    assert reply["answered"] and reply["answer"][0]["text"].startswith("Le conseil d'administration vote le budget")
    assert reply["interpreted_as"] == f"{previous} Par qui ?"


def test_a_number_asked_and_held_by_no_extract_is_not_given(fixture_settings: Settings) -> None:
    # Every confidence clears the threshold here: only the missing number declines.
    sure = Engine(replace(fixture_settings, abstain_below=0.0), encoder=HashingEncoder())
    reply = sure.ask("Combien coûte le camion réfrigéré ?")
    assert not reply.answered and reply.not_given == "number" and reply.passages
    assert to_json(reply)["not_given"] == "number"
    held = sure.ask("Quel est le montant du budget informatique ?")  # "Quel est le montant": a number too
    assert held.answered and not held.not_given and "1,2 million" in held.answer[0].text
    lenient = Engine(replace(fixture_settings, abstain_below=0.0, required_answer_kinds=()), encoder=HashingEncoder())
    assert lenient.ask("Combien coûte le camion réfrigéré ?").answered


def test_a_follow_up_reuses_where_the_question_before_was_answered(fixture_settings: Settings) -> None:
    engine = Engine(fixture_settings, encoder=HashingEncoder())
    runs = []
    full = engine.pipeline

    class Counting:
        def run(self, work: Work) -> Work:
            runs.append(work.text)
            return full.run(work)

    engine.pipeline = Counting()  # type: ignore[assignment]
    previous, question = "Qui coordonne les opérations du déménagement ?", "Et le calendrier ?"
    not_remembered = engine.ask(question, previous=previous)
    assert runs == [previous, question]  # the question before answered again, then the follow-up
    engine._answered_places.clear()
    runs.clear()
    engine.ask(previous)
    remembered = engine.ask(question, previous=previous)
    assert runs == [previous, question]  # asked once by the reader, not again for the follow-up
    assert (remembered.answer, remembered.passages, remembered.confidence, remembered.interpreted_as) == (
        not_remembered.answer,
        not_remembered.passages,
        not_remembered.confidence,
        not_remembered.interpreted_as,
    )
