"""Which questions lean on the one before: connectives and references do, short questions that stand alone do not."""

from __future__ import annotations

import pytest

from qa.query.followup import ALONE, EITHER, FOLLOW_UP, reading

PREVIOUS = "Qui mène la réunion des conseillers à la sécurité nationale ?"


@pytest.mark.parametrize(
    "question",
    [
        "Où se tient la réunion ?",
        "Quand a eu lieu la rencontre ?",
        "Where is the meeting held?",
        "Quelle est la capitale de l'Australie ?",
        "Qui la dirige ?",  # "la" doubles as an article: not taken for a reference
        "Budget ?",
    ],
)
def test_a_question_that_stands_alone_is_asked_alone_however_short(question: str) -> None:
    assert reading(question, PREVIOUS) == ALONE


@pytest.mark.parametrize(
    "question",
    [
        "Et la Russie ?",
        "Et quel est son rôle ?",
        "Et en 2025 ?",
        "And Russia?",
        "What about the E3?",
        "Qu’en est-il de la Chine ?",
        "Qu'en est-il des États-Unis ?",
        "Who leads it?",
        "Quel est son rôle ?",
        "Que pensent-ils ?",
        "Quand a-t-elle commencé ?",
        "Pourquoi ?",  # no word of its own
        "When?",
        "Et ?",
    ],
)
def test_a_question_leaning_on_the_previous_one_is_a_follow_up(question: str) -> None:
    assert reading(question, PREVIOUS) == FOLLOW_UP


def test_a_reference_among_words_of_its_own_is_read_both_ways() -> None:
    assert reading("Quand a-t-il rencontré Vance à Londres ?", PREVIOUS) == EITHER
    assert reading("What did they say about Ukraine's air defence?", PREVIOUS) == EITHER


def test_without_a_previous_question_every_question_stands_alone() -> None:
    for previous in (None, "", "   "):
        assert reading("Et la Russie ?", previous) == ALONE
