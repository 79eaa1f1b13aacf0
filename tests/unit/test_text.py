from __future__ import annotations

import pytest

from qa.core.text import word_tokens


@pytest.mark.parametrize(
    "forms",
    [
        ("organisée", "organisee", "organise", "organisées", "co-organisée"),
        ("sécurité", "securite", "sécurités", "securites"),
        ("engagée", "engagee", "engagement"),
        ("déplacées", "deplacees", "déplacés"),
        ("financières", "financieres", "financière"),
    ],
)
def test_inflections_with_or_without_accents_share_one_stem(forms: tuple[str, ...]) -> None:
    # The stemmer needs the suffix accents that folding removes ("-ée", "-ité"): they are put back.
    stems = {word_tokens(form)[-1] for form in forms}
    assert len(stems) == 1, stems
