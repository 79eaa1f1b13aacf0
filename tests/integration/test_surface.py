"""What the server exposes: only the routes the product uses, bounded queues and folders, slow clients.

Every test talks to a live server on localhost with real requests; the route table is read from
the running app, so a route a later Gradio adds is covered too.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
from starlette.routing import Mount

from qa.engine import Engine
from qa.index import indexing
from qa.settings import Settings
from qa_eval.perf import rss_mb, running_server
from tests.integration.test_faults import _fill, tmpfs
from tests.live_server import running
from ui.guards import allowed
from ui.server import create_app

QUESTION = "Qui mène la réunion ?"
# Served without credentials even when a password and a token are set: the page's own static files
# (the login page needs them), the health check, and the login itself.
PUBLIC = re.compile(
    r"/(?:assets|static|svelte|api/docs-assets)/.*|/favicon\.ico|/robots\.txt|/theme\.css|/gradio_api/theme\.css"
    r"|/gradio\.js|/api/health|/login/?|/logout|/"
)


def route_table(app: object) -> Iterator[tuple[str, str]]:
    """(method, path) of every route of the app, Gradio's included, with path parameters filled in."""

    def walk(routes: list, prefix: str) -> Iterator[tuple[str, set[str]]]:
        for route in routes:
            if type(route).__name__ == "_IncludedRouter":  # FastAPI's included routers
                yield from walk(route.original_router.routes, prefix + (route.include_context.prefix or ""))
            elif isinstance(route, Mount) and hasattr(route.app, "routes"):
                yield from walk(route.app.routes, prefix + route.path)
            elif isinstance(route, Mount):  # a folder of files (Swagger UI's)
                yield prefix + route.path + "/{file}", {"GET"}
            elif hasattr(route, "path"):
                yield prefix + route.path, set(getattr(route, "methods", None) or {"GET"})

    for path, methods in walk(app.routes, ""):  # type: ignore[attr-defined]
        filled = re.sub(r"\{[^}]+\}", "probe", path)
        for method in sorted(methods - {"HEAD"}):
            yield method, filled


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def test_every_route_the_chatbot_does_not_use_is_closed(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    app = create_app(engine, replace(settings, ui_temp_dir=tmp_path / "gradio"))
    table = sorted(set(route_table(app)))
    closed = [(m, p) for m, p in table if not allowed(m, p)]
    assert len(closed) > 40 and ("POST", "/gradio_api/upload") in closed  # the walk sees Gradio's routes
    with running(app) as url:
        answers = {(m, p): httpx.request(m, url + p, timeout=10).status_code for m, p in closed}
        assert {route: status for route, status in answers.items() if status != 404} == {}
        # What is open still works.
        assert httpx.post(f"{url}/api/ask", json={"question": QUESTION}).json()["answered"]
        assert httpx.get(f"{url}/config").status_code == 200


def test_uploads_are_refused_and_write_nothing(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    gradio_dir = tmp_path / "gradio"
    app = create_app(engine, replace(settings, ui_temp_dir=gradio_dir))
    assert os.environ["GRADIO_TEMP_DIR"] == str(gradio_dir) and gradio_dir.is_dir()
    with running(app) as url:
        before = folder_bytes(gradio_dir)
        statuses = Counter(
            httpx.post(f"{url}/gradio_api/upload", files={"files": (f"r{i}.bin", os.urandom(250_000))}).status_code
            for i in range(100)
        )
        assert statuses == {404: 100}
        assert folder_bytes(gradio_dir) == before


def test_with_a_password_and_a_token_nothing_answers_without_them(engine: Engine, settings: Settings) -> None:
    guarded = replace(settings, api_token="s3cret-token", ui_password="s3cret-password")
    app = create_app(engine, guarded)
    table = sorted(set(route_table(app)))
    with running(app) as url:
        answered = {}
        for method, path in table:
            status = httpx.request(method, url + path, timeout=10, follow_redirects=False).status_code
            if status not in (401, 403, 404) and not PUBLIC.fullmatch(path):
                answered[(method, path)] = status
        assert answered == {}
        # The page without a login is the login form, not the chat; with the credentials, all works.
        assert httpx.get(f"{url}/config").status_code == 401
        token = {"Authorization": "Bearer s3cret-token"}
        assert httpx.post(f"{url}/api/ask", json={"question": QUESTION}, headers=token).json()["answered"]
        assert httpx.get(f"{url}/api/openapi.json").status_code == 401


def test_a_queue_flood_is_refused_past_the_bound_and_the_server_stays_well(settings: Settings) -> None:
    """2,000 questions sent to the Gradio API at once, by clients that never read the answers.

    The first flood fills what is bounded (the UI sessions, Gradio's records, the allocator's
    pools); the second one shows whether anything else grows."""
    bounded = replace(settings, ui_queue_size=64, ui_concurrency=4, ui_sessions=100)
    with running_server(bounded) as (url, process, _ready):

        async def flood() -> Counter:
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
            async with httpx.AsyncClient(base_url=url, limits=limits, timeout=300) as client:

                async def join(number: int) -> int:
                    body = {"data": [f"Question {number} : qui mène la réunion ?"]}
                    return (await client.post("/gradio_api/call/ask", json=body)).status_code

                return Counter(await asyncio.gather(*(join(n) for n in range(2000))))

        asyncio.run(flood())
        start = rss_mb(process.pid)["rss_mb"]
        # Meanwhile another client, on its own connection and thread, asks every half second: it is
        # told at once (answered or 503), not queued behind the flood.
        probes: list[tuple[int, float]] = []
        flooding = threading.Event()
        flooding.set()

        def probe() -> None:
            with httpx.Client(base_url=url, timeout=60) as client:
                while flooding.is_set():
                    sent = time.perf_counter()
                    status = client.post("/gradio_api/call/ask", json={"data": [QUESTION]}).status_code
                    probes.append((status, time.perf_counter() - sent))
                    time.sleep(0.5)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            statuses = asyncio.run(flood())
        finally:
            flooding.clear()
            prober.join()
        end = rss_mb(process.pid)["rss_mb"]
        assert set(statuses) == {200, 503}, statuses  # refused past the bound, nothing else
        assert end - start < 50, f"RSS grew from {start} to {end} MiB"
        assert len(probes) > 10 and {status for status, _ in probes} <= {200, 503}, probes
        assert max(seconds for _, seconds in probes) < 5, probes
        started = time.perf_counter()
        assert httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=60).json()["answered"]
        assert time.perf_counter() - started < 5


def _slow_connections(url: str, count: int) -> list[socket.socket]:
    """Connections that send half a request's headers and never finish them."""
    host, port = url.split("//")[1].split(":")
    held = []
    for _ in range(count):
        connection = socket.create_connection((host, int(port)), timeout=10)
        connection.sendall(b"GET /api/health HTTP/1.1\r\nHost: " + host.encode() + b"\r\nX-Slow: ")
        held.append(connection)
    return held


def test_slow_clients_do_not_keep_others_out(settings: Settings) -> None:
    with running_server(replace(settings, max_connections=300)) as (url, _process, _ready):
        held = _slow_connections(url, 200)
        try:
            reply = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=30)
            assert reply.status_code == 200 and reply.json()["answered"]
            # Past the connection bound, a new client is told so at once instead of waiting.
            held += _slow_connections(url, 120)
            assert httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=30).status_code == 503
        finally:
            for connection in held:
                connection.close()
        reply = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=30)
        assert reply.status_code == 200


def test_event_streams_end_with_their_answer_and_idle_connections_count_against_the_bound(settings: Settings) -> None:
    """A question's event stream stays open only while it waits; its connection then idles (kept alive),
    counted against BRIEFING_QA_MAX_CONNECTIONS: past it a new client gets 503 at once, never a hang."""
    with running_server(replace(settings, max_connections=40)) as (url, _process, _ready):
        host, port = url.split("//")[1].split(":")
        with httpx.Client(base_url=url) as client:
            events = [
                client.post("/gradio_api/call/ask", json={"data": [f"{n} : {QUESTION}"]}).json()["event_id"]
                for n in range(30)
            ]
        held = []
        try:
            for event in events:  # streams opened and never read while the answers are computed
                stream = socket.create_connection((host, int(port)), timeout=10)
                stream.sendall(f"GET /gradio_api/call/ask/{event} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                held.append(stream)
            for stream in held:
                received = b""
                while not received.endswith(b"0\r\n\r\n"):  # the chunked stream's end: the answer was sent
                    chunk = stream.recv(65536)
                    assert chunk, "the server closed a stream before its answer"
                    received += chunk
                assert b"process_completed" in received or b'"answered"' in received
            assert httpx.get(f"{url}/api/health").status_code == 200
            for _ in range(15):  # kept-alive connections past the bound
                idle = socket.create_connection((host, int(port)), timeout=10)
                idle.sendall(f"GET /api/health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                held.append(idle)
            started = time.perf_counter()
            assert httpx.get(f"{url}/api/health").status_code == 503
            assert time.perf_counter() - started < 5
        finally:
            for connection in held:
                connection.close()
        time.sleep(0.3)
        assert httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=30).json()["answered"]


def _closed_by_server(connection: socket.socket) -> bool:
    try:
        return connection.recv(1024) == b""
    except (ConnectionResetError, TimeoutError):
        return False


def test_headers_never_finished_are_cut_off_at_the_deadline(settings: Settings) -> None:
    with running_server(replace(settings, max_connections=100, header_timeout=1.0)) as (url, _process, _ready):
        # More slow clients than the server takes connections: without the deadline they would keep
        # everyone out for as long as they like.
        held = _slow_connections(url, 150)
        try:
            time.sleep(2.5)
            for connection in held:
                connection.settimeout(5)
            assert all(_closed_by_server(c) for c in held)
            host, port = url.split("//")[1].split(":")
            with socket.create_connection((host, int(port)), timeout=10) as patient:
                # Headers sent in two halves within the deadline: answered as usual.
                patient.sendall(b"GET /api/health HTTP/1.1\r\nHost: " + host.encode() + b"\r\n")
                time.sleep(0.3)
                patient.sendall(b"Connection: close\r\n\r\n")
                assert patient.recv(1024).startswith(b"HTTP/1.1 200")
            assert httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=30).json()["answered"]
        finally:
            for connection in held:
                connection.close()


def test_a_full_disk_under_gradio_s_folder_loses_nothing(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "gradio-disk", "2m") as disk:
        app = create_app(engine, replace(settings, ui_temp_dir=disk / "gradio"))
        with running(app) as url:
            from gradio_client import Client

            _fill(disk)
            assert Client(url, verbose=False).predict(QUESTION, api_name="/ask")["answered"]
            assert httpx.post(f"{url}/api/ask", json={"question": QUESTION}).json()["answered"]
        assert indexing.check(settings) == engine.index.path  # the index is whole and current
