from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa.core.model import Kind
from qa.ingest.reader import CorpusError, read_corpus, read_text
from tests.conftest import BRIEFING, CORPUS

MARKDOWN = """# Rapport

Intro en une phrase. Une seconde phrase.

## Chiffres

| Pays | Budget |
|---|---|
| France | 10 |
| Allemagne | 12 |

- premier point
- second point
  qui continue

## FAQ

Qui paie ?

La France paie.
"""


def _assert_offsets(doc_text: str, elements) -> None:
    for element in elements:
        assert doc_text[element.start : element.end] == element.text
        if element.context is not None:
            assert element.context.start < element.context.end <= len(doc_text)


def test_briefing_elements_are_verbatim_at_their_offsets(briefing_text: str) -> None:
    doc = read_text(BRIEFING, briefing_text)
    assert doc.elements
    _assert_offsets(briefing_text, doc.elements)


def test_briefing_structure(briefing_text: str) -> None:
    doc = read_text(BRIEFING, briefing_text)
    kinds = [e.kind for e in doc.elements]
    assert doc.title.startswith("Le Royaume-Uni et les États-Unis réunissent")
    assert kinds.count(Kind.HEADING) == 11
    assert kinds.count(Kind.TABLE_HEADER) == 5
    assert kinds.count(Kind.FAQ_QUESTION) == 5 and kinds.count(Kind.FAQ_ANSWER) == 5
    assert kinds.count(Kind.BULLET) == 49
    texts = {e.text for e in doc.elements}
    assert "Rechercher sur le site" not in texts and "Retour en haut" not in texts
    # The table that follows a bullet list with no blank line is still a table.
    header = next(e for e in doc.elements if e.text == "Élément Action décidée Impact attendu")
    assert header.kind == Kind.TABLE_HEADER
    row = next(e for e in doc.elements if e.text.startswith("Posture OTAN"))
    assert row.kind == Kind.TABLE_ROW and row.context is not None
    assert briefing_text[row.context.start : row.context.end] == header.text


def test_faq_answers_point_to_their_question(briefing_text: str) -> None:
    doc = read_text(BRIEFING, briefing_text)
    answers = [e for e in doc.elements if e.kind == Kind.FAQ_ANSWER]
    question_of = {a.text[:20]: briefing_text[a.context.start : a.context.end] for a in answers}
    assert question_of["L’OTAN agit comme ga"] == "Quel est le rôle de l’OTAN dans ce processus ?"


def test_markdown_document() -> None:
    doc = read_text("r.md", MARKDOWN)
    _assert_offsets(MARKDOWN, doc.elements)
    by_kind = {}
    for element in doc.elements:
        by_kind.setdefault(element.kind, []).append(element.text)
    assert doc.title == "Rapport"
    assert by_kind[Kind.HEADING] == ["Chiffres", "FAQ"]
    assert by_kind[Kind.TABLE_HEADER] == ["| Pays | Budget |"]
    assert by_kind[Kind.TABLE_ROW] == ["| France | 10 |", "| Allemagne | 12 |"]
    assert by_kind[Kind.BULLET] == ["premier point", "second point\n  qui continue"]
    assert by_kind[Kind.FAQ_QUESTION] == ["Qui paie ?"]
    assert by_kind[Kind.FAQ_ANSWER] == ["La France paie."]


@pytest.mark.parametrize(
    "text",
    ["Titre\r\n\r\nUn paragraphe.\r\n", "\ufeffTitre\n\nPas de saut final.", "   \n\n\t\n", "", "• seul"],
)
def test_odd_texts_keep_exact_offsets(text: str) -> None:
    doc = read_text("x.txt", text)
    _assert_offsets(text, doc.elements)


def test_corpus_reports_bad_files_and_keeps_the_good(tmp_path: Path, briefing_text: str) -> None:
    (tmp_path / "good.txt").write_text(briefing_text, "utf-8")
    (tmp_path / "latin1.txt").write_bytes("Réunion à Londres.".encode("latin-1"))
    (tmp_path / "empty.md").write_text("", "utf-8")
    docs, problems = read_corpus(tmp_path)
    assert [d.path for d in docs] == ["good.txt"]
    assert any(p.startswith("latin1.txt: not UTF-8") for p in problems)
    assert any(p.startswith("empty.md: no text") for p in problems)


def test_broken_links_pipes_and_oversized_files_are_named_and_skipped(tmp_path: Path, briefing_text: str) -> None:
    (tmp_path / "good.txt").write_text(briefing_text, "utf-8")
    (tmp_path / "broken.txt").symlink_to(tmp_path / "gone.txt")
    os.mkfifo(tmp_path / "pipe.md")  # reading it would block forever
    with (tmp_path / "huge.txt").open("wb") as handle:
        handle.truncate(3_000_000)  # sparse: 3 MB on paper, nothing on disk
    (tmp_path / "folder.md").mkdir()  # a folder with a document's name is not a document
    docs, problems = read_corpus(tmp_path, max_bytes=2_000_000)
    assert [d.path for d in docs] == ["good.txt"]
    assert problems == [
        "broken.txt: cannot be read (No such file or directory: a broken link?); skipped",
        "huge.txt: 3.0 MB, above the limit of 2 MB per document (BRIEFING_QA_MAX_DOCUMENT_MB); skipped",
        "pipe.md: not a regular file (a pipe, socket or device); skipped",
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_a_file_without_read_permission_is_named_and_skipped(tmp_path: Path, briefing_text: str) -> None:
    (tmp_path / "good.txt").write_text(briefing_text, "utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("Texte.", "utf-8")
    secret.chmod(0)
    docs, problems = read_corpus(tmp_path)
    assert [d.path for d in docs] == ["good.txt"]
    assert problems == ["secret.txt: cannot be read (Permission denied); skipped"]


def test_empty_or_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no readable"):
        read_corpus(tmp_path)
    with pytest.raises(CorpusError, match="not found"):
        read_corpus(tmp_path / "nope")


def test_documents_are_named_relative_to_the_corpus() -> None:
    docs, _ = read_corpus(CORPUS)
    assert [d.path for d in docs] == [BRIEFING]
