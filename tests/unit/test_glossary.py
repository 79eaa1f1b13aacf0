from __future__ import annotations

from qa.core.text import fold
from qa.query.glossary import translations


def test_inflected_and_irregular_english_forms_find_their_french() -> None:
    found = translations("Who led the negotiations? Were talks held at the summit?")
    assert found["led"][0] == fold("mené")
    assert found["negotiations"][0] == fold("négociation")
    assert found["talks"][0] == "pourparlers"
    assert found["held"][0] == "tenu"
    assert "who" not in found and "the" not in found


def test_french_words_are_not_translated() -> None:
    assert translations("Où se tient la réunion des conseillers ?") == {}
