"""The Gradio chat: questions in, cited verbatim extracts out, the briefing beside with the citation highlighted.

The UI only translates between the page and the engine: retrieval and answering live in ``qa``.
The event behind the chat is exposed as ``api_name="ask"`` and returns the engine's reply JSON,
so ``gradio_client.Client(url).predict(question, api_name="/ask")`` gets exactly what
``POST /api/ask`` returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import gradio as gr

from qa.answer.reply import to_json
from qa.core.model import Kind
from qa.engine import Engine, QuestionError
from qa.query.analysis import MAX_QUESTION_CHARS, clean
from ui.feedback import FeedbackLog, vote_record
from ui.i18n import LANGUAGES, t
from ui.render import briefing_html, escape_markdown, reply_markdown, source_label

log = logging.getLogger(__name__)
SUGGESTED = 3  # the briefing's own questions suggested in the welcome
VOTABLE_REPLIES = 20  # the latest answers of a conversation a reader can still vote on

# The cited passage is brought into view inside the briefing's own pane only: scrollIntoView would
# scroll the window too, and take the answer the reader is reading off the screen.
SCROLL_TO_CITATION = """() => {
  const mark = document.querySelector('#briefing-view mark#cited');
  if (!mark) return;
  const pane = mark.closest('.briefing-scroll');
  const target = mark.querySelector('.extract') || mark;
  const offset = target.getBoundingClientRect().top - pane.getBoundingClientRect().top;
  const centred = pane.scrollTop + offset - Math.max(0, (pane.clientHeight - target.offsetHeight) / 2);
  pane.scrollTo({top: Math.max(0, centred), behavior: 'instant'});
  mark.focus({preventScroll: true});
}"""
# "[n]" in an answer is a link to passage n: it selects that passage among the sources, which shows it
# in the briefing's pane (the link's own jump, which would scroll the window, is cancelled).
CITATION_LINKS = """() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest ? event.target.closest('#chat a[href^="#passage-"]') : null;
    if (!link) return;
    event.preventDefault();
    const rank = link.getAttribute('href').slice('#passage-'.length);
    const choice = Array.from(document.querySelectorAll('#sources input[type="radio"]')).find(i => i.value === rank);
    if (choice) choice.click();
  });
}"""
# After an answer, its first line is brought to the top of the chat's own scrolling box (an answer
# taller than the box would otherwise show its end), and into the window if it is off screen.
SHOW_ANSWER_START = """() => {
  const bots = document.querySelectorAll('#chat [data-testid="bot"]');
  const last = bots[bots.length - 1];
  if (!last) return;
  let box = last.parentElement;
  while (box && box !== document.body) {
    const style = getComputedStyle(box);
    if (box.scrollHeight > box.clientHeight + 1 && /(auto|scroll)/.test(style.overflowY)) break;
    box = box.parentElement;
  }
  if (box && box !== document.body) {
    box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  }
  const top = last.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight - 48) window.scrollBy(0, top - 8);
}"""

CSS = """
#briefing-view .briefing-scroll { max-height: 70vh !important; overflow-y: auto !important;
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.75rem 1rem;
  background: var(--background-fill-secondary); }
#briefing-view .briefing-text { white-space: pre-wrap; line-height: 1.5; font-size: 0.95rem; }
#briefing-view .briefing-doc { font-size: 0.8rem; opacity: 0.7; margin-bottom: 0.5rem; }
#briefing-view mark { background: #fff1b8; color: #1a1a1a; padding: 0 2px; border-radius: 3px; outline: none; }
#briefing-view mark strong.extract { background: #ffd54a; font-weight: 600; }
#examples { gap: 0.4rem; }
#examples button.chip { white-space: normal; text-align: left; height: auto; min-width: 0; flex: 0 1 auto; }
#chat blockquote { border-left: 3px solid #c9a227; margin: 0.3rem 0; padding-left: 0.6rem; }
@media (max-width: 640px) { #briefing-view .briefing-scroll { max-height: 45vh !important; } }
"""


def faq_questions(engine: Engine, limit: int = 12) -> list[str]:
    """The briefing's own FAQ questions (the first ``limit``), as example questions."""
    found: list[str] = []
    for chunk in engine.index.chunks:
        for unit in chunk.units:
            if unit.kind == Kind.FAQ_QUESTION and len(found) < limit:
                found.append(engine.index.documents[chunk.doc][unit.start : unit.end])
        if len(found) >= limit:
            break
    return found


class Handlers:
    """What the page's events do: ask the engine, show its reply, show a cited passage, start over, relabel."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.first_doc = next(iter(engine.index.documents))
        settings = engine.settings
        self.feedback = FeedbackLog(settings.feedback_file, settings.feedback_max_bytes) if settings.feedback else None

    @property
    def many(self) -> bool:
        return len(self.engine.index.documents) > 1

    def title_of(self, doc: str) -> str:
        return self.engine.index.titles.get(doc) or doc

    def document_choices(self, lang: str) -> list[tuple[str, str]]:
        """ "All briefings", then each one by its title (the value: its id; "": all)."""
        titles = sorted(((self.title_of(doc), doc) for doc in self.engine.index.documents), key=lambda c: c[0].lower())
        return [(t(lang, "all_documents"), ""), *titles]

    def heading(self, lang: str) -> str:
        title = self.engine.settings.corpus_title or t(lang, "title_many" if self.many else "title")
        return f"## {title}\n{t(lang, 'intro_many' if self.many else 'intro')}"

    def check(self, question: str, language: str) -> None:
        """A question the engine would refuse, told in the page's language before it is sent."""
        if not clean(question or "")[0]:
            log.info("ui: question refused: empty")
            raise gr.Error(t(LANGUAGES.get(language, "fr"), "empty_question"), print_exception=False)

    def ask(self, question: str, conversation: dict[str, Any]) -> dict[str, Any]:
        # The briefing chosen is kept in the conversation's state, so that the Gradio API's "/ask"
        # still takes the question alone.
        conversation = conversation or {}
        return self._ask(question, conversation.get("previous"), conversation, "auto")

    def ask_other_reading(self, conversation: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The last question again, read the other way (alone, or with the question before it)."""
        conversation = conversation or {}
        last = conversation.get("last") or {}
        if not last.get("other_reading"):
            raise gr.Error("no other reading to ask", print_exception=False)
        reply = self._ask(last["question"], last["previous"], conversation, last["other_reading"])
        return reply, {**conversation, "previous": last["previous"]}

    def _ask(self, question: str, previous: str | None, conversation: dict[str, Any], reading: str) -> dict[str, Any]:
        document = conversation.get("document")
        try:
            documents = [document] if document else None
            reply = self.engine.ask(question, previous=previous, documents=documents, reading=reading)
        except QuestionError as exc:
            log.info("ui: question refused: %s", exc)  # the reader's error: one line, no traceback
            raise gr.Error(str(exc), print_exception=False) from None
        return to_json(reply)

    def show(
        self, reply: dict[str, Any], history: list[dict[str, Any]], conversation: dict[str, Any], language: str
    ) -> tuple[Any, ...]:
        lang = LANGUAGES.get(language, "fr")
        question, conversation = reply["question"], conversation or {}
        # The reader's own text is shown literally: no markup, links or images from it.
        history = [
            *(history or []),
            {"role": "user", "content": escape_markdown(question)},
            {"role": "assistant", "content": reply_markdown(reply, lang)},
        ]
        quoted: dict[int, list[tuple[int, int]]] = {}
        for extract in reply["answer"]:
            quoted.setdefault(extract["passage"], []).append((extract["start"], extract["end"]))
        passages = [
            {
                "rank": p["rank"],
                "doc": p["doc"],
                "start": p["start"],
                "end": p["end"],
                "extracts": quoted.get(p["rank"]),
                "section": p["section"],
                "line": p["line"],
                "page": p.get("page"),
            }
            for p in reply["passages"]
        ]
        previous = conversation.get("previous")
        last = {"question": question, "previous": previous, "other_reading": reply.get("other_reading", "")}
        # What a vote on this answer records, by the answer's place in the chat (the last few only).
        voted_on = {"question": question, "answered": reply["answered"], "answer": reply["answer"]}
        replies = {**conversation.get("replies", {}), str(len(history) - 1): voted_on}
        conversation = {
            "previous": reply.get("leans_on", question),
            "passages": passages,
            "document": conversation.get("document"),
            "last": last,
            "replies": dict(list(replies.items())[-VOTABLE_REPLIES:]),
        }
        choices = self.source_choices(passages, lang)
        cited = str(reply["answer"][0]["passage"]) if reply["answered"] else (choices[0][1] if choices else None)
        shown = self.briefing_for(conversation, cited)
        other = self.other_reading_button(last, lang)
        return history, conversation, gr.update(choices=choices, value=cited), shown, "", other

    def vote(self, liked: gr.LikeData, conversation: dict[str, Any]) -> None:
        """A reader's thumbs up or down on an answer, appended to the feedback log."""
        voted_on = (conversation or {}).get("replies", {}).get(str(liked.index))
        if self.feedback is None or voted_on is None:
            return
        record = vote_record(voted_on["question"], voted_on, liked.liked)
        if record is not None and self.feedback.append(record):
            log.info("ui: feedback %s on an answer", record["vote"])

    def source_choices(self, passages: list[dict[str, Any]], lang: str) -> list[tuple[str, str]]:
        return [(source_label(p, lang, self.title_of(p["doc"]) if self.many else ""), str(p["rank"])) for p in passages]

    def other_reading_button(self, last: dict[str, Any] | None, lang: str) -> Any:
        """The button that asks the last question the other way, labelled in the page's language."""
        reading = (last or {}).get("other_reading")
        if not reading:
            return gr.update(visible=False)
        return gr.update(visible=True, value=t(lang, "ask_alone" if reading == "alone" else "ask_with_previous"))

    def briefing_for(self, conversation: dict[str, Any], rank: str | None) -> str:
        documents = self.engine.index.documents
        passage = next((p for p in conversation.get("passages", []) if str(p["rank"]) == rank), None)
        if passage is None:
            return briefing_html(documents[self.first_doc], None, self.title_of(self.first_doc))
        text, title = documents[passage["doc"]], self.title_of(passage["doc"])
        return briefing_html(text, (passage["start"], passage["end"]), title, passage.get("extracts"))

    def choose(self, document: str | None, conversation: dict[str, Any]) -> dict[str, Any]:
        """The briefing asked from now on ("" or None: all of them)."""
        return {**(conversation or {}), "document": document or None}

    def start_over(self, conversation: dict[str, Any]) -> tuple[Any, ...]:
        empty = {"previous": None, "passages": [], "document": (conversation or {}).get("document")}
        return [], empty, gr.update(choices=[], value=None), self.briefing_for({}, None), "", gr.update(visible=False)

    def welcome(self, lang: str) -> str:
        return t(lang, "welcome_many" if self.many else "welcome")

    def relabel(self, language: str, conversation: dict[str, Any]) -> tuple[Any, ...]:
        """Every label in the new language, the cited passages' and the other-reading button's included."""
        lang = LANGUAGES.get(language, "fr")
        conversation = conversation or {}
        return (
            self.heading(lang),
            gr.update(label=t(lang, "question"), placeholder=t(lang, "placeholder")),
            gr.update(value=t(lang, "send")),
            gr.update(value=t(lang, "new")),
            gr.update(label=t(lang, "sources"), choices=self.source_choices(conversation.get("passages", []), lang)),
            f"### {t(lang, 'briefing')}",
            f"**{t(lang, 'examples')}**",
            gr.update(
                label=t(lang, "documents").format(n=len(self.engine.index.documents)),
                choices=self.document_choices(lang),
            ),
            gr.update(placeholder=self.welcome(lang)),
            self.other_reading_button(conversation.get("last"), lang),
        )


@dataclass
class Page:
    """The page's components (built inside a gr.Blocks)."""

    conversation: gr.State
    heading: gr.Markdown
    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    new: gr.Button
    other_reading: gr.Button
    examples_heading: gr.Markdown
    chips: list[gr.Button]
    reply_json: gr.JSON
    language: gr.Radio
    sources: gr.Radio
    briefing_heading: gr.Markdown
    briefing: gr.HTML
    document: gr.Dropdown


def _chat_column(engine: Engine, handlers: Handlers) -> dict[str, Any]:
    heading = gr.Markdown(handlers.heading("fr"))
    # Which briefing is asked: all, or one (shown when the corpus has several).
    document = gr.Dropdown(
        handlers.document_choices("fr"),
        value="",
        label=t("fr", "documents").format(n=len(engine.index.documents)),
        elem_id="documents",
        visible=handlers.many,
        filterable=True,
    )
    chatbot = gr.Chatbot(
        elem_id="chat",
        height=460,
        buttons=["copy", "copy_all"],
        show_label=False,
        layout="panel",
        sanitize_html=True,
        # Thumbs up / down on each answer, for evaluators (BRIEFING_QA_FEEDBACK=0: none).
        feedback_options=("Like", "Dislike") if engine.settings.feedback else None,
        autoscroll=False,  # SHOW_ANSWER_START shows the answer's first line, not its end
        placeholder=handlers.welcome("fr"),
        # Before the first question: the briefing's own first questions, one click each.
        examples=[{"text": q} for q in faq_questions(engine, SUGGESTED)],
    )
    with gr.Row():
        question = gr.Textbox(
            label=t("fr", "question"),
            placeholder=t("fr", "placeholder"),
            elem_id="question",
            lines=1,
            max_lines=4,
            scale=5,
            autofocus=True,
            submit_btn=False,
            max_length=MAX_QUESTION_CHARS,  # what the engine reads of a question
        )
        send = gr.Button(t("fr", "send"), variant="primary", elem_id="send", scale=1, min_width=100)
    with gr.Row():
        other_reading = gr.Button(visible=False, variant="secondary", size="sm", elem_id="other-reading")
        new = gr.Button(t("fr", "new"), variant="secondary", size="sm", elem_id="new-conversation")
    # The briefing's own questions, whole (a Dataset's text examples are cut at 60 characters), each
    # asking itself when clicked.
    examples_heading = gr.Markdown(f"**{t('fr', 'examples')}**", elem_id="examples-heading")
    with gr.Row(elem_id="examples"):
        chips = [gr.Button(q, size="sm", variant="secondary", elem_classes="chip") for q in faq_questions(engine)]
    reply_json = gr.JSON(visible=False)
    return {"heading": heading, "chatbot": chatbot, "question": question, "send": send, "new": new,
            "other_reading": other_reading, "examples_heading": examples_heading, "chips": chips,
            "reply_json": reply_json,
            "document": document}  # fmt: skip


def _layout(engine: Engine, handlers: Handlers) -> Page:
    conversation = gr.State({"previous": None, "passages": []})
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            chat = _chat_column(engine, handlers)
        with gr.Column(scale=2, min_width=300):
            language = gr.Radio(list(LANGUAGES), value="Français", label="Langue / Language", elem_id="language")
            sources = gr.Radio([], label=t("fr", "sources"), elem_id="sources")
            briefing_heading = gr.Markdown(f"### {t('fr', 'briefing')}")
            briefing = gr.HTML(handlers.briefing_for({}, None), elem_id="briefing-view")
    return Page(conversation=conversation, language=language, sources=sources, briefing_heading=briefing_heading,
                briefing=briefing, **chat)  # fmt: skip


def _shown(page: Page) -> list[Any]:
    """What an answer changes on the page."""
    return [page.chatbot, page.conversation, page.sources, page.briefing, page.question, page.other_reading]


def _then_show(event: Any, page: Page, handlers: Handlers) -> None:
    """The reply an event left in reply_json shown, then its answer and its cited passage brought into view."""
    event.success(
        handlers.show,
        inputs=[page.reply_json, page.chatbot, page.conversation, page.language],
        outputs=_shown(page),
        api_visibility="private",
        concurrency_limit=None,
        show_progress="hidden",
    ).success(None, js=f"() => {{ ({SHOW_ANSWER_START})(); ({SCROLL_TO_CITATION})(); }}", api_visibility="private")


def _ask_after(event: Any, page: Page, handlers: Handlers, concurrency: int, api_name: str | None = None) -> None:
    """Once event has put a question in the box: ask it (``concurrency`` at once, the others queued), show it."""
    visibility = {"api_name": api_name} if api_name else {"api_visibility": "private"}
    asked = event.success(
        handlers.ask,
        inputs=[page.question, page.conversation],
        outputs=page.reply_json,
        concurrency_limit=concurrency,
        show_progress="minimal",
        **visibility,
    )
    _then_show(asked, page, handlers)


def _wire(page: Page, handlers: Handlers, concurrency: int) -> None:
    # One event for Enter and the button; an empty question is told apart first, in the page's language.
    checked = gr.on(
        [page.question.submit, page.send.click],
        handlers.check,
        inputs=[page.question, page.language],
        api_visibility="private",
        concurrency_limit=None,
        show_progress="hidden",
    )
    _ask_after(checked, page, handlers, concurrency, api_name="ask")
    # A suggested question (a chip, or one of the welcome's) asks itself.
    for chip in page.chips:
        _ask_after(
            chip.click(lambda q: q, inputs=chip, outputs=page.question, api_visibility="private"),
            page,
            handlers,
            concurrency,
        )
    welcome = page.chatbot.example_select(_example_text, outputs=page.question, api_visibility="private")
    _ask_after(welcome, page, handlers, concurrency)
    other = page.other_reading.click(
        handlers.ask_other_reading,
        inputs=page.conversation,
        outputs=[page.reply_json, page.conversation],
        api_visibility="private",
        concurrency_limit=concurrency,
        show_progress="minimal",
    )
    _then_show(other, page, handlers)
    page.sources.input(
        lambda rank, conv: handlers.briefing_for(conv, rank),
        inputs=[page.sources, page.conversation],
        outputs=page.briefing,
        api_visibility="private",
        concurrency_limit=None,
        show_progress="hidden",
    ).success(None, js=SCROLL_TO_CITATION, api_visibility="private")
    if handlers.feedback:
        # Through the page's queue like a question: the same bounds on waiting and on connections.
        page.chatbot.like(
            handlers.vote,
            inputs=page.conversation,
            api_visibility="private",
            concurrency_limit=concurrency,
            show_progress="hidden",
        )
    page.new.click(handlers.start_over, inputs=page.conversation, outputs=_shown(page), api_visibility="private")
    page.document.change(
        handlers.choose, inputs=[page.document, page.conversation], outputs=page.conversation, api_visibility="private"
    )
    _wire_labels(page, handlers)


def _example_text(selected: gr.SelectData) -> str:
    return str(selected.value.get("text", "")) if isinstance(selected.value, dict) else str(selected.value)


def _wire_labels(page: Page, handlers: Handlers) -> None:
    page.language.change(
        handlers.relabel,
        inputs=[page.language, page.conversation],
        outputs=[
            page.heading,
            page.question,
            page.send,
            page.new,
            page.sources,
            page.briefing_heading,
            page.examples_heading,
            page.document,
            page.chatbot,
            page.other_reading,
        ],
        api_visibility="private",
    )


def build_ui(engine: Engine, concurrency: int = 8) -> gr.Blocks:
    handlers = Handlers(engine)
    with gr.Blocks(title="briefing-qa") as demo:
        _wire(_layout(engine, handlers), handlers, concurrency)
    return demo
