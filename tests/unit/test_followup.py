"""Which questions lean on the one before: connectives and references do, short questions that stand alone do not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.query.followup import ALONE, EITHER, FOLLOW_UP, reading

PREVIOUS = "Qui mène la réunion des conseillers à la sécurité nationale ?"


@pytest.mark.parametrize(
    "question",
    [
        "Où se tient la réunion ?",
        "Quand a eu lieu la rencontre ?",
        "Where is the meeting held?",
        "Quelle est la capitale de l'Australie ?",
        "Y a-t-il un accord ?",  # impersonal "il"
        "Faut-il un visa ?",
        "Quelle heure est-il ?",
        "What time is it?",
        "Is it true that Russia attended?",
        "Jusqu'à quand les sanctions ?",  # no verb: "les" is the article
        "Pourquoi les sanctions ?",
        "Que manquait-il aux soldats d'Alaungpaya ?",  # impersonal "il"
        "How long will it take to clear the cluster bombs?",
        "Quel est le budget ?",  # the verb before "le": its subject, no pronoun
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
        # A pronoun before its verb with no noun before it to stand for, however many words follow.
        "Quand a-t-il rencontré Vance à Londres ?",
        "Pourquoi hisse-t-elle le drapeau britannique ?",
        "Est-elle terminée ?",
        "Qui la dirige ?",  # "la" before a verb alone is a pronoun, after "qui", its subject
        "Qui l'a fondée ?",
        "Où les trouve-t-on ?",
        "Pourquoi ne l'a-t-il pas signé ?",
        "Quelles courses a-t-il gagnées en 1968 ?",  # the noun after "quel" is the object, "il" the subject
        "Qui lui a reproché certaines décisions ?",
        "Jusqu'à quand les maintient-on ?",  # a preposition before the interrogative
        "Why did he leave Porsche in 1962?",  # the subject after the auxiliary
        "What does he ask of his allies?",  # the pronouns are no words of its own
        "Pourquoi ?",  # no word of its own
        "When?",
        "Et ?",
    ],
)
def test_a_question_leaning_on_the_previous_one_is_a_follow_up(question: str) -> None:
    assert reading(question, PREVIOUS) == FOLLOW_UP


def test_a_reference_among_words_of_its_own_is_read_both_ways() -> None:
    assert reading("Quel est son rôle dans les négociations avec Moscou ?", PREVIOUS) == EITHER
    assert reading("What is their position on Ukraine's air defence?", PREVIOUS) == EITHER


def test_a_pronoun_repeating_the_subject_the_question_names_is_no_reference() -> None:
    # "la", "les" stay articles where a noun follows them before the verb, and the inverted pronoun
    # repeats that noun (complex inversion): the question stands alone.
    assert reading("Où la réunion des conseillers se tient-elle à Londres ?", PREVIOUS) == ALONE
    assert reading("Qui les États-Unis soutiennent-ils dans la guerre ?", PREVIOUS) == ALONE
    assert reading("Quel pays la France a-t-elle choisi pour le sommet ?", PREVIOUS) == ALONE
    assert reading("Quand la DSM a-t-elle été créée ?", PREVIOUS) == ALONE
    assert reading("La Chine est-elle évoquée ?", PREVIOUS) == ALONE
    assert reading("Que la France propose pour la paix ?", PREVIOUS) == ALONE
    assert reading("When does the meeting in Kent start?", PREVIOUS) == ALONE
    # Possessives are the named subject's: "ses" is Iwata's, "her" Leavitt's.
    assert reading("Où Iwata a-t-il fait ses études ?", PREVIOUS) == ALONE
    assert reading("When did Leavitt publish her results?", PREVIOUS) == ALONE
    # The pronoun after "combien de" + noun is the subject, as after "quel" + noun.
    assert reading("Pour combien d'années sont-ils élus ?", PREVIOUS) == FOLLOW_UP
    # "y" stands for a place named before.
    assert reading("L'Ukraine y sera-t-elle ?", PREVIOUS) == FOLLOW_UP


def test_without_a_previous_question_every_question_stands_alone() -> None:
    for previous in (None, "", "   "):
        assert reading("Et la Russie ?", previous) == ALONE


CLOSED_CLASS_WORDS = (
    "qui",
    "la",
    "le",
    "les",
    "l'",
    "lui",
    "leur",
    "y",
    "en",
    "quel",
    "quelle",
    "combien",
    "de",
    "d'",
    "à",
    "jusqu'",
    "quand",
    "est-il",
    "a-t-elle",
    "-t-",
    "-",
    "'",
    "?",
    "what",
    "did",
    "he",
    "it",
    "is",
    "qu'",
    "quoi",
    "sur",
    "ne",
    "n'",
    "se",
    "sont-ils",
    "guerre",
    "France",
    "Iwata",
)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.lists(st.sampled_from(CLOSED_CLASS_WORDS), max_size=8).map(" ".join),
        st.lists(st.sampled_from(CLOSED_CLASS_WORDS), max_size=8).map("".join),
        st.text(max_size=40),
    )
)
def test_any_question_gets_one_of_the_three_readings(question: str) -> None:
    # The rule looks at neighbouring words by position: no arrangement of them may break it.
    assert reading(question, PREVIOUS) in (ALONE, FOLLOW_UP, EITHER)
    assert reading(question, None) == ALONE
