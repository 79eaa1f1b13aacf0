from __future__ import annotations

from qa.core.model import Kind
from qa.ingest.chunking import chunk_document, sentence_spans
from qa.ingest.reader import read_text
from tests.conftest import BRIEFING


def _briefing(briefing_text: str, chunk_size: int = 700):
    doc = read_text(BRIEFING, briefing_text)
    return doc, chunk_document(doc, chunk_size)


def test_chunks_and_units_are_verbatim(briefing_text: str) -> None:
    for size in (120, 300, 700):
        _, chunks = _briefing(briefing_text, size)
        for chunk in chunks:
            assert briefing_text[chunk.start : chunk.end] == chunk.text
            assert chunk.text in chunk.index_text
            for unit in chunk.units:
                assert chunk.start <= unit.start < unit.end <= chunk.end


def test_a_chunk_never_straddles_two_sections(briefing_text: str) -> None:
    doc, chunks = _briefing(briefing_text, 300)
    headings = [e.start for e in doc.elements if e.kind in (Kind.HEADING, Kind.TITLE)]
    for chunk in chunks:
        assert not any(chunk.start < h < chunk.end for h in headings)


def test_bullets_and_table_rows_are_never_cut(briefing_text: str) -> None:
    doc, chunks = _briefing(briefing_text, 120)  # smaller than most lists and tables
    whole = [e for e in doc.elements if e.kind in (Kind.BULLET, Kind.TABLE_ROW)]
    for element in whole:
        holders = [c for c in chunks if c.start <= element.start and element.end <= c.end]
        cut = [c for c in chunks if c.start < element.end and element.start < c.end and c not in holders]
        assert len(holders) == 1 and not cut, element.text


def test_table_rows_keep_their_header(briefing_text: str) -> None:
    _, chunks = _briefing(briefing_text, 120)
    tables = [c for c in chunks if c.kind == "table"]
    assert tables
    for chunk in tables:
        assert (
            "Acteurs clés" in chunk.index_text
            or "Thématique" in chunk.index_text
            or "Aspect" in chunk.index_text
            or "Élément" in chunk.index_text
            or "Dimension" in chunk.index_text
        )
        for unit in chunk.units:
            assert unit.kind == Kind.TABLE_ROW and unit.context is not None


def test_faq_question_stays_with_its_answer(briefing_text: str) -> None:
    _, chunks = _briefing(briefing_text, 50)
    faq = [c for c in chunks if c.kind == "faq"]
    assert len(faq) == 5
    for chunk in faq:
        assert chunk.text.split("\n")[0].endswith("?")
        assert {u.kind for u in chunk.units} == {Kind.FAQ_QUESTION, Kind.FAQ_ANSWER}


def test_long_paragraphs_split_between_sentences() -> None:
    sentences = [f"Phrase numéro {i} qui parle de la réunion de Chevening." for i in range(12)]
    text = "Titre\n\n" + " ".join(sentences) + "\n"
    doc = read_text("long.txt", text)
    chunks = chunk_document(doc, chunk_size=200)
    assert len(chunks) > 1
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.endswith(".") and chunk.text.startswith("Phrase")
        assert len(chunk.text) <= 200


def test_sentence_spans_are_exact_even_when_sentences_repeat() -> None:
    text = "Oui. Non. Oui. M. Dupont arrive."
    spans = sentence_spans(text, offset=10)
    assert [text[s.start - 10 : s.end - 10] for s in spans] == ["Oui.", "Non.", "Oui.", "M. Dupont arrive."]
