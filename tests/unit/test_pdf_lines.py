from __future__ import annotations

from qa.ingest.formats import _heading_levels, _unwrap

PAGE = """Un titre imprimé
sur deux lignes

Un paragraphe coupé en fin de ligne qui
continue ici. Une autre phrase.

Sous-titre
       premier point ;
       second point.
Fin du texte."""


def test_lines_printed_larger_become_headings_and_the_rest_paragraphs_and_items() -> None:
    levels = _heading_levels([{"Un titre imprimé": 24.0, "sur deux lignes": 24.0, "Sous-titre": 18.0}])
    assert levels == {24.0: 1, 18.0: 2}
    headings = {"Un titre imprimé": 1, "sur deux lignes": 1, "Sous-titre": 2}
    assert _unwrap(PAGE, headings).split("\n\n") == [
        "# Un titre imprimé sur deux lignes",
        "Un paragraphe coupé en fin de ligne qui continue ici. Une autre phrase.",
        "## Sous-titre",
        "- premier point ;\n- second point.",
        "Fin du texte.",
    ]


def test_without_font_sizes_a_heading_line_joins_the_paragraph_it_opens() -> None:
    assert _unwrap(PAGE).split("\n\n")[0] == "Un titre imprimé sur deux lignes"
    assert _unwrap(PAGE).split("\n\n")[2] == "Sous-titre"  # a change of indentation still ends it
