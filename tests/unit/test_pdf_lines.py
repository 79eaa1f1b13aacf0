from __future__ import annotations

from qa.ingest.formats import _heading_levels, _page_glue, _unwrap

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


def test_without_font_sizes_a_line_going_on_in_lower_case_continues_the_one_before() -> None:
    # "sur" would have fitted after "Un titre imprimé", but the sentence goes on in lower case.
    assert _unwrap(PAGE).split("\n\n")[0] == "Un titre imprimé sur deux lignes"
    assert _unwrap(PAGE).split("\n\n")[2] == "Sous-titre"  # a change of indentation still ends it
    # Broken before the margin and going on with a capital: a line of its own (an address, a row).
    page = "Une ligne assez longue pour faire la marge de la page.\n\nAdresse\nDowning Street\n"
    assert _unwrap(page + "Londres").split("\n\n")[1] == "Adresse\nDowning Street\nLondres"
    assert _unwrap(page + "sur la Tamise").split("\n\n")[1] == "Adresse\nDowning Street sur la Tamise"


# Layout mode's lines: a paragraph wrapped at the margin (one line ends on a full stop), then a
# table whose header is centred over its rows, each row a line broken before the margin.
TABLE_PAGE = """Une phrase assez longue pour aller jusqu'à la marge droite de la page imprimée ici.
Elle continue sur la ligne suivante, bien que la ligne d'avant finisse sur un point final.

                    Acteur Rôle Implication
Downing Street Coordination diplomatique Organisation de la réunion
Maison Blanche Direction politique Co-hôte
Pentagone Conseil militaire Soutien logistique"""


def test_wrapped_lines_join_and_lines_broken_on_purpose_stay_lines() -> None:
    paragraph, table = _unwrap(TABLE_PAGE).split("\n\n")
    assert "\n" not in paragraph and paragraph.startswith("Une phrase") and paragraph.endswith("point final.")
    assert table.split("\n") == [
        "Acteur Rôle Implication",  # centred over the rows: not a list item
        "Downing Street Coordination diplomatique Organisation de la réunion",
        "Maison Blanche Direction politique Co-hôte",
        "Pentagone Conseil militaire Soutien logistique",
    ]


def test_a_paragraph_or_a_table_over_a_page_break_is_one_block() -> None:
    wide = "x" * 80
    to_the_margin = "Un paragraphe " + "long " * 12 + "puis"  # 78 characters: "suivante." would not fit
    assert _page_glue(f"{wide}\n{to_the_margin}", "suivante. Fin.", {}, {}) == " "
    assert _page_glue(f"{wide}\nPentagone Conseil militaire", "OTAN Garant de la sécurité", {}, {}) == "\n"
    assert _page_glue(f"{wide}\nFin de la page.", "Autre paragraphe.", {}, {}) == "\n\n"
    assert _page_glue(f"{wide}\nUne ligne sans point", "Un titre", {}, {"Un titre": 18.0}) == "\n\n"
    assert _page_glue(f"{wide}\nUne ligne sans point", "       un point de liste\nLe texte reprend.", {}, {}) == "\n\n"
