from __future__ import annotations

from qa.core.text import stem
from qa.query.synonyms import synonyms


def test_inflected_forms_find_their_headword() -> None:
    assert "rassemblement" in synonyms("reunion")
    assert "controler" in synonyms("surveillent")  # present tense the stemmer keeps whole: its infinitive
    assert "souffrant" in synonyms("malades")  # a plural: the shortest headword of its stem
    assert synonyms("chevening") == ()


def test_words_sharing_the_question_words_stem_are_left_out() -> None:
    # The stem already matches them: "reunions" need not be searched again as "reunion".
    for word in ("reunions", "rencontre", "surveillent", "organisee"):
        found = synonyms(word)
        assert found and stem([word])[0] not in stem(list(found))
