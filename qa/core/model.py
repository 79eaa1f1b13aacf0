"""The nouns of the pipeline: immutable, and each holds offsets into its source file.

Offsets are the spine: for any object here, ``source[start:end] == text``, so a
citation can always be checked and highlighted.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import Any


class Kind:
    """Kinds of structural elements a document is read into (plain strings, as stored in the index)."""

    TITLE = "title"
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    BULLET = "bullet"
    TABLE_HEADER = "table_header"
    TABLE_ROW = "table_row"
    FAQ_QUESTION = "faq_question"
    FAQ_ANSWER = "faq_answer"
    SENTENCE = "sentence"  # a unit: one sentence of a paragraph


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Element:
    """One structural element of a document: a heading, a paragraph, a bullet, a table row..."""

    doc: str
    kind: str
    start: int
    end: int
    text: str
    section: str
    section_index: int
    # A table row's header line, or an FAQ answer's question: context that is not contiguous.
    context: Span | None = None
    # Elements of one bullet list, one table or one FAQ pair share a group number.
    group: int = -1


@dataclass(frozen=True)
class Document:
    path: str  # relative to the corpus folder, with forward slashes
    text: str  # as indexed: for a web page, PDF or Word file, the text extracted from it
    title: str
    elements: tuple[Element, ...]
    format: str = "text"  # text, markdown, html, pdf, docx (told from the content)
    date: str = ""  # ISO 8601: the document's own date where its metadata has one, else the file's
    language: str = ""  # "fr" or "en"
    pages: tuple[int, ...] = ()  # a PDF: where each page starts in ``text``

    def page_of(self, offset: int) -> int | None:
        """1-based page of a character offset (None: the document has no pages)."""
        return bisect.bisect_right(self.pages, offset) if self.pages else None

    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset."""
        return self.text.count("\n", 0, offset) + 1


@dataclass(frozen=True)
class Unit:
    """The smallest self-sufficient extract: a sentence, a bullet, a table row, an FAQ answer."""

    start: int
    end: int
    kind: str
    context: Span | None = None


@dataclass(frozen=True)
class Chunk:
    """What is indexed and retrieved: a span inside one structural unit of one section."""

    id: int
    doc: str
    start: int
    end: int
    text: str
    section: str
    section_index: int
    kind: str  # paragraph, list, table, faq
    units: tuple[Unit, ...]
    # The text that is embedded and indexed: the span plus its heading (and FAQ question) as context.
    index_text: str
    # For an FAQ chunk: the question's span, matched against the reader's question.
    question: Span | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chunk:
        units = tuple(
            Unit(u["start"], u["end"], u["kind"], Span(**u["context"]) if u.get("context") else None)
            for u in data["units"]
        )
        question = Span(**data["question"]) if data.get("question") else None
        return cls(**{**data, "units": units, "question": question})


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score and the per-retriever ranks that made it."""

    chunk: Chunk
    rank: int
    score: float
    ranks: dict[str, int] = field(default_factory=dict)
    line: int = 0  # 1-based line of the chunk's start in its document
    page: int | None = None  # 1-based page of a PDF


@dataclass(frozen=True)
class Extract:
    """A verbatim piece of the source that answers, cited by the passage it comes from."""

    text: str
    doc: str
    start: int
    end: int
    section: str
    passage: int  # 1-based rank of the passage: the citation number
    score: float
    context: Span | None = None
    context_text: str = ""
    line: int = 0  # 1-based line of the extract's start in its document
    page: int | None = None  # 1-based page of a PDF


@dataclass(frozen=True)
class Reply:
    question: str
    answered: bool
    answer: tuple[Extract, ...]
    confidence: float
    passages: tuple[Passage, ...]
    timings_ms: dict[str, float]
    notice: str = ""
    interpreted_as: str = ""
    # The reading not taken of a question after another: "alone" or "with_previous" ("": none).
    other_reading: str = ""
    # Declined because the question asks for this kind of answer ("number", "time") and no extract holds one.
    not_given: str = ""
    # The question the next one of the conversation leans on (qa.query.followup.leaned_on): a client
    # sends it back as ``previous`` with the next question.
    leans_on: str = ""
