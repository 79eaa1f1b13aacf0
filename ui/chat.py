"""The Gradio chat: questions in, cited verbatim extracts out, the briefing beside with the citation highlighted.

The UI only translates between the page and the engine: retrieval and answering live in ``qa``.
The event behind the chat is exposed as ``api_name="ask"`` and returns the engine's reply JSON,
so ``gradio_client.Client(url).predict(question, api_name="/ask")`` gets exactly what
``POST /api/ask`` returns.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from qa.core.model import Kind
from qa.engine import Engine, QuestionError, reply_to_json
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


def build_ui(engine: Engine) -> gr.Blocks:
    first_doc = next(iter(engine.index.documents))

    def ask(question: str, conversation: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = engine.ask(question, previous=(conversation or {}).get("previous"))
        except QuestionError as exc:
            raise gr.Error(str(exc)) from None
        return reply_to_json(reply)

    def show(
        question: str, reply: dict[str, Any], history: list[dict[str, Any]], conversation: dict[str, Any], language: str
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
        conversation = {"previous": question, "passages": passages}
        choices = [(source_label(p, lang), str(p["rank"])) for p in reply["passages"]]
        cited = str(reply["answer"][0]["passage"]) if reply["answered"] else (choices[0][1] if choices else None)
        return (
            history,
            conversation,
            gr.update(choices=choices, value=cited),
            _briefing_for(conversation, cited),
            "",
        )

    def _briefing_for(conversation: dict[str, Any], rank: str | None) -> str:
        passage = next((p for p in conversation.get("passages", []) if str(p["rank"]) == rank), None)
        if passage is None:
            return briefing_html(engine.index.documents[first_doc], None, first_doc)
        text = engine.index.documents[passage["doc"]]
        return briefing_html(text, (passage["start"], passage["end"]), passage["doc"], passage.get("extracts"))

    def start_over() -> tuple[Any, ...]:
        return [], {"previous": None, "passages": []}, gr.update(choices=[], value=None), _briefing_for({}, None), ""

    def relabel(language: str) -> tuple[Any, ...]:
        lang = LANGUAGES.get(language, "fr")
        return (
            f"## {t(lang, 'title')}\n{t(lang, 'intro')}",
            gr.update(label=t(lang, "question"), placeholder=t(lang, "placeholder")),
            gr.update(value=t(lang, "send")),
            gr.update(value=t(lang, "new")),
            gr.update(label=t(lang, "sources")),
            f"### {t(lang, 'briefing')}",
            gr.update(label=t(lang, "examples")),
        )

    with gr.Blocks(title="briefing-qa") as demo:
        conversation = gr.State({"previous": None, "passages": []})
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                heading = gr.Markdown(f"## {t('fr', 'title')}\n{t('fr', 'intro')}")
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
            with gr.Column(scale=2, min_width=300):
                language = gr.Radio(list(LANGUAGES), value="Français", label="Langue / Language", elem_id="language")
                sources = gr.Radio([], label=t("fr", "sources"), elem_id="sources")
                briefing_heading = gr.Markdown(f"### {t('fr', 'briefing')}")
                briefing = gr.HTML(_briefing_for({}, None), elem_id="briefing-view")

        shown = [chatbot, conversation, sources, briefing, question]
        # One event for Enter and the button; no concurrency limit: the engine is read-only and fast.
        gr.on(
            [question.submit, send.click],
            ask,
            inputs=[question, conversation],
            outputs=reply_json,
            api_name="ask",
            concurrency_limit=None,
            show_progress="minimal",
        ).success(
            show,
            inputs=[question, reply_json, chatbot, conversation, language],
            outputs=shown,
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        ).success(None, js=SCROLL_TO_CITATION, api_visibility="private")
        sources.input(
            lambda rank, conv: _briefing_for(conv, rank),
            inputs=[sources, conversation],
            outputs=briefing,
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        ).success(None, js=SCROLL_TO_CITATION, api_visibility="private")
        examples.click(lambda sample: sample[0], inputs=examples, outputs=question, api_visibility="private")
        new.click(start_over, outputs=shown, api_visibility="private")
        language.change(
            relabel,
            inputs=language,
            outputs=[heading, question, send, new, sources, briefing_heading, examples],
            api_visibility="private",
        )
    return demo
