"""The UI in a real browser: Playwright driving Debian's Chromium against a live server."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qa import cli
from qa.engine import Engine
from qa.settings import PROJECT_ROOT, Settings
from tests.live_server import free_port, running
from ui.feedback import read_votes
from ui.server import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

if not Path(CHROMIUM).exists():
    if os.environ.get("BRIEFING_QA_REQUIRE_BROWSER"):
        raise RuntimeError(f"Chromium is required here but not found at {CHROMIUM}")
    pytest.skip("Chromium not installed (apt-get install chromium): browser tests skipped", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(engine: Engine, settings: Settings) -> Iterator[str]:
    with running(create_app(engine, settings)) as url:
        yield url


@pytest.fixture()
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests = []  # type: ignore[attr-defined]
    page.on("request", lambda request: page.requests.append(request.url))  # type: ignore[attr-defined]
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))  # type: ignore[attr-defined]
    page.goto(server + "/")
    page.wait_for_selector("#question textarea")
    yield page
    context.close()


def ask(page: Page, question: str, root: str = "") -> None:
    """Type a question and send it, once the app is ready (its examples rendered, the text box bound)."""
    scope = page.locator(root) if root else page
    expect(scope.locator("#examples-heading").first).to_be_visible(timeout=60_000)
    box = scope.locator("#question textarea")
    for _attempt in range(3):
        box.fill(question)
        try:
            expect(box).to_have_value(question, timeout=5_000)
            break
        except AssertionError:
            continue  # an embedded app can render its box again just after a fill (seen once in CI): type again
    expect(box).to_have_value(question)
    scope.locator("#send").click()


def last_bot_message(page: Page):
    return page.locator("#chat .message-row.bot-row, #chat [data-testid='bot']").last


def test_question_shows_cited_answer_and_highlighted_passage(page: Page, server: str) -> None:
    ask(page, "Quel est le rôle de l’OTAN dans ce processus ?")
    bot = last_bot_message(page)
    expect(bot).to_contain_text("L’OTAN agit comme garant de la sécurité collective", timeout=30_000)
    expect(bot).to_contain_text("[1]")
    mark = page.locator("#briefing-view mark#cited")
    expect(mark).to_contain_text("L’OTAN agit comme garant")
    expect(mark).to_be_in_viewport()
    assert {url.split("/")[2] for url in page.requests} == {server.split("/")[2]}  # type: ignore[attr-defined]


def test_clicking_a_citation_highlights_that_passage(page: Page, engine: Engine) -> None:
    ask(page, "Quelles infrastructures les services de renseignement protègent-ils ?")
    expect(page.locator("#sources label").first).to_be_visible(timeout=30_000)
    second = page.locator("#sources label").nth(1)
    label = second.inner_text()
    from qa.answer.reply import to_json

    reply = to_json(engine.ask("Quelles infrastructures les services de renseignement protègent-ils ?"))
    rank = int(label.split("]")[0].strip("[ "))
    passage = next(p for p in reply["passages"] if p["rank"] == rank)
    second.click()
    mark = page.locator("#briefing-view mark#cited")
    # The highlighted text becomes the cited passage, verbatim, in view.
    expect(mark).to_contain_text(passage["text"].split("\n")[0][:60], timeout=10_000)
    expect(mark).to_be_in_viewport(timeout=10_000)
    assert mark.inner_text().split() == passage["text"].split()


def test_out_of_scope_question_says_so(page: Page) -> None:
    ask(page, "Quelle est la recette de la tarte Tatin ?")
    bot = last_bot_message(page)
    expect(bot).to_contain_text("Le briefing ne répond pas à cette question", timeout=30_000)
    expect(bot).to_contain_text("Peut-être utile")


def test_follow_up_in_the_conversation(page: Page) -> None:
    ask(page, "Qui mène la réunion des conseillers à la sécurité nationale ?")
    expect(last_bot_message(page)).to_contain_text("David Lammy", timeout=30_000)
    ask(page, "Et la Russie ?")
    bot = last_bot_message(page)
    expect(bot).to_contain_text("Compris comme", timeout=30_000)
    expect(bot).to_contain_text("la Russie sera présente")
    page.click("#new-conversation")
    expect(page.locator("#chat")).not_to_contain_text("David Lammy")


CONVERSATION = [
    # (question, read with the one before?)
    ("Qui mène la réunion des conseillers à la sécurité nationale ?", False),
    ("Où se tient la réunion ?", False),
    ("Where is the meeting held?", False),
    ("Et la Russie ?", True),
    ("Quand a eu lieu la rencontre ?", False),
    ("Quel est le rôle de l’OTAN dans ce processus ?", False),
]


@pytest.mark.parametrize(
    ("viewport", "name"), [({"width": 1280, "height": 900}, "desktop"), ({"width": 390, "height": 844}, "phone")]
)
def test_a_conversation_as_a_reader_lives_it(
    browser: Browser, server: str, briefing_text: str, viewport: dict, name: str, tmp_path: Path
) -> None:
    """Six questions in one conversation: short questions that stand alone are not glued to the one
    before, a true follow-up is; after every answer its first line is on screen (the briefing's
    pane scrolls, not the window); the marked words are the extract's characters, verbatim."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(server + "/")
    page.wait_for_selector("#question textarea")
    for turn, (question, follow_up) in enumerate(CONVERSATION, start=1):
        ask(page, question)
        bot = last_bot_message(page)
        expect(page.locator("#chat [data-testid='bot']")).to_have_count(turn, timeout=30_000)
        expect(bot).to_contain_text("Confiance", timeout=30_000)
        if follow_up:
            expect(bot).to_contain_text("Compris comme")
        else:
            expect(bot).not_to_contain_text("Compris comme")
        top = bot.evaluate("element => element.getBoundingClientRect().top")
        assert 0 <= top < viewport["height"] - 20, (question, top)
        for marked in page.locator("#briefing-view mark#cited strong.extract").all():
            start, end = int(marked.get_attribute("data-start")), int(marked.get_attribute("data-end"))
            assert marked.text_content() == briefing_text[start:end], question
    # The README's screenshots are these pages (BRIEFING_QA_SCREENSHOTS=1 writes them into docs/).
    folder = PROJECT_ROOT / "docs" if os.environ.get("BRIEFING_QA_SCREENSHOTS") else tmp_path
    shot = folder / f"screenshot-{name}.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    context.close()


def test_the_other_reading_is_one_click_away(page: Page) -> None:
    ask(page, "Qui mène la réunion des conseillers à la sécurité nationale ?")
    expect(last_bot_message(page)).to_contain_text("David Lammy", timeout=30_000)
    ask(page, "Et la Russie ?")
    expect(last_bot_message(page)).to_contain_text("Compris comme", timeout=30_000)
    other = page.locator("#other-reading")
    expect(other).to_have_text("Poser la question seule")
    other.click()
    expect(page.locator("#chat [data-testid='bot']")).to_have_count(3, timeout=30_000)
    expect(last_bot_message(page)).not_to_contain_text("Compris comme")
    expect(other).to_have_text("La lire avec la question précédente")


def test_english_labels_and_a_chip_asks_its_question(page: Page) -> None:
    page.get_by_label("English").check()
    expect(page.locator("#send")).to_have_text("Send")
    chip = page.locator("#examples button, #examples [role='button'], #examples td").first
    expect(chip).to_have_text("Qui mène la réunion des conseillers à la sécurité nationale ?")  # whole, not cut
    chip.click()
    bot = last_bot_message(page)
    expect(bot).to_contain_text("David Lammy", timeout=30_000)
    expect(bot).to_contain_text("Confidence: ")
    expect(page.locator("#sources")).to_contain_text("line")


def test_switching_language_relabels_the_sources_already_shown(page: Page) -> None:
    ask(page, "Quel est le rôle de l’OTAN dans ce processus ?")
    expect(page.locator("#sources label").first).to_contain_text("ligne", timeout=30_000)
    page.get_by_label("English").check()
    expect(page.locator("#sources label").first).to_contain_text("line ")
    expect(page.locator("#sources")).not_to_contain_text("ligne")


def test_a_welcome_suggests_questions_that_ask_themselves(page: Page) -> None:
    chat = page.locator("#chat")
    expect(chat).to_contain_text("Bonjour")
    suggestions = chat.locator("button", has_text="?")
    expect(suggestions).to_have_count(3)
    suggestions.first.click()
    expect(last_bot_message(page)).to_contain_text("David Lammy", timeout=30_000)
    expect(chat).not_to_contain_text("Bonjour")


def test_an_empty_question_is_told_in_the_page_language_without_a_traceback(
    page: Page, capfd: pytest.CaptureFixture[str]
) -> None:
    expect(page.locator("#examples-heading").first).to_be_visible(timeout=60_000)
    page.locator("#send").click()
    expect(page.get_by_text("Écrivez d’abord une question.")).to_be_visible(timeout=10_000)
    page.get_by_label("English").check()
    expect(page.locator("#send")).to_have_text("Send")
    page.locator("#send").click()
    expect(page.get_by_text("Please write a question first.")).to_be_visible(timeout=10_000)
    assert "Traceback" not in capfd.readouterr().err


def test_a_readers_votes_are_logged_and_the_disliked_questions_exported(
    page: Page, settings: Settings, tmp_path: Path
) -> None:
    """Thumbs up on one answer, down on another: two lines in the feedback log (question, citations,
    vote, time; nothing about the reader); the export gives the disliked question, evidence empty."""
    log_file = settings.feedback_file
    before = len(read_votes(log_file))
    liked, disliked = "Quel est le rôle de l’OTAN dans ce processus ?", "Quelle est la capitale de l'Australie ?"
    for turn, question in enumerate((liked, disliked), start=1):
        ask(page, question)
        expect(page.locator("#chat [data-testid='bot']")).to_have_count(turn, timeout=30_000)
        expect(last_bot_message(page)).to_contain_text("Confiance", timeout=30_000)
    bots = page.locator("#chat [data-testid='bot']")
    page.locator("#chat").get_by_role("button", name="Like", exact=True).first.click()
    page.locator("#chat").get_by_role("button", name="Dislike", exact=True).last.click()
    for _ in range(100):
        votes = read_votes(log_file)[before:]
        if len(votes) >= 2:
            break
        page.wait_for_timeout(100)
    assert [(v["question"], v["vote"]) for v in votes] == [(liked, "up"), (disliked, "down")], votes
    assert set(votes[0]) == {"time", "question", "answered", "citations", "vote"}
    text = (settings.corpus_dir / "chevening-briefing.fr.txt").read_text("utf-8")
    assert votes[0]["answered"] and votes[0]["citations"]
    for citation in votes[0]["citations"]:
        assert text[citation["start"] : citation["end"]].startswith(citation["text"])
    assert bots.count() == 2
    out = tmp_path / "disliked.jsonl"
    assert cli.main(["feedback", "export", str(out), "--index-dir", str(settings.index_dir)]) == 0
    exported = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(q["question"], q["evidence"]) for q in exported] == [(disliked, [])]


def test_a_citation_number_shows_its_passage_in_the_pane_only(page: Page) -> None:
    ask(page, "Quel est le rôle de l’OTAN dans ce processus ?")
    link = last_bot_message(page).locator("a[href='#passage-1']").first
    expect(link).to_be_visible(timeout=30_000)
    page.locator("#sources label").nth(1).click()  # another passage first
    expect(page.locator("#sources input[value='2']")).to_be_checked()
    scrolled = page.evaluate("() => window.scrollY")
    link.click()
    expect(page.locator("#sources input[value='1']")).to_be_checked()
    expect(page.locator("#briefing-view mark#cited")).to_be_in_viewport(timeout=10_000)
    assert page.evaluate("() => window.scrollY") == scrolled


def test_phone_width_keyboard_only(browser: Browser, server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(server + "/")
    page.wait_for_selector("#question textarea")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
    page.focus("#question textarea")
    page.keyboard.type("Que signifie TAC ?")
    page.keyboard.press("Enter")
    expect(last_bot_message(page)).to_contain_text("Task Assistance Coordination", timeout=30_000)
    context.close()


def test_injected_markup_is_never_executed(page: Page) -> None:
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>[lien](javascript:alert(3)) ![i](x)'
    ask(page, payload)
    expect(last_bot_message(page)).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1000)
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.locator("#chat img[src='x']").count() == 0


@pytest.fixture()
def intranet(engine: Engine, settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The chatbot, and ui/embed-example.html served from a second origin that it allows."""
    intranet_port = free_port()
    intranet_origin = f"http://localhost:{intranet_port}"
    with running(create_app(engine, replace(settings, allowed_origins=(intranet_origin,)))) as chatbot:
        page = (PROJECT_ROOT / "ui" / "embed-example.html").read_text("utf-8")
        (tmp_path / "index.html").write_text(page.replace("http://127.0.0.1:7860", chatbot), "utf-8")
        handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
        httpd = ThreadingHTTPServer(("127.0.0.1", intranet_port), handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield intranet_origin, chatbot
        finally:
            httpd.shutdown()


def test_embedded_in_an_intranet_page(browser: Browser, intranet: tuple[str, str]) -> None:
    intranet_origin, chatbot = intranet
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(intranet_origin + "/index.html")

    # 1. The web component loads the chatbot and answers.
    component = page.locator("gradio-app")
    ask(page, "Que signifie TAC ?", root="gradio-app")
    expect(component.locator("#chat")).to_contain_text("Task Assistance Coordination", timeout=60_000)

    # 2. The page's own JavaScript calls /api/ask across origins.
    page.click("#api-form button")
    expect(page.locator("#api-answer")).to_contain_text("L’OTAN agit comme garant", timeout=30_000)

    # 3. The iframe shows the chatbot (framing is allowed for this origin).
    frame = page.frame_locator("#iframe iframe")
    expect(frame.locator("#question textarea")).to_be_visible(timeout=60_000)

    hosts = {url.split("/")[2] for url in requests if url.startswith("http")}
    assert hosts <= {intranet_origin.split("/")[2], chatbot.split("/")[2]}, hosts
    assert not errors, errors
    context.close()


def test_document_text_is_never_executed(browser: Browser, encoder, tmp_path: Path) -> None:
    """A corpus whose text carries markup and script: shown as text in the chat and the briefing panel."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    hostile = (
        "# Note piégée\n\n"
        "Le budget secret est de <img src=x onerror=\"alert('doc')\"> euros.\n\n"
        "- Un lien [cliquez](javascript:alert('md')) et <script>alert('script')</script> dans une liste.\n"
    )
    (corpus / "piege.md").write_text(hostile, "utf-8")
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "index")
    engine = Engine(settings, encoder=encoder)
    with running(create_app(engine, settings)) as url:
        context = browser.new_context()
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url + "/")
        ask(page, "Quel est le budget secret ?")
        expect(last_bot_message(page)).to_contain_text("onerror", timeout=30_000)  # shown as text
        expect(page.locator("#briefing-view")).to_contain_text("<script>alert('script')</script>")
        page.wait_for_timeout(1000)
        assert dialogs == []
        assert page.locator("#chat img[src='x'], #briefing-view img, #briefing-view script").count() == 0
        context.close()


def test_api_docs_render_from_the_app_alone(browser: Browser, server: str) -> None:
    """/api/docs draws the API from local files: no CDN, no request to another host."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server + "/api/docs")
    expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible(timeout=30_000)
    expect(page.locator(".swagger-ui")).to_contain_text("/api/ask")
    hosts = {url.split("/")[2] for url in requests if url.startswith("http")}
    assert hosts == {server.split("/")[2]}, requests
    assert any("/api/docs-assets/swagger-ui-bundle.js" in url for url in requests)
    context.close()


@pytest.fixture(scope="module")
def many_briefings(encoder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The briefing and the 93 PIAF dev articles, served under a title of the operator's."""
    import shutil

    from tests.conftest import BRIEFING, CORPUS, PIAF

    corpus = tmp_path_factory.mktemp("many-briefings")
    shutil.copy(CORPUS / BRIEFING, corpus / BRIEFING)
    for path in (PIAF / "corpus").glob("*.txt"):
        shutil.copy(path, corpus / path.name)
    index_dir = tmp_path_factory.mktemp("many-index")
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=index_dir, corpus_title="Briefings de l'intranet")
    with running(create_app(Engine(settings, encoder=encoder), settings)) as url:
        yield url


def test_several_briefings_listed_asked_one_at_a_time_and_cited_by_title(browser: Browser, many_briefings: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(many_briefings + "/")
    page.wait_for_selector("#question textarea")
    expect(page.locator("body")).to_contain_text("Briefings de l'intranet")
    picker = page.locator("#documents")
    expect(picker).to_contain_text("94 briefings")
    # The list of briefings: all of them, then each by its title.
    picker.locator("input").click()
    options = page.locator("[role=option]")
    expect(options).to_have_count(95, timeout=10_000)
    # Asked of one article only: every source is that article's, cited by its title.
    picker.locator("input").fill("Sport")
    page.locator("[role=option]", has_text="Sport").first.click()
    ask(page, "Combien de personnes travaillent au ministère des sports ?")
    sources = page.locator("#sources label")
    expect(sources.first).to_contain_text("Sport", timeout=60_000)
    labels = sources.all_inner_texts()
    assert labels and all("] Sport —" in label for label in labels), labels
    context.close()
