"""Briefings as intranets have them: the briefing as a web page, a Word file and a PDF answers as the text does."""

from __future__ import annotations

import html
import io
import itertools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qa.answer.reply import to_json
from qa.core.model import Document, Kind
from qa.encode.embedding import Encoder
from qa.engine import Engine
from qa.ingest import formats
from qa.ingest.reader import read_corpus, read_text
from qa.settings import Settings
from tests.conftest import BRIEFING, CORPUS, PIAF, QUESTIONS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip
# The page around the article: none of it may reach a passage.
CHROME = ("Accueil", "Rubrique Monde", "Nous utilisons des cookies", "Accepter les cookies", "Partager sur",
          "Tous droits réservés", "Mentions légales", "Abonnez-vous")  # fmt: skip


def _runs(doc: Document) -> list[list]:
    """The briefing's elements, a list or a table as one run."""
    runs: list[list] = []
    grouped = (Kind.BULLET, Kind.TABLE_ROW, Kind.TABLE_HEADER)
    for element in doc.elements:
        if runs and element.kind in grouped and runs[-1][0].kind in grouped and runs[-1][0].group == element.group:
            runs[-1].append(element)
        else:
            runs.append([element])
    return runs


def article_html(doc: Document, faq_headings: bool = False) -> str:
    """The article's HTML; with faq_headings, each FAQ question is a heading (<h3>), as web pages set them."""
    parts = []
    for run in _runs(doc):
        first, text = run[0], [html.escape(e.text) for e in run]
        if first.kind == Kind.TITLE:
            parts.append(f"<h1>{text[0]}</h1>")
        elif first.kind == Kind.HEADING:
            parts.append(f"<h2>{text[0]}</h2>")
        elif first.kind == Kind.FAQ_QUESTION and faq_headings:
            parts.append(f"<h3>{text[0]}</h3>")
        elif first.kind == Kind.BULLET:
            parts.append("<ul>" + "".join(f"<li>{t}</li>" for t in text) + "</ul>")
        elif first.kind in (Kind.TABLE_HEADER, Kind.TABLE_ROW):
            tags = ["th" if e.kind == Kind.TABLE_HEADER else "td" for e in run]
            cells = [f"<{tag}>{t}</{tag}>" for tag, t in zip(tags, text, strict=True)]
            parts.append("<table>" + "".join(f"<tr>{c}</tr>" for c in cells) + "</table>")
        else:
            parts.append(f"<p>{text[0]}</p>")
    return "<article>" + "\n".join(parts) + "</article>"


def web_page(doc: Document, faq_headings: bool = False) -> str:
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>{html.escape(doc.title)} | Le Journal</title></head><body>
<header><nav><a href="/">Accueil</a> <a href="/monde">Rubrique Monde</a> <a href="/abo">Abonnez-vous</a></nav></header>
<div id="cookie-banner" class="cookie-consent">Nous utilisons des cookies pour mesurer l'audience.
<button>Accepter les cookies</button></div>
<main>{article_html(doc, faq_headings)}
<div class="share"><a>Partager sur Facebook</a> <a>Partager sur X</a></div></main>
<footer><p>© 2025 Le Journal. Tous droits réservés. Mentions légales.</p></footer></body></html>"""


def word_file(doc: Document, path: Path, faq_headings: bool = False) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = doc.title
    for run in _runs(doc):
        first = run[0]
        if first.kind == Kind.TITLE:
            document.add_heading(first.text, 0)
        elif first.kind == Kind.HEADING:
            document.add_heading(first.text, 1)
        elif first.kind == Kind.FAQ_QUESTION and faq_headings:
            document.add_heading(first.text, 2)
        elif first.kind == Kind.BULLET:
            for element in run:
                document.add_paragraph(element.text, style="List Bullet")
        elif first.kind in (Kind.TABLE_HEADER, Kind.TABLE_ROW):
            table = document.add_table(rows=len(run), cols=1)
            for row, element in zip(table.rows, run, strict=True):
                row.cells[0].text = element.text
        else:
            document.add_paragraph(first.text)
    document.save(path)


def pdf_file(doc: Document, path: Path, work: Path, faq_headings: bool = False) -> None:
    """The article printed by Chromium, as a PDF export of the briefing would be."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("BRIEFING_QA_REQUIRE_BROWSER"):
            raise RuntimeError(f"Chromium is required here but not found at {CHROMIUM}")
        pytest.skip("Chromium not installed: the PDF is printed with it")
    page = work / "article.html"
    page.write_text(f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"></head><body>'
                    f"{article_html(doc, faq_headings)}</body></html>", "utf-8")  # fmt: skip
    command = [CHROMIUM, *CHROMIUM_ARGS, f"--print-to-pdf={path}", "--no-pdf-header-footer", page.as_uri()]
    subprocess.run(command, capture_output=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def briefing_doc() -> Document:
    return read_text(BRIEFING, (CORPUS / BRIEFING).read_text("utf-8"))


@pytest.fixture(scope="module")
def versions(briefing_doc: Document, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One corpus folder per version of the briefing: text, web page, Word, PDF."""
    root = tmp_path_factory.mktemp("versions")
    folders = {name: root / name for name in ("txt", "html", "docx", "pdf")}
    for folder in folders.values():
        folder.mkdir()
    shutil.copy(CORPUS / BRIEFING, folders["txt"] / BRIEFING)
    (folders["html"] / "chevening-briefing.html").write_text(web_page(briefing_doc), "utf-8")
    word_file(briefing_doc, folders["docx"] / "chevening-briefing.docx")
    pdf_file(briefing_doc, folders["pdf"] / "chevening-briefing.pdf", root)
    return folders


@pytest.fixture(scope="module")
def engines(versions: dict[str, Path], encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> dict:
    index_root = tmp_path_factory.mktemp("version-indexes")
    return {
        name: Engine(Settings.from_env({}, corpus_dir=folder, index_dir=index_root / name), encoder=encoder)
        for name, folder in versions.items()
    }


MAX_DIFFERING = 2


def _answers(engine: Engine, questions: list[str]) -> list[tuple[bool, tuple[str, ...]]]:
    # Up to whitespace and table-cell bars: a converted table keeps its cells apart with "|".
    def norm(text: str) -> str:
        return " ".join(text.replace("|", " ").split())

    replies = [to_json(engine.ask(q)) for q in questions]
    return [(r["answered"], tuple(norm(e["text"]) for e in r["answer"])) for r in replies]


def _questions() -> list[str]:
    return [json.loads(line)["question"] for line in QUESTIONS.read_text("utf-8").splitlines() if line.strip()]


def test_web_page_word_file_and_pdf_answer_as_the_text_does(engines: dict) -> None:
    """A PDF's text layer has neither paragraphs nor list markers nor table cells: they are rebuilt
    from its lines' positions and font sizes (80 of the 91 questions alike before they were). With
    multilingual-e5, a table row read with its cell bars (web page, Word) is encoded a little apart
    from the same row in plain text: at most MAX_DIFFERING of the 91 tuning questions may differ."""
    questions = _questions()
    text = _answers(engines["txt"], questions)
    for name in ("html", "docx", "pdf"):
        answers = _answers(engines[name], questions)
        differ = [q for q, a, b in zip(questions, answers, text, strict=True) if a != b]
        assert len(differ) <= MAX_DIFFERING, f"{name}: {len(differ)} of {len(questions)} differ: {differ[:3]}"


@pytest.fixture(scope="module")
def faq_headed(briefing_doc: Document, encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The briefing with its FAQ questions set as headings: a web page, a Word file, and that page printed to PDF."""
    root = tmp_path_factory.mktemp("faq-headed")
    folders = {name: root / name for name in ("html", "docx", "pdf")}
    for folder in folders.values():
        folder.mkdir()
    (folders["html"] / "briefing.html").write_text(web_page(briefing_doc, faq_headings=True), "utf-8")
    word_file(briefing_doc, folders["docx"] / "briefing.docx", faq_headings=True)
    pdf_file(briefing_doc, folders["pdf"] / "briefing.pdf", root, faq_headings=True)
    return {
        name: Engine(Settings.from_env({}, corpus_dir=folder, index_dir=root / f"{name}-index"), encoder=encoder)
        for name, folder in folders.items()
    }


def test_an_faq_question_set_as_a_heading_is_answered_by_its_own_answer_in_every_format(
    briefing_doc: Document, faq_headed: dict
) -> None:
    """Web pages, Word and PDF files set an FAQ's questions as headings: each heading and the answer
    under it stay one FAQ pair, and asking the question gives that answer first, in every format."""
    pairs = [
        (question.text, answer.text)
        for question, answer in itertools.pairwise(briefing_doc.elements)
        if question.kind == Kind.FAQ_QUESTION and answer.kind == Kind.FAQ_ANSWER
    ]
    assert len(pairs) >= 5
    for name, engine in faq_headed.items():
        faq_chunks = [chunk for chunk in engine.index.chunks if chunk.kind == "faq"]
        assert len(faq_chunks) == len(pairs), name
        for question, answer in pairs:
            reply = to_json(engine.ask(question))
            assert reply["answered"], (name, question)
            first = " ".join(reply["answer"][0]["text"].split())
            assert first == " ".join(answer.split()), (name, question, first[:80])


def test_pdf_headings_are_read_from_font_sizes(engines: dict) -> None:
    """The text layer has no headings: the lines printed larger than the body are, so every section
    of the text version is a section of the PDF's passages too (its citations name them)."""
    text_sections = {chunk.section for chunk in engines["txt"].index.chunks}
    pdf_sections = {chunk.section for chunk in engines["pdf"].index.chunks}
    assert len(text_sections) > 10 and text_sections <= pdf_sections
    pdf_text = engines["pdf"].index.documents["chevening-briefing.pdf"]
    # The title, printed on three lines, is one heading again.
    assert pdf_text.startswith("# Le Royaume-Uni et les États-Unis réunissent des conseillers en sécurité nationale")


def test_none_of_the_page_s_chrome_reaches_a_passage(engines: dict) -> None:
    index = engines["html"].index
    texts = [chunk.index_text for chunk in index.chunks] + list(index.documents.values())
    assert not [phrase for phrase in CHROME if any(phrase in text for text in texts)]
    assert index.catalogue["chevening-briefing.html"]["format"] == "html"


def test_pdf_citations_carry_their_page(engines: dict) -> None:
    engine = engines["pdf"]
    doc = "chevening-briefing.pdf"
    pages = engine.index.catalogue[doc]["pages"]
    assert len(pages) >= 3
    reply = to_json(engine.ask("Quel rôle jouent la CIA et le MI6 dans les décisions ?"))
    text = engine.index.documents[doc]
    for item in [*reply["answer"], *reply["passages"]]:
        assert text[item["start"] : item["end"]] == item["text"]
        page = item["page"]
        assert pages[page - 1] <= item["start"] and (page == len(pages) or item["start"] < pages[page])
    assert any(p["page"] > 1 for p in reply["passages"])


def test_conversion_is_deterministic(versions: dict[str, Path]) -> None:
    for name in ("html", "docx", "pdf"):
        path = next(versions[name].iterdir())
        data = path.read_bytes()
        kind = formats.detect(data, path.suffix)
        assert kind == name
        assert formats.convert(data, kind, 0).text == formats.convert(data, kind, 0).text


def test_the_type_comes_from_the_content(briefing_doc: Document, tmp_path: Path) -> None:
    (tmp_path / "saved-page.txt").write_text(web_page(briefing_doc), "utf-8")  # a web page saved as .txt
    documents, problems = read_corpus(tmp_path)
    assert problems == [] and documents[0].format == "html"
    assert not any(phrase in documents[0].text for phrase in CHROME)
    assert documents[0].title == briefing_doc.title and documents[0].language == "fr"


def test_files_that_cannot_be_read_are_skipped_with_the_reason(briefing_doc: Document, tmp_path: Path) -> None:
    from pypdf import PdfWriter

    shutil.copy(CORPUS / BRIEFING, tmp_path / BRIEFING)
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with (tmp_path / "scanned.pdf").open("wb") as handle:
        writer.write(handle)
    writer.encrypt("secret")
    with (tmp_path / "locked.pdf").open("wb") as handle:
        writer.write(handle)
    word = io.BytesIO()
    word_file(briefing_doc, tmp_path / "whole.docx")
    word.write((tmp_path / "whole.docx").read_bytes()[:2000])
    (tmp_path / "whole.docx").unlink()
    (tmp_path / "broken.docx").write_bytes(word.getvalue())  # cut short: a corrupt archive
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)))
    documents, problems = read_corpus(tmp_path)
    assert [d.path for d in documents] == [BRIEFING]
    reasons = {problem.split(":")[0]: problem for problem in problems}
    assert set(reasons) == {"scanned.pdf", "locked.pdf", "broken.docx", "binary.txt"}
    assert "without a text layer" in reasons["scanned.pdf"] and "encrypted" in reasons["locked.pdf"]
    assert re.search(r"not a text, web page, PDF or Word file|not a readable Word file", reasons["broken.docx"])
    assert "binary.txt" in reasons and all(problem.endswith("skipped") for problem in problems)


@pytest.fixture(scope="module")
def several(encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The briefing and five PIAF articles: a corpus of several briefings."""
    corpus = tmp_path_factory.mktemp("several")
    shutil.copy(CORPUS / BRIEFING, corpus / BRIEFING)
    for path in sorted((PIAF / "corpus").iterdir())[:5]:
        shutil.copy(path, corpus / path.name)
    index_dir = tmp_path_factory.mktemp("several-index")
    return Engine(Settings.from_env({}, corpus_dir=corpus, index_dir=index_dir), encoder=encoder)


def test_the_api_lists_the_documents_and_serves_the_text_citations_point_into(several: Engine) -> None:
    import httpx

    from tests.live_server import running
    from ui.server import create_app

    with running(create_app(several, several.settings)) as url:
        listed = httpx.get(f"{url}/api/documents").json()
        assert len(listed) == 6 and {d["format"] for d in listed} == {"text"}
        briefing = next(d for d in listed if d["id"] == BRIEFING)
        assert briefing["title"].startswith("Le Royaume-Uni et les États-Unis") and briefing["language"] == "fr"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", briefing["date"]) and briefing["pages"] == 0
        other = next(d for d in listed if d["id"] != BRIEFING)
        # Asked of one document only: every passage is from it.
        body = {"question": "Qui mène la réunion ?", "k": 5, "documents": [other["id"]]}
        reply = httpx.post(f"{url}/api/ask", json=body).json()
        assert reply["passages"] and {p["doc"] for p in reply["passages"]} == {other["id"]}
        reply = httpx.post(f"{url}/api/ask", json={"question": "Qui mène la réunion ?"}).json()
        text = httpx.get(f"{url}/api/documents/{reply['passages'][0]['doc']}/text").text
        for item in [*reply["answer"], *reply["passages"]]:
            if item["doc"] == reply["passages"][0]["doc"]:
                assert text[item["start"] : item["end"]] == item["text"]
        refused = httpx.post(f"{url}/api/ask", json={**body, "documents": ["nowhere.txt"]})
        assert refused.status_code == 422 and "unknown document: nowhere.txt" in refused.text
        assert httpx.get(f"{url}/api/documents/nowhere.txt/text").status_code == 404
