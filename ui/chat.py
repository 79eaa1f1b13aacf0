"""The Gradio chat: questions in, cited verbatim extracts out, the briefing beside with the citation highlighted.

The UI only translates between the page and the engine: retrieval and answering live in ``qa``.
The event behind the chat is exposed as ``api_name="ask"`` and returns the engine's reply JSON,
so ``gradio_client.Client(url).predict(question, api_name="/ask")`` gets exactly what
``POST /api/ask`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from qa.answer.reply import to_json
from qa.core.model import Kind
from qa.engine import Engine, QuestionError
from ui.i18n import LANGUAGES, t
from ui.render import briefing_html, escape_markdown, reply_markdown, source_label

SCROLL_TO_CITATION = """() => {
  const mark = document.querySelector('#briefing-view mark#cited');
  if (mark) { mark.scrollIntoView({block: 'center', behavior: 'smooth'}); mark.focus({preventScroll: true}); }
}"""

CSS = """
#briefing-view .briefing-scroll { max-height: 70vh !important; overflow-y: auto !important;
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.75rem 1rem;
  background: var(--background-fill-secondary); }
#briefing-view .briefing-text { white-space: pre-wrap; line-height: 1.5; font-size: 0.95rem; }
#briefing-view .briefing-doc { font-size: 0.8rem; opacity: 0.7; margin-bottom: 0.5rem; }
#briefing-view mark { background: #fff1b8; color: #1a1a1a; padding: 0 2px; border-radius: 3px; outline: none; }
#briefing-view mark strong.extract { background: #ffd54a; font-weight: 600; }
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

    def ask(self, question: str, conversation: dict[str, Any]) -> dict[str, Any]:
        # The briefing chosen is kept in the conversation's state, so that the Gradio API's "/ask"
        # still takes the question alone.
        document = (conversation or {}).get("document")
        try:
            documents = [document] if document else None
            reply = self.engine.ask(question, previous=(conversation or {}).get("previous"), documents=documents)
        except QuestionError as exc:
            raise gr.Error(str(exc)) from None
        return to_json(reply)

    def show(
        self,
        question: str,
        reply: dict[str, Any],
        history: list[dict[str, Any]],
        conversation: dict[str, Any],
        language: str,
    ) -> tuple[Any, ...]:
        lang = LANGUAGES.get(language, "fr")
        # The reader's own text is shown literally: no markup, links or images from it.
        history = [
            *(history or []),
            {"role": "user", "content": escape_markdown(question)},
            {"role": "assistant", "content": reply_markdown(reply, lang)},
        ]
        passages = [
            {"rank": p["rank"], "doc": p["doc"], "start": p["start"], "end": p["end"]} for p in reply["passages"]
        ]
        conversation = {"previous": question, "passages": passages, "document": (conversation or {}).get("document")}
        choices = [
            (source_label(p, lang, self.title_of(p["doc"]) if self.many else ""), str(p["rank"]))
            for p in reply["passages"]
        ]
        cited = str(reply["answer"][0]["passage"]) if reply["answered"] else (choices[0][1] if choices else None)
        shown = self.briefing_for(conversation, cited)
        return history, conversation, gr.update(choices=choices, value=cited), shown, ""

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
        return [], empty, gr.update(choices=[], value=None), self.briefing_for({}, None), ""

    def relabel(self, language: str) -> tuple[Any, ...]:
        lang = LANGUAGES.get(language, "fr")
        return (
            self.heading(lang),
            gr.update(label=t(lang, "question"), placeholder=t(lang, "placeholder")),
            gr.update(value=t(lang, "send")),
            gr.update(value=t(lang, "new")),
            gr.update(label=t(lang, "sources")),
            f"### {t(lang, 'briefing')}",
            gr.update(label=t(lang, "examples")),
            gr.update(
                label=t(lang, "documents").format(n=len(self.engine.index.documents)),
                choices=self.document_choices(lang),
            ),
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
    examples: gr.Dataset
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
        feedback_options=None,
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
        )
        send = gr.Button(t("fr", "send"), variant="primary", elem_id="send", scale=1, min_width=100)
    new = gr.Button(t("fr", "new"), variant="secondary", size="sm", elem_id="new-conversation")
    examples = gr.Dataset(
        components=[gr.Textbox(visible=False)],
        samples=[[q] for q in faq_questions(engine)],
        label=t("fr", "examples"),
        elem_id="examples",
        type="values",
    )
    reply_json = gr.JSON(visible=False)
    return {"heading": heading, "chatbot": chatbot, "question": question, "send": send, "new": new,
            "examples": examples, "reply_json": reply_json, "document": document}  # fmt: skip


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


def _wire(page: Page, handlers: Handlers, concurrency: int) -> None:
    shown = [page.chatbot, page.conversation, page.sources, page.briefing, page.question]
    # One event for Enter and the button; ``concurrency`` questions computed at once, the others
    # wait in Gradio's bounded queue.
    gr.on(
        [page.question.submit, page.send.click],
        handlers.ask,
        inputs=[page.question, page.conversation],
        outputs=page.reply_json,
        api_name="ask",
        concurrency_limit=concurrency,
        show_progress="minimal",
    ).success(
        handlers.show,
        inputs=[page.question, page.reply_json, page.chatbot, page.conversation, page.language],
        outputs=shown,
        api_visibility="private",
        concurrency_limit=None,
        show_progress="hidden",
    ).success(None, js=SCROLL_TO_CITATION, api_visibility="private")
    page.sources.input(
        lambda rank, conv: handlers.briefing_for(conv, rank),
        inputs=[page.sources, page.conversation],
        outputs=page.briefing,
        api_visibility="private",
        concurrency_limit=None,
        show_progress="hidden",
    ).success(None, js=SCROLL_TO_CITATION, api_visibility="private")
    page.examples.click(lambda sample: sample[0], inputs=page.examples, outputs=page.question, api_visibility="private")
    page.new.click(handlers.start_over, inputs=page.conversation, outputs=shown, api_visibility="private")
    page.document.change(
        handlers.choose, inputs=[page.document, page.conversation], outputs=page.conversation, api_visibility="private"
    )
    page.language.change(
        handlers.relabel,
        inputs=page.language,
        outputs=[
            page.heading,
            page.question,
            page.send,
            page.new,
            page.sources,
            page.briefing_heading,
            page.examples,
            page.document,
        ],
        api_visibility="private",
    )


def build_ui(engine: Engine, concurrency: int = 8) -> gr.Blocks:
    handlers = Handlers(engine)
    with gr.Blocks(title="briefing-qa") as demo:
        _wire(_layout(engine, handlers), handlers, concurrency)
    return demo
