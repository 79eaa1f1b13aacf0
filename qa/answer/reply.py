"""The reply's one wire form and its one serialiser.

``to_json(reply)`` is what ``briefing-qa ask --json`` prints, ``POST /api/ask`` and the Gradio
``/ask`` endpoint return, and the benchmark scores; ``ReplyJSON`` is its type, from which the
API's OpenAPI schema is generated. For every extract and passage, ``source[start:end] == text``.

>>> reply = engine.ask("Où se tient la réunion ?")   # doctest: +SKIP
>>> to_json(reply)["answer"][0]["text"]              # doctest: +SKIP
'Cette rencontre, organisée à Chevening House dans le Kent, ...'
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict  # before Python 3.12, pydantic reads TypedDicts from here only

from qa.core.model import Extract, Passage, Reply

_DOCUMENTED = ConfigDict(use_attribute_docstrings=True, extra="forbid")


@with_config(_DOCUMENTED)
class ContextJSON(TypedDict):
    """Text an extract needs to be read and that is not contiguous with it: a table row's header line."""

    text: str
    start: int
    end: int


@with_config(_DOCUMENTED)
class ExtractJSON(TypedDict):
    """A verbatim piece of the briefing that answers."""

    text: str
    doc: str
    """The document, relative to the corpus folder."""
    start: int
    """Character offset of the extract in the document's text."""
    end: int
    section: str
    """The heading of the section it is in."""
    passage: int
    """1-based rank of the passage the extract comes from: its citation number."""
    line: int
    """1-based line of the extract's start in the document."""
    page: NotRequired[int]
    """1-based page, for a PDF."""
    context: NotRequired[ContextJSON]


@with_config(_DOCUMENTED)
class PassageJSON(TypedDict):
    """A passage found for the question, cited by its rank."""

    rank: int
    text: str
    doc: str
    start: int
    end: int
    section: str
    score: float
    """Fused (or re-ranked) score, in [0, 1]."""
    kind: str
    """paragraph, list, table or faq."""
    line: int
    page: NotRequired[int]
    """1-based page of the passage's start, for a PDF."""
    rankers: dict[str, int]
    """Each ranker's rank of the passage (before fusion)."""


@with_config(_DOCUMENTED)
class ReplyJSON(TypedDict):
    """The reply: the answer's extracts, each cited, and the passages they come from."""

    question: str
    answered: bool
    """false: the briefing does not answer this question (the passages are still the closest found)."""
    answer: list[ExtractJSON]
    confidence: Annotated[float, Field(ge=0, le=1)]
    """Probability that the briefing answers; below the threshold, the bot says it does not."""
    passages: list[PassageJSON]
    timings_ms: dict[str, float]
    """Milliseconds spent in each stage (analyze, encode, rank, fuse, extract) and in total."""
    notice: NotRequired[str]
    """Said to the reader about the question itself (e.g. it was shortened)."""
    interpreted_as: NotRequired[str]
    """A follow-up read with the question before it: the text searched."""
    other_reading: NotRequired[Literal["alone", "with_previous"]]
    """The other way to read a question asked after another (send it as ``reading`` to get it)."""
    not_given: NotRequired[str]
    """Declined because the question asks for this kind of answer ("number", "time") and no extract holds one."""
    leans_on: NotRequired[str]
    """Send it as ``previous`` with the next question of the conversation: this question, or, for a
    follow-up, the question it was read with ("Et la Chine ?" after "Et la Russie ?" leans on the
    question both follow)."""


def extract_to_json(extract: Extract) -> ExtractJSON:
    data: ExtractJSON = {
        "text": extract.text,
        "doc": extract.doc,
        "start": extract.start,
        "end": extract.end,
        "section": extract.section,
        "passage": extract.passage,
        "line": extract.line,
    }
    if extract.page is not None:
        data["page"] = extract.page
    if extract.context is not None:
        data["context"] = {"text": extract.context_text, "start": extract.context.start, "end": extract.context.end}
    return data


def passage_to_json(passage: Passage) -> PassageJSON:
    chunk = passage.chunk
    data: PassageJSON = {
        "rank": passage.rank,
        "text": chunk.text,
        "doc": chunk.doc,
        "start": chunk.start,
        "end": chunk.end,
        "section": chunk.section,
        "score": round(passage.score, 4),
        "kind": chunk.kind,
        "line": passage.line,
        "rankers": passage.ranks,
    }
    if passage.page is not None:
        data["page"] = passage.page
    return data


def to_json(reply: Reply) -> ReplyJSON:
    """The reply as the CLI, the HTTP API, the Gradio API and the benchmark all give it."""
    data: ReplyJSON = {
        "question": reply.question,
        "answered": reply.answered,
        "answer": [extract_to_json(e) for e in reply.answer],
        "confidence": reply.confidence,
        "passages": [passage_to_json(p) for p in reply.passages],
        "timings_ms": reply.timings_ms,
    }
    if reply.notice:
        data["notice"] = reply.notice
    if reply.interpreted_as:
        data["interpreted_as"] = reply.interpreted_as
    if reply.other_reading:
        data["other_reading"] = reply.other_reading  # type: ignore[typeddict-item]
    if reply.not_given:
        data["not_given"] = reply.not_given
    if reply.leans_on:
        data["leans_on"] = reply.leans_on
    return data
