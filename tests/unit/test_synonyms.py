from __future__ import annotations

from qa.core.text import fold, stem
from qa.query.synonyms import GROUPS, synonyms


def test_inflected_forms_find_their_group() -> None:
    assert "rencontre" in synonyms("reunions")
    assert "suivi" in synonyms("surveillent")  # present tense the stemmer keeps whole
    assert "maintien" in synonyms("maintenues")  # past participle of an -ir verb
    assert synonyms("chevening") == ()


def test_words_sharing_the_question_words_stem_are_left_out() -> None:
    # The stem already matches them: "reunions" need not be searched again as "reunion".
    for word in ("reunions", "rencontre", "suivi", "organisee"):
        assert synonyms(word) and stem([word])[0] not in stem(list(synonyms(word)))


def test_no_stem_belongs_to_two_groups() -> None:
    # Two groups sharing a stem would merge their meanings ("arme" is also the stem of "armée").
    owner: dict[str, int] = {}
    for number, group in enumerate(GROUPS):
        for word in group:
            word_stem = stem([fold(word)])[0]
            assert owner.setdefault(word_stem, number) == number, f"{word!r} is in two groups"
