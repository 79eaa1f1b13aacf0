from __future__ import annotations

from ui.render import briefing_html, escape_markdown, reply_markdown


def test_markdown_from_text_is_inert() -> None:
    escaped = escape_markdown("<img src=x onerror=alert(1)> [a](javascript:x) ![i](y) **b** `c`")
    assert "<" not in escaped and "](" not in escaped.replace("\\](", "") and "**" not in escaped


def test_briefing_html_escapes_and_marks_the_span() -> None:
    text = "Avant <b>gras</b>. Phrase citée. Après."
    start = text.index("Phrase")
    html = briefing_html(text, (start - 1, len(text) - 7), "doc.txt", [(start, start + len("Phrase citée."))])
    assert "<b>" not in html and "&lt;b&gt;" in html
    end = start + len("Phrase citée.")
    marked = f"<strong class='extract' data-start='{start}' data-end='{end}'>Phrase citée.</strong>"
    assert f'<mark id="cited" tabindex="-1"> {marked}</mark> Après.' in html


def test_unanswered_reply_lists_maybe_useful_passages() -> None:
    reply = {
        "answered": False,
        "answer": [],
        "confidence": 0.1,
        "passages": [{"rank": 1, "text": "Un passage <i>proche</i>.", "section": "S", "line": 3}],
    }
    markdown = reply_markdown(reply, "fr")
    assert "Le briefing ne répond pas" in markdown and "Peut-être utile" in markdown and "<i>" not in markdown
    assert "does not answer" in reply_markdown(reply, "en")


def test_a_kind_of_answer_not_given_is_named_in_the_page_language() -> None:
    reply = {"answered": False, "answer": [], "confidence": 0.9, "passages": [], "not_given": "number"}
    assert "Le briefing ne précise pas ce nombre." in reply_markdown(reply, "fr")
    assert "The briefing does not give this number." in reply_markdown(reply, "en")
    dated = reply_markdown({**reply, "not_given": "time"}, "fr")
    assert "ne précise pas cette date" in dated and "ne répond pas" not in dated
    assert "ne répond pas" in reply_markdown({**reply, "not_given": "colour"}, "fr")
