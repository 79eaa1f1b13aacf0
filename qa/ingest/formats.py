"""Documents as intranets have them: each file's type told from its content, and converted to text.

Web pages (main text by trafilatura, without navigation, headers, footers or banners), Word files
(python-docx: headings, lists, tables in body order) and PDF (pypdf: the text of each page) are
converted into Markdown-like text that ``reader.read_text`` reads into its structure; the index
keeps that text, and every citation's offsets point into it. Conversion is deterministic: the
same file gives the same text. A file that cannot be read raises ``Unreadable`` with the reason.

>>> detect(b"%PDF-1.7 ...")
'pdf'
>>> detect("<!doctype html><html><body>x</body></html>".encode())
'html'
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

TEXT, MARKDOWN, HTML, PDF, DOCX = "text", "markdown", "html", "pdf", "docx"
_HTML_START = re.compile(
    rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL
)


class Unreadable(Exception):
    """The file cannot be read as a document; the message says why (for the corpus report)."""


@dataclass(frozen=True)
class Converted:
    """A file's text as indexed, with what its metadata says."""

    text: str
    format: str
    title: str = ""
    date: str = ""  # ISO 8601, from the document's metadata ("" when it has none)
    pages: tuple[int, ...] = ()  # a PDF: the offset in ``text`` where each page starts


def detect(data: bytes, suffix: str = "") -> str | None:
    """The file's type from its first bytes (the suffix only tells text from Markdown)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return None
        return DOCX if "word/document.xml" in names else None
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(head):
        return HTML
    if b"\x00" in head:
        return None
    return MARKDOWN if suffix.lower() in (".md", ".markdown") else TEXT


def convert(data: bytes, kind: str, modified: float) -> Converted:
    """The text of a file of type ``kind``; ``modified``: the file's time, the date when metadata has none."""
    fallback_date = datetime.fromtimestamp(modified, UTC).date().isoformat()
    if kind in (TEXT, MARKDOWN):
        try:
            return Converted(data.decode("utf-8"), kind, date=fallback_date)
        except UnicodeDecodeError as exc:
            raise Unreadable(f"not UTF-8 text (byte {exc.start})") from None
    converter = {HTML: _from_html, DOCX: _from_docx, PDF: _from_pdf}[kind]
    converted = converter(data)
    return converted if converted.date else replace(converted, date=fallback_date)


def _from_html(data: bytes) -> Converted:
    import trafilatura

    html = data.decode("utf-8", errors="replace")
    # Markdown keeps the structure the reader needs: headings, lists, tables.
    text = trafilatura.extract(
        html, output_format="markdown", include_tables=True, include_comments=False, deduplicate=False
    )
    if not text or not text.strip():
        raise Unreadable("no main text found in the web page")
    # Only what the page declares (meta tags, <time>): not a year guessed from its copyright line.
    metadata = trafilatura.extract_metadata(html, extensive=False)
    title = (metadata.title or "").strip() if metadata else ""
    text = _tidy(text)
    if title and not text.lstrip().startswith("#"):
        text = f"# {title}\n\n{text}"
    return Converted(text, HTML, title=title, date=(metadata.date or "") if metadata else "")


def _from_docx(data: bytes) -> Converted:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several kinds for a damaged package
        raise Unreadable(f"not a readable Word file ({type(exc).__name__})") from None
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            block = _docx_paragraph(item)
        elif isinstance(item, Table):
            block = _docx_table(item)
        else:
            continue
        if block:
            blocks.append(block)
    if not blocks:
        raise Unreadable("no text found in the Word file")
    properties = document.core_properties
    stamp = properties.modified or properties.created
    date = stamp.date().isoformat() if stamp else ""
    return Converted(_join_blocks(blocks), DOCX, title=(properties.title or "").strip(), date=date)


def _docx_paragraph(paragraph: Any) -> str:
    text = " ".join(paragraph.text.split())
    if not text:
        return ""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return f"# {text}"
    heading = re.fullmatch(r"Heading (\d)", style)
    if heading:
        return "#" * min(6, int(heading.group(1)) + 1) + " " + text
    if style.startswith("List"):
        return f"- {text}"
    return text


def _docx_table(table: Any) -> str:
    rows = [[" ".join(cell.text.split()) for cell in row.cells] for row in table.rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        return ""
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _join_blocks(blocks: list[str]) -> str:
    """Blocks separated by blank lines, but the items of one list kept together."""
    out: list[str] = []
    for block in blocks:
        if out and block.startswith("- ") and out[-1].startswith("- "):
            out[-1] += "\n" + block
        else:
            out.append(block)
    return "\n\n".join(out) + "\n"


def _from_pdf(data: bytes) -> Converted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise Unreadable("an encrypted PDF")
        # Layout mode keeps a blank line between paragraphs, which the reader splits blocks on.
        headings = [_larger_lines(page) for page in reader.pages]
        levels = _heading_levels(headings)
        raw = [_tidy(page.extract_text(extraction_mode="layout") or "") for page in reader.pages]
        pages = [
            _unwrap(text, {t: levels[s] for t, s in lines.items()}) for text, lines in zip(raw, headings, strict=True)
        ]
    except PdfReadError as exc:
        raise Unreadable(f"not a readable PDF ({exc})") from None
    if not any(page.strip() for page in pages):
        raise Unreadable("a PDF without a text layer (scanned?)")
    starts, parts, offset = [], [], 0
    for number, page in enumerate(pages):
        if number and parts and page.strip() and parts[-1].strip():
            # A paragraph or a table that goes on over the page break is one block again.
            glue = _page_glue(raw[number - 1], raw[number], headings[number - 1], headings[number])
            offset += len(glue) - 2
            parts[-1] = parts[-1][:-2] + glue
        starts.append(offset)
        part = page.strip() + "\n\n"
        parts.append(part)
        offset += len(part)
    info = reader.metadata
    title = (info.title or "").strip() if info else ""
    stamp = (info.modification_date or info.creation_date) if info else None
    date = stamp.date().isoformat() if stamp else ""
    return Converted("".join(parts), PDF, title=title, date=date, pages=tuple(starts))


# A line ending so ends its sentence: the next line starts a new paragraph, item or heading.
_SENTENCE_END = (".", "!", "?", ":", ";", "…", "»", '"', "”")


# A line printed at least this much larger than the page's body text is a heading.
HEADING_SIZE_RATIO = 1.15
MAX_HEADING_LEVELS = 3


def _larger_lines(page: Any) -> dict[str, float]:
    """Each line of the page printed larger than its body text (whitespace folded) -> its font size.

    The text layer has no headings, but each run of text has its font size (scaled by the text and
    page matrices): the body is the size most characters have.
    """
    runs: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
        c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
        runs.append((text, round(size * abs(a * d - b * c) ** 0.5, 1)))

    page.extract_text(visitor_text=visit)
    chars = Counter[float]()
    for text, size in runs:
        chars[size] += len(text.strip())
    body, body_chars = chars.most_common(1)[0] if chars else (0.0, 0)
    if not body_chars:
        return {}
    lines: dict[str, float] = {}
    line: list[str] = []
    line_size = 0.0

    def end_line() -> None:
        text = " ".join(" ".join(line).split())
        if text:
            lines[text] = max(lines.get(text, 0.0), line_size)
        line.clear()

    for text, size in runs:
        for number, piece in enumerate(text.split("\n")):
            if number:
                end_line()
            if not piece.strip():
                continue
            if size < body * HEADING_SIZE_RATIO:
                line.clear()  # body text on the line: not a heading
            else:
                line.append(piece)
                line_size = size
    end_line()
    return lines


def _heading_levels(pages: list[dict[str, float]]) -> dict[float, int]:
    """Heading font sizes, largest first, as Markdown levels 1, 2, 3 (the smaller ones 3)."""
    sizes = sorted({size for lines in pages for size in lines.values()}, reverse=True)
    return {size: min(rank, MAX_HEADING_LEVELS) for rank, size in enumerate(sizes, start=1)}


def _unwrap(page: str, headings: dict[str, int] | None = None) -> str:
    """A PDF page's lines joined back into paragraphs, one a block; indented lines as list items;
    lines printed larger (``headings``: folded line -> level) as Markdown headings.

    A PDF's text layer has a line per printed line and no list markers: a paragraph goes on until
    a blank line, a line that ends its sentence, a heading, or a change of indentation.
    """
    headings = headings or {}
    lines = page.split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    base = min(indents) if indents else 0
    # Layout mode places text by its position: a line's length is where it ends on the page.
    width = max((len(line.rstrip()) for line in lines), default=0)
    logical: list[tuple[str, str]] = []  # (kind: "item", "text" or a heading's "#" marks, text)
    joinable = touching = False  # the line before continues / is not blank
    previous_end = 0
    for number, line in enumerate(lines):
        text = " ".join(line.split())
        if not text:
            joinable = touching = False
            continue
        kind = "#" * headings[text] if text in headings else _line_kind(lines, number, base, width)
        same_kind = touching and logical and logical[-1][0] == kind
        # A text line broken where the next word would not have fitted was wrapped, even after a
        # full stop: the paragraph goes on. So was one that goes on in lower case mid-sentence.
        wrapped = (
            same_kind
            and kind == "text"
            and (not _would_have_fit(previous_end, text, width) or (joinable and text[:1].islower()))
        )
        if same_kind and (wrapped or joinable or kind.startswith("#")):
            # Broken before the margin, so on purpose (table rows, an address): a line of its own.
            on_purpose = kind == "text" and not wrapped
            logical[-1] = (kind, logical[-1][1] + "\n" + text if on_purpose else _rejoined(logical[-1][1], text))
        else:
            logical.append((kind, text))
        joinable = not kind.startswith("#") and not text.endswith(_SENTENCE_END)
        touching = True
        previous_end = len(line.rstrip())
    blocks: list[str] = []
    for kind, text in logical:
        if kind == "item" and blocks and blocks[-1].startswith("- "):
            blocks[-1] += "\n- " + text
        else:
            blocks.append({"item": f"- {text}", "text": text}.get(kind, f"{kind} {text}"))
    return "\n\n".join(blocks)


# How far short of the page's longest line a line may end and still have been wrapped: a text's
# characters differ in width, so layout mode's line lengths vary by about this share.
WRAP_SLACK = 0.05


def _rejoined(line: str, wrapped: str) -> str:
    """A line and the line it was wrapped into, one text: a word broken after its hyphen ("vice-" /
    "président") is one word again."""
    return line + ("" if re.search(r"\w-$", line) else " ") + wrapped


def _would_have_fit(previous_end: int, text: str, width: int) -> bool:
    """Whether the next line's first word would have fitted on the line before: then it was not wrapped."""
    first_word = text.split(" ", 1)[0]
    return previous_end + 1 + len(first_word) <= width * (1 - WRAP_SLACK)


# How far from the middle of the line below a centred line's middle may be (share of that line's length).
CENTRED_TOLERANCE = 0.1
# A centred line is shorter than this share of the page's width (a list item's long line is not).
CENTRED_MAX = 0.8


def _page_glue(before: str, after: str, headings_before: dict[str, float], headings_after: dict[str, float]) -> str:
    """What joins two pages: a space when the last line of one was wrapped into the first of the
    next, a line break when it was broken on purpose without ending its sentence (a table's rows),
    else a blank line. Only body text at the margin continues: not a heading, not a list item."""
    lines_before = [line for line in before.split("\n") if line.strip()]
    lines_after = [line for line in after.split("\n") if line.strip()]
    if not lines_before or not lines_after:
        return "\n\n"
    last, first = lines_before[-1], lines_after[0]
    last_text, first_text = " ".join(last.split()), " ".join(first.split())
    if last_text in headings_before or first_text in headings_after:
        return "\n\n"
    width = max(len(line.rstrip()) for line in lines_before)
    if _line_kind(lines_before, len(lines_before) - 1, _margin(lines_before), width) != "text":
        return "\n\n"
    width_after = max(len(line.rstrip()) for line in lines_after)
    if _line_kind(lines_after, 0, _margin(lines_after), width_after) != "text":
        return "\n\n"
    if not _would_have_fit(len(last.rstrip()), first_text, width):
        return _rejoined(last_text, first_text)[len(last_text) : -len(first_text)]
    return "\n\n" if last_text.endswith(_SENTENCE_END) else "\n"


def _margin(lines: list[str]) -> int:
    return min(len(line) - len(line.lstrip()) for line in lines)


def _line_kind(lines: list[str], number: int, base: int, width: int) -> str:
    """A line indented past the page's margin is a list item ("item"), unless it is a short line
    centred over the lines right under it, which start at the margin, or over the page (a table's
    header, a caption): then "text"."""
    line = lines[number]
    indent = len(line) - len(line.lstrip())
    if indent <= base + 1:
        return "text"
    below = list(itertools.takewhile(str.strip, lines[number + 1 :]))
    if below and len(below[0]) - len(below[0].lstrip()) <= base + 1 and len(line.strip()) <= CENTRED_MAX * width:
        middle = (indent + len(line.rstrip())) / 2
        for right in (max(len(other.rstrip()) for other in below), width):
            if abs(middle - (base + right) / 2) <= CENTRED_TOLERANCE * right:
                return "text"
    return "item"


def _tidy(text: str) -> str:
    """Unicode line ends and no trailing blanks (the reader counts offsets on the result)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines)
