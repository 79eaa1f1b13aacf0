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
import re
import zipfile
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
        pages = [_unwrap(_tidy(page.extract_text(extraction_mode="layout") or "")) for page in reader.pages]
    except PdfReadError as exc:
        raise Unreadable(f"not a readable PDF ({exc})") from None
    if not any(page.strip() for page in pages):
        raise Unreadable("a PDF without a text layer (scanned?)")
    starts, parts, offset = [], [], 0
    for page in pages:
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


def _unwrap(page: str) -> str:
    """A PDF page's lines joined back into paragraphs, one a block; indented lines as list items.

    A PDF's text layer has a line per printed line and no list markers: a paragraph goes on until
    a blank line, a line that ends its sentence, or a change of indentation.
    """
    lines = page.split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    base = min(indents) if indents else 0
    logical: list[tuple[bool, str]] = []  # (indented, text)
    joinable = False
    for line in lines:
        text = " ".join(line.split())
        if not text:
            joinable = False
            continue
        indented = len(line) - len(line.lstrip()) > base + 1
        if joinable and logical[-1][0] == indented:
            # A line broken after a hyphen ("vice-" / "président") is one word again.
            glue = "" if re.search(r"\w-$", logical[-1][1]) else " "
            logical[-1] = (indented, logical[-1][1] + glue + text)
        else:
            logical.append((indented, text))
        joinable = not text.endswith(_SENTENCE_END)
    blocks: list[str] = []
    for indented, text in logical:
        if indented and blocks and blocks[-1].startswith("- "):
            blocks[-1] += "\n- " + text
        else:
            blocks.append(f"- {text}" if indented else text)
    return "\n\n".join(blocks)


def _tidy(text: str) -> str:
    """Unicode line ends and no trailing blanks (the reader counts offsets on the result)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines)
