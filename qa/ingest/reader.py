"""Read a document into its structure: title, sections, paragraphs, bullets, tables and FAQ pairs.

Works on plain text as published by news sites (blank-line separated blocks, "•" bullets,
tables whose column separators were lost) and on Markdown (``#`` headings, ``-`` bullets,
``|`` tables). Every element keeps exact ``[start, end)`` character offsets into the text.

>>> doc = read_text("a.txt", "Titre\\n\\nUn paragraphe.\\n\\n  • un point\\n")
>>> [(e.kind, e.text) for e in doc.elements]
[('title', 'Titre'), ('paragraph', 'Un paragraphe.'), ('bullet', 'un point')]
"""

from __future__ import annotations

import logging
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from qa.core import lexicon_files
from qa.core.model import Document, Element, Kind, Span
from qa.core.text import ENGLISH_SHARE, english_share
from qa.ingest import formats

log = logging.getLogger(__name__)

# Files read as documents; the type itself is told from the content (a .txt holding a web page is
# read as one), see qa.ingest.formats.
DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf", ".docx")
# Larger documents are skipped with a message: reading and parsing them would take minutes and
# gigabytes (a 20 MB text is some 3 million words). Settings.max_document_mb overrides it.
DEFAULT_MAX_DOCUMENT_BYTES = 20_000_000

# Site navigation that is not part of the article (compared folded, whole line): lexicons/*/page-chrome.tsv.
CHROME_LINES = frozenset(
    row[0] for language in ("fr", "en") for row in lexicon_files.rows(f"{language}/page-chrome.tsv")
)
FAQ_HEADING = re.compile(r"questions?\s+fr[ée]quentes|foire aux questions|\bfaq\b|frequently asked", re.I)
BULLET_MARKER = re.compile(r"[ \t]*(?:[•\-*–—·▪◦‣●○]|\d{1,3}[.)])[ \t]+")
MD_HEADING = re.compile(r"(#{1,6})[ \t]+")
MD_TABLE_RULE = re.compile(r"\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?")
# A line ending with one of these is prose, not a heading or a table cell.
PROSE_END = (".", "!", ":", ";", "…", "»", '"', "”", ")", ",")
MAX_HEADING_CHARS = 200


class CorpusError(Exception):
    """A corpus problem that a user can act on; the message names the file."""


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str  # stripped content of the line, == source[start:end]


def read_corpus(corpus_dir: Path, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> tuple[list[Document], list[str]]:
    """Read every document below corpus_dir: text, Markdown, web pages, PDF and Word files.

    Returns the documents and a list of problems (one clear message per file skipped, naming it);
    one bad file never hides the others.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    documents, problems = [], []
    for path in sorted(corpus_files(corpus_dir)):
        rel = path.relative_to(corpus_dir).as_posix()
        problem = unreadable_reason(path, max_bytes)
        if problem is None:
            try:
                doc = read_file(path, rel)
            except formats.Unreadable as exc:
                problem = str(exc)
            except OSError as exc:
                problem = f"cannot be read ({exc.strerror or exc})"
            else:
                if doc.elements:
                    documents.append(doc)
                    continue
                problem = "no text found"
        problems.append(f"{rel}: {problem}; skipped")
    for problem in problems:
        log.warning("corpus: %s", problem)
    if not documents:
        raise CorpusError(f"no readable document in {corpus_dir}")
    return documents, problems


def read_file(path: Path, rel: str) -> Document:
    """One file of the corpus, whatever its type, read into its structure (``formats.Unreadable``: why not)."""
    data = path.read_bytes()
    kind = formats.detect(data, path.suffix)
    if kind is None:
        raise formats.Unreadable("not a text, web page, PDF or Word file")
    converted = formats.convert(data, kind, path.stat().st_mtime)
    doc = read_text(rel, converted.text)
    return replace(
        doc,
        title=doc.title or converted.title or path.stem,
        format=converted.format,
        date=converted.date,
        language="en" if english_share(converted.text[:20_000]) > ENGLISH_SHARE else "fr",
        pages=converted.pages,
    )


def corpus_files(corpus_dir: Path) -> Iterator[Path]:
    """Every path with a document suffix, readable or not (folders aside), so that a broken link
    or an oversized file is reported by name rather than silently ignored."""
    for path in corpus_dir.rglob("*"):
        rel_parts = path.relative_to(corpus_dir).parts
        if any(part.startswith(".") for part in rel_parts):
            continue
        if path.suffix.lower() in DOCUMENT_SUFFIXES and not path.is_dir():
            yield path


def unreadable_reason(path: Path, max_bytes: int) -> str | None:
    """Why a corpus file is not read, checked before opening it (a pipe would block a read and a
    huge file would fill memory), or None when it can be read."""
    try:
        info = path.stat()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc}: a broken link?)"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a pipe, socket or device)"
    if info.st_size > max_bytes:
        return (
            f"{info.st_size / 1e6:.1f} MB, above the limit of {max_bytes / 1e6:g} MB per document"
            " (BRIEFING_QA_MAX_DOCUMENT_MB)"
        )
    return None


def read_text(path: str, text: str) -> Document:
    """Parse one document's text into structural elements with exact offsets."""
    builder = _Builder(path, text)
    for block in _blocks(text):
        builder.add_block(block)
    return Document(path=path, text=text, title=builder.title, elements=tuple(builder.elements))


def _lines(text: str) -> Iterator[_Line]:
    offset = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            yield _Line(offset + lead, offset + lead + len(stripped), stripped)
        else:
            yield _Line(offset, offset, "")
        offset += len(raw)


def _blocks(text: str) -> Iterator[list[_Line]]:
    """Runs of non-blank lines."""
    block: list[_Line] = []
    for line in _lines(text):
        if line.text:
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def _is_bullet(source: str, line: _Line) -> re.Match[str] | None:
    # Match from the start of the physical line so indentation is allowed.
    line_start = source.rfind("\n", 0, line.start) + 1
    return BULLET_MARKER.match(source, line_start) if line_start <= line.start else None


def _is_heading_like(text: str) -> bool:
    return len(text) <= MAX_HEADING_CHARS and not text.endswith(PROSE_END)


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


class _Builder:
    """Turns blocks into elements, tracking the current section and FAQ state."""

    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.source = source
        self.elements: list[Element] = []
        self.title = ""
        self.section = ""
        self.section_index = 0
        self.in_faq = False
        self.question: Span | None = None
        self.group = 0

    def _new_group(self) -> int:
        self.group += 1
        return self.group

    def _emit(self, kind: str, start: int, end: int, context: Span | None = None, group: int = -1) -> None:
        self.elements.append(
            Element(
                doc=self.path,
                kind=kind,
                start=start,
                end=end,
                text=self.source[start:end],
                section=self.section,
                section_index=self.section_index,
                context=context,
                group=self._new_group() if group < 0 else group,
            )
        )

    def _heading(self, start: int, end: int) -> None:
        text = self.source[start:end]
        if self.in_faq and text.endswith("?"):
            self.question = Span(start, end)
            self._emit(Kind.FAQ_QUESTION, start, end)
            return
        self.question = None
        if not self.title:
            self.title = text
            self.section = text
            self._emit(Kind.TITLE, start, end)
            return
        self.section = text
        self.section_index += 1
        self.in_faq = bool(FAQ_HEADING.search(text))
        self._emit(Kind.HEADING, start, end)

    def _paragraph(self, start: int, end: int) -> None:
        if self.in_faq and self.question is not None:
            group = self.elements[-1].group if self.elements[-1].kind in (Kind.FAQ_QUESTION, Kind.FAQ_ANSWER) else -1
            self._emit(Kind.FAQ_ANSWER, start, end, context=self.question, group=group)
        else:
            self._emit(Kind.PARAGRAPH, start, end)

    def add_block(self, block: list[_Line]) -> None:
        if len(block) == 1 and _fold(block[0].text) in CHROME_LINES:
            return
        run: list[_Line] = []
        bullet_group = -1
        for line in block:
            marker = _is_bullet(self.source, line)
            if marker and marker.end() >= line.end:
                continue  # a bullet marker with nothing after it
            if marker:
                self._add_prose_run(run)
                run = []
                if bullet_group < 0:
                    bullet_group = self._new_group()
                self._emit(Kind.BULLET, marker.end(), line.end, group=bullet_group)
            elif bullet_group >= 0 and not run and self.source[line.start - 1] in " \t":
                # An indented line right after a bullet continues it.
                last = self.elements.pop()
                self._emit(Kind.BULLET, last.start, line.end, group=last.group)
            else:
                run.append(line)
                bullet_group = -1
        self._add_prose_run(run)

    def _add_prose_run(self, run: list[_Line]) -> None:
        if not run:
            return
        first = run[0]
        heading = MD_HEADING.match(first.text)
        if heading:
            self._heading(first.start + heading.end(), first.end)
            self._add_prose_run(run[1:])
            return
        if first.text.startswith("|") or (len(run) >= 2 and all(_is_heading_like(x.text) for x in run)):
            self._table(run)
            return
        if len(run) == 1 and _is_heading_like(first.text):
            self._heading(first.start, first.end)
            return
        self._paragraph(first.start, run[-1].end)

    def _table(self, run: list[_Line]) -> None:
        rows = [line for line in run if not MD_TABLE_RULE.fullmatch(line.text)]
        if not rows:  # only separator lines: nothing to read
            return
        header, body = rows[0], rows[1:]
        group = self._new_group()
        self._emit(Kind.TABLE_HEADER, header.start, header.end, group=group)
        for row in body:
            self._emit(Kind.TABLE_ROW, row.start, row.end, context=Span(header.start, header.end), group=group)
