"""A real server on localhost: the JSON API, the Gradio API, the page, the security headers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter

from qa.answer.reply import ReplyJSON
from qa.engine import Engine
from qa.settings import Settings
from tests.live_server import free_port, running, wait_healthy
from ui.server import create_app


@pytest.fixture(scope="module")
def server(engine: Engine, settings: Settings) -> Iterator[str]:
    with running(create_app(engine, settings)) as url:
        yield url


def _verbatim(reply: dict, engine: Engine) -> None:
    for item in [*reply["answer"], *reply["passages"]]:
        assert engine.index.documents[item["doc"]][item["start"] : item["end"]] == item["text"]


def test_health(server: str) -> None:
    health = httpx.get(f"{server}/api/health").json()
    assert health["status"] == "ready" and health["chunks"] > 40 and health["documents"] == 1


def test_ask_round_trip(server: str, engine: Engine) -> None:
    response = httpx.post(
        f"{server}/api/ask", json={"question": "Quel est le rôle de l’OTAN dans ce processus ?", "k": 3}
    )
    assert response.status_code == 200
    reply = response.json()
    assert reply["answered"] and reply["answer"][0]["text"].startswith("L’OTAN agit comme garant")
    assert len(reply["passages"]) == 3 and set(reply["timings_ms"]) == {
        "analyze",
        "encode",
        "rank",
        "fuse",
        "extract",
        "total",
    }
    assert "line" in reply["answer"][0]
    # The endpoint serialises the reply itself: it must still be what the schema documents.
    assert TypeAdapter(ReplyJSON).validate_python(reply)["answered"]
    _verbatim(reply, engine)


def test_follow_up_through_the_api(server: str) -> None:
    reply = httpx.post(
        f"{server}/api/ask",
        json={
            "question": "Et la Russie ?",
            "previous": "Qui mène la réunion des conseillers à la sécurité nationale ?",
        },
    ).json()
    assert reply["interpreted_as"].endswith("Et la Russie ?")
    assert "la Russie sera présente" in reply["answer"][0]["text"]


def test_a_conversation_through_the_api_sends_back_what_each_reply_leans_on(server: str) -> None:
    """A client keeps no rule of its own: each reply's ``leans_on`` is the next question's ``previous``."""
    previous, readings = None, []
    for question in (
        "Qui mène la réunion des conseillers à la sécurité nationale ?",
        "Et la Russie ?",
        "Et l'Allemagne ?",  # leans on the first question, as "Et la Russie ?" did
        "Où se tient la réunion ?",  # stands alone
    ):
        reply = httpx.post(f"{server}/api/ask", json={"question": question, "previous": previous}).json()
        readings.append(reply.get("interpreted_as", ""))
        previous = reply["leans_on"]
    first = "Qui mène la réunion des conseillers à la sécurité nationale ?"
    assert readings == ["", f"{first} Et la Russie ?", f"{first} Et l'Allemagne ?", ""]
    assert previous == "Où se tient la réunion ?"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"question": "   "}, 422, "empty"),
        ({}, 422, "question"),
        ({"question": 42}, 422, "question"),
        ({"question": ["a"]}, 422, "question"),
        ({"question": "OTAN ?", "k": 0}, 422, "k"),
        ({"question": "OTAN ?", "k": 10_000}, 422, "k"),
        ({"question": "OTAN ?", "k": "3"}, 422, "k"),
        ({"question": "OTAN ?", "k": -1}, 422, "k"),
    ],
)
def test_bad_requests_get_a_clear_4xx(server: str, body: dict, status: int, fragment: str) -> None:
    response = httpx.post(f"{server}/api/ask", json=body)
    assert response.status_code == status
    assert fragment in json.dumps(response.json()["detail"])


def test_not_json_and_too_large_bodies(server: str) -> None:
    not_json = httpx.post(f"{server}/api/ask", content=b"question=otan", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    bad_utf8 = httpx.post(
        f"{server}/api/ask", content=b'{"question": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert bad_utf8.status_code in (400, 422)
    huge = httpx.post(
        f"{server}/api/ask",
        content=b'{"question": "' + b"a" * 5_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert httpx.get(f"{server}/api/health").status_code == 200  # still serving


def test_openapi_documents_the_api(server: str) -> None:
    schema = httpx.get(f"{server}/api/openapi.json").json()
    assert "post" in schema["paths"]["/api/ask"] and "get" in schema["paths"]["/api/health"]
    ask = schema["components"]["schemas"]["AskRequest"]
    assert set(ask["properties"]) >= {"question", "k"} and ask["required"] == ["question"]


def test_gradio_client_gets_the_same_reply(server: str) -> None:
    from gradio_client import Client

    question = "Qui mène la réunion des conseillers à la sécurité nationale ?"
    client = Client(server + "/", verbose=False)
    via_gradio = client.predict(question, api_name="/ask")
    via_api = httpx.post(f"{server}/api/ask", json={"question": question}).json()
    for reply in (via_gradio, via_api):
        reply.pop("timings_ms")
    assert via_gradio == via_api


def test_chat_event_and_queue_are_bounded_by_the_settings(engine: Engine, settings: Settings) -> None:
    app = create_app(engine, replace(settings, ui_concurrency=3, ui_queue_size=17))
    gradio_app = next(route.app for route in app.routes if getattr(route, "path", None) == "")
    blocks = gradio_app.get_blocks()
    functions = [fn for fn in blocks.fns.values() if fn.api_name == "ask"]
    assert len(functions) == 1 and functions[0].concurrency_limit == 3
    assert blocks._queue.max_size == 17


def test_page_loads_nothing_from_another_host(server: str) -> None:
    page = httpx.get(server + "/").text
    urls = re.findall(r"""(?:src|href)\s*=\s*["'](https?://[^"']+)""", page)
    assert [u for u in urls if not u.startswith(server)] == []
    assert "fonts.googleapis" not in page and "cdn" not in page.lower().replace("cdnjs", "cdn")
    script = httpx.get(server + "/gradio.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


def test_cross_origin_and_framing_are_same_origin_by_default(server: str) -> None:
    response = httpx.post(f"{server}/api/ask", json={"question": "OTAN ?"}, headers={"Origin": "http://localhost:9"})
    assert "access-control-allow-origin" not in response.headers
    preflight = httpx.options(
        f"{server}/api/ask", headers={"Origin": "http://localhost:9", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers.get("access-control-allow-origin") is None
    assert httpx.get(server + "/").headers["content-security-policy"] == "frame-ancestors 'self'"


def test_allowed_origin_is_honoured(engine: Engine, settings: Settings) -> None:
    from dataclasses import replace

    allowed = "http://intranet.example"
    with running(create_app(engine, replace(settings, allowed_origins=(allowed,)))) as url:
        response = httpx.post(f"{url}/api/ask", json={"question": "OTAN ?"}, headers={"Origin": allowed})
        assert response.headers["access-control-allow-origin"] == allowed
        other = httpx.post(f"{url}/api/ask", json={"question": "OTAN ?"}, headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        assert httpx.get(url + "/").headers["content-security-policy"] == f"frame-ancestors 'self' {allowed}"


def test_behind_a_reverse_proxy_prefix(engine: Engine, settings: Settings) -> None:
    proxy = FastAPI()
    proxy.mount("/briefing", create_app(engine, settings, root_path="/briefing"))
    with running(proxy, health_path="/briefing/api/health") as url:
        base = url + "/briefing"
        assert httpx.get(base + "/api/health").json()["status"] == "ready"
        assert httpx.get(base + "/").status_code == 200
        config = httpx.get(base + "/config").json()
        assert config["root"].endswith("/briefing")


def test_serve_command_starts_and_answers(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--port", str(port), "--index-dir", str(settings.index_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url + "/api/health", timeout_s=180)
        reply = httpx.post(url + "/api/ask", json={"question": "Que signifie TAC ?"}, timeout=30).json()
        assert any("Task Assistance Coordination" in p["text"] for p in reply["passages"])
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "Traceback" not in output


@pytest.mark.parametrize(
    "path",
    [
        "/file=/etc/passwd",
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../../../../etc/passwd",
        "/static/../../../../etc/passwd",
        "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/assets/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/gradio_api/file=corpus/../pyproject.toml",
        "/gradio_api/proxy=http://127.0.0.1:9/",
    ],
)
def test_no_file_outside_the_app_can_be_fetched(server: str, path: str) -> None:
    response = httpx.get(server + path)
    assert response.status_code in (400, 403, 404, 405, 422), (path, response.status_code)
    assert "root:" not in response.text and "[project]" not in response.text


def test_optional_authentication(engine: Engine, settings: Settings) -> None:
    from dataclasses import replace

    from gradio_client import Client

    secured = replace(settings, api_token="s3cret-token", ui_user="lecteur", ui_password="mot-de-passe")
    with running(create_app(engine, secured)) as url:
        body = {"question": "Que signifie TAC ?"}
        assert httpx.post(f"{url}/api/ask", json=body).status_code == 401
        assert httpx.post(f"{url}/api/ask", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.post(f"{url}/api/ask", json=body, headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and ok.json()["passages"]
        assert httpx.get(f"{url}/api/health").status_code == 200  # for load balancers
        # The UI and its Gradio API ask for a login.
        assert httpx.get(f"{url}/config").status_code in (401, 403)
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises a plain ValueError here
            Client(url + "/", verbose=False).predict("Que signifie TAC ?", api_name="/ask")
        client = Client(url + "/", auth=("lecteur", "mot-de-passe"), verbose=False)
        assert client.predict("Que signifie TAC ?", api_name="/ask")["passages"]


@pytest.mark.parametrize("feedback", [True, False])
def test_feedback_buttons_and_log_follow_the_setting(engine: Engine, settings: Settings, feedback: bool) -> None:
    """BRIEFING_QA_FEEDBACK=0: no thumbs on the answers, no vote event, no log written."""
    from ui.chat import build_ui

    toggled = Engine(replace(settings, feedback=feedback), encoder=engine.encoder)
    demo = build_ui(toggled)
    chatbots = [block for block in demo.blocks.values() if type(block).__name__ == "Chatbot"]
    assert len(chatbots) == 1
    assert bool(chatbots[0].feedback_options) is feedback
    votes = [f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "vote"]
    assert len(votes) == (1 if feedback else 0)
