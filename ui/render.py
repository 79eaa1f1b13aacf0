"""Turn the engine's reply JSON into what the page shows: chat Markdown, source list, highlighted briefing.

Everything a reader or a document supplies is escaped here: nothing from a question or a
corpus file can become markup or script in the page.
"""

from __future__ import annotations

import html
import re
from typing import Any

from ui.i18n import TEXTS, t

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<&])")


def escape_markdown(text: str) -> str:
    """Text shown literally inside Markdown: no links, images, emphasis or HTML from it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False)).replace("\n", " ")


def confidence_label(confidence: float, lang: str) -> str:
    """The confidence in words ("Confiance : élevée"), with the probability in a tooltip."""
    level = "high" if confidence >= 0.8 else "medium" if confidence >= 0.5 else "low"
    words = f"{t(lang, 'confidence')}{t(lang, 'colon')}{t(lang, level)}"
    tooltip = t(lang, "confidence_tooltip").format(p=confidence)
    return f'<sub title="{html.escape(tooltip)}">{html.escape(words)}</sub>'


def source_label(passage: dict[str, Any], lang: str, title: str = "") -> str:
    """A citation's label: its number, its briefing's title (when there are several), section, line, page."""
    parts = [title] if title else []
    parts += [passage["section"], f"{t(lang, 'line')} {passage['line']}"]
    if passage.get("page"):
        parts.append(f"{t(lang, 'page')} {passage['page']}")
    return f"[{passage['rank']}] " + " — ".join(part for part in parts if part)


def reply_markdown(reply: dict[str, Any], lang: str) -> str:
    """The bot's chat message: verbatim extracts with citation numbers, or an honest 'not in the briefing'."""
    lines: list[str] = []
    if reply.get("interpreted_as"):
        lines.append(f"*{t(lang, 'understood')} : {escape_markdown(reply['interpreted_as'])}*\n")
    if reply["answered"]:
        for extract in reply["answer"]:
            if "context" in extract:
                lines.append(f"> *{escape_markdown(extract['context']['text'])}*  ")
            rank = extract["passage"]
            lines.append(f"> « {escape_markdown(extract['text'])} » **[\\[{rank}\\]](#passage-{rank})**\n")
    else:
        # Asked a number or a date that no extract holds: say which, not just "no answer".
        not_given = f"not_given_{reply.get('not_given')}"
        lines.append(f"**{t(lang, not_given if not_given in TEXTS['fr'] else 'not_found')}**\n")
        if reply["passages"]:
            lines.append(t(lang, "maybe"))
            for passage in reply["passages"][:3]:
                preview = passage["text"] if len(passage["text"]) <= 220 else passage["text"][:217] + "…"
                lines.append(f"- **[{passage['rank']}]** {escape_markdown(preview)}")
            lines.append("")
    lines.append(confidence_label(reply["confidence"], lang))
    return "\n".join(lines)


def briefing_html(
    text: str, span: tuple[int, int] | None, title: str = "", extracts: list[tuple[int, int]] | None = None
) -> str:
    """The whole document, escaped, with the cited span marked (id="cited") for scrolling into view.

    Extracts inside the span (the exact sentences quoted in the answer) are emphasised within it.
    """
    if span is None:
        body = html.escape(text)
    else:
        start, end = span
        inner, cursor = [], start
        for e_start, e_end in sorted(extracts or []):
            if start <= e_start < e_end <= end and e_start >= cursor:
                inner.append(html.escape(text[cursor:e_start]))
                # Its offsets ride along, so that a test (or a script) can check it is text[start:end].
                inner.append(
                    f"<strong class='extract' data-start='{e_start}' data-end='{e_end}'>"
                    f"{html.escape(text[e_start:e_end])}</strong>"
                )
                cursor = e_end
        inner.append(html.escape(text[cursor:end]))
        body = (
            html.escape(text[:start])
            + '<mark id="cited" tabindex="-1">'
            + "".join(inner)
            + "</mark>"
            + html.escape(text[end:])
        )
    heading = f"<div class='briefing-doc'>{html.escape(title)}</div>" if title else ""
    return f"<div class='briefing-scroll'>{heading}<div class='briefing-text' lang='fr'>{body}</div></div>"
