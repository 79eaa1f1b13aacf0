"""Cut a document's elements into chunks inside structural units.

Rules: a chunk never straddles two sections, never cuts a bullet or a table row, and keeps
an FAQ question with its answer. Long paragraphs are split with langchain's recursive
splitter at sentence boundaries. Each chunk also lists its *units*, the smallest
self-sufficient extracts (sentence, bullet, table row with its header, FAQ answer), so
answering never has to re-parse text at query time.

>>> from qa.ingest.reader import read_text
>>> doc = read_text("a.txt", "Titre\\n\\nUne phrase. Une autre.\\n")
>>> [(c.kind, c.text, len(c.units)) for c in chunk_document(doc, chunk_size=500)]
[('paragraph', 'Une phrase. Une autre.', 2)]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from functools import lru_cache

import pysbd
from langchain_text_splitters import RecursiveCharacterTextSplitter

from qa.core.model import Chunk, Document, Element, Kind, Span, Unit

# Sentence ends first, then weaker boundaries: a split falls between sentences whenever it can.
_SEPARATORS = [r"\n\n", r"\n", r"(?<=[.!?…])\s+", r"(?<=[;:])\s+", r"(?<=,)\s+", r"\s+", ""]


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="fr", clean=False)


def sentence_spans(text: str, offset: int = 0) -> list[Span]:
    """Sentences of text as exact spans (located in order, so repeated sentences stay distinct)."""
    spans, cursor = [], 0
    for sentence in _segmenter().segment(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        found = text.find(sentence, cursor)
        if found < 0:  # pysbd altered the text; fall back to the rest as one sentence
            rest = text[cursor:].strip()
            if rest:
                start = text.index(rest, cursor)
                spans.append(Span(offset + start, offset + start + len(rest)))
            break
        spans.append(Span(offset + found, offset + found + len(sentence)))
        cursor = found + len(sentence)
    return spans


def unit_text(doc_text: str, unit: Unit) -> str:
    """What a unit says on its own: a table row is read with its header (column names)."""
    text = doc_text[unit.start : unit.end]
    if unit.kind == Kind.TABLE_ROW and unit.context is not None:
        text = doc_text[unit.context.start : unit.context.end] + "\n" + text
    return text


def chunk_documents(documents: Iterable[Document], chunk_size: int, chunk_overlap: int = 0) -> list[Chunk]:
    chunks: list[Chunk] = []
    for doc in documents:
        for chunk in chunk_document(doc, chunk_size, chunk_overlap, first_id=len(chunks)):
            chunks.append(chunk)
    return chunks


def chunk_document(doc: Document, chunk_size: int, chunk_overlap: int = 0, first_id: int = 0) -> list[Chunk]:
    builder = _ChunkBuilder(doc, first_id)
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=_SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        strip_whitespace=True,
    )
    for (_group, kind), members in itertools.groupby(doc.elements, key=lambda e: (e.group, _unit_kind(e))):
        elements = list(members)
        if kind == "paragraph":
            for element in elements:
                builder.paragraph(element, splitter)
        elif kind == "list":
            builder.packed(elements, chunk_size, "list")
        elif kind == "table":
            builder.table(elements, chunk_size)
        elif kind == "faq":
            builder.faq(elements)
    return builder.chunks


def _unit_kind(element: Element) -> str:
    return {
        Kind.PARAGRAPH: "paragraph",
        Kind.BULLET: "list",
        Kind.TABLE_HEADER: "table",
        Kind.TABLE_ROW: "table",
        Kind.FAQ_QUESTION: "faq",
        Kind.FAQ_ANSWER: "faq",
    }.get(element.kind, "heading")


class _ChunkBuilder:
    def __init__(self, doc: Document, first_id: int) -> None:
        self.doc = doc
        self.chunks: list[Chunk] = []
        self.first_id = first_id

    def _add(
        self,
        start: int,
        end: int,
        section_of: Element,
        kind: str,
        units: list[Unit],
        context: str = "",
        question: Span | None = None,
    ) -> None:
        text = self.doc.text[start:end]
        heading = section_of.section
        index_text = "\n".join(part for part in (heading, context, text) if part)
        self.chunks.append(
            Chunk(
                id=self.first_id + len(self.chunks),
                doc=self.doc.path,
                start=start,
                end=end,
                text=text,
                section=heading,
                section_index=section_of.section_index,
                kind=kind,
                units=tuple(units),
                index_text=index_text,
                question=question,
            )
        )

    def paragraph(self, element: Element, splitter: RecursiveCharacterTextSplitter) -> None:
        cursor = element.start
        for piece in splitter.split_text(element.text):
            start = self.doc.text.find(piece, cursor, element.end)
            if start < 0:
                continue
            end = start + len(piece)
            cursor = start + 1  # the next piece starts later (it may overlap this one)
            units = [Unit(s.start, s.end, Kind.SENTENCE) for s in sentence_spans(piece, start)]
            self._add(start, end, element, "paragraph", units)

    def packed(self, elements: list[Element], chunk_size: int, kind: str) -> None:
        """Consecutive whole elements (bullets) up to chunk_size characters per chunk."""
        for batch in _pack(elements, chunk_size):
            units = [Unit(e.start, e.end, Kind.BULLET) for e in batch]
            self._add(batch[0].start, batch[-1].end, batch[0], kind, units)

    def table(self, elements: list[Element], chunk_size: int) -> None:
        header = next((e for e in elements if e.kind == Kind.TABLE_HEADER), None)
        rows = [e for e in elements if e.kind == Kind.TABLE_ROW]
        if not rows and header is not None:
            rows = [header]
        batches = list(_pack(rows, chunk_size - (len(header.text) if header else 0)))
        for i, batch in enumerate(batches):
            units = [Unit(r.start, r.end, r.kind, r.context) for r in batch]
            # The first chunk starts at the header; later ones carry it as indexed context only.
            starts_at_header = header is not None and i == 0
            start = header.start if starts_at_header else batch[0].start
            context = "" if starts_at_header or header is None else header.text
            self._add(start, batch[-1].end, batch[0], "table", units, context=context)

    def faq(self, elements: list[Element]) -> None:
        question = next((e for e in elements if e.kind == Kind.FAQ_QUESTION), None)
        answers = [e for e in elements if e.kind == Kind.FAQ_ANSWER]
        if not answers:  # a question left without an answer is still worth finding
            if question is not None:
                span = Span(question.start, question.end)
                units = [Unit(span.start, span.end, Kind.FAQ_QUESTION)]
                self._add(span.start, span.end, question, "faq", units, question=span)
            return
        units = [Unit(a.start, a.end, Kind.FAQ_ANSWER, a.context) for a in answers]
        q_span = Span(question.start, question.end) if question is not None else None
        if q_span is not None:
            # Embedded like any unit, so a reader's question can be matched to the FAQ's question.
            units.insert(0, Unit(q_span.start, q_span.end, Kind.FAQ_QUESTION))
        start = question.start if question is not None else answers[0].start
        self._add(start, answers[-1].end, answers[0], "faq", units, question=q_span)


def _pack(elements: list[Element], budget: int) -> Iterator[list[Element]]:
    batch: list[Element] = []
    for element in elements:
        if batch and element.end - batch[0].start > budget:
            yield batch
            batch = []
        batch.append(element)
    if batch:
        yield batch
