"""Faults while serving: a full or read-only disk, a corpus that changes under a running server,
no network at all, and a bounded soak under load. Real mounts, real processes, real sockets."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.routing import Mount

from qa.encode.embedding import Encoder
from qa.engine import Engine
from qa.index import indexing
from qa.settings import Settings
from qa_eval.perf import rss_mb, run_load, running_server
from tests.conftest import QUESTIONS
from tests.live_server import running
from ui.server import create_app

NEW_DOCUMENT = "# Sommet de Reykjavik\n\nLe sommet de Reykjavik sur la flotte fantôme se tiendra le 14 mars.\n"


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A small RAM disk, so 'disk full' and 'read-only' are real (as root, chmod would not stop writes)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(disk: Path) -> None:
    """Take every free byte of the disk."""
    with (disk / "filler").open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


def test_full_disk_keeps_the_served_index_and_recovers(
    small_corpus: Path, tmp_path: Path, encoder: Encoder, caplog
) -> None:
    with tmpfs(tmp_path / "disk", "8m") as disk:
        settings = Settings.from_env({}, corpus_dir=small_corpus, index_dir=disk / "index", reload_every=0)
        engine = Engine(settings, encoder=encoder)
        served = engine.index.path
        _fill(disk)
        (small_corpus / "reykjavik.md").write_text(NEW_DOCUMENT, "utf-8")
        with caplog.at_level(logging.ERROR, logger="qa"):
            assert engine.refresh() is False
        assert "No space left on device" in caplog.text and "still serving" in caplog.text
        assert engine.index.path == served and engine.ask("Qui mène la réunion ?").answered
        # A restart on the full disk serves the previous index too, and says it is out of date.
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="qa"):
            restarted = Engine(settings, encoder=encoder)
        assert restarted.index.path == served and "serving the previous index" in caplog.text
        # Space again, and the corpus touched: the next refresh builds and swaps.
        (disk / "filler").unlink()
        os.utime(small_corpus / "reykjavik.md")
        (small_corpus / "reykjavik.md").write_text(NEW_DOCUMENT + "\n", "utf-8")
        assert engine.refresh() is True and engine.index.path != served
        assert "reykjavik.md" in engine.index.documents
        assert not list((disk / "index").glob(".tmp-*")), "a failed build must not leave partial folders"


def test_read_only_disk_gives_a_clear_error_and_keeps_serving(small_corpus: Path, tmp_path: Path, encoder) -> None:
    with tmpfs(tmp_path / "disk", "8m") as disk:
        settings = Settings.from_env({}, corpus_dir=small_corpus, index_dir=disk / "index", reload_every=0)
        engine = Engine(settings, encoder=encoder)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        (small_corpus / "reykjavik.md").write_text(NEW_DOCUMENT, "utf-8")
        assert engine.refresh() is False and engine.ask("Qui mène la réunion ?").answered
        with pytest.raises(indexing.IndexBuildError, match="Read-only file system"):
            indexing.build(settings, encoder)
        # The command line says it in one line, without a traceback.
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "qa.cli",
                "index",
                "--corpus",
                str(small_corpus),
                "--index-dir",
                str(disk / "index"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert "error: cannot write the index" in done.stderr and "Read-only file system" in done.stderr


def test_running_server_swaps_in_the_new_index_when_the_corpus_changes(
    small_corpus: Path, tmp_path: Path, encoder: Encoder
) -> None:
    settings = Settings.from_env({}, corpus_dir=small_corpus, index_dir=tmp_path / "index", reload_every=0.5)
    engine = Engine(settings, encoder=encoder)
    with running(create_app(engine, settings)) as url:
        before = httpx.get(f"{url}/api/health").json()
        (small_corpus / "reykjavik.md").write_text(NEW_DOCUMENT, "utf-8")
        errors, deadline = 0, time.monotonic() + 120
        while time.monotonic() < deadline:  # questions keep being answered during the rebuild
            reply = httpx.post(f"{url}/api/ask", json={"question": "Qui mène la réunion ?"}, timeout=30)
            errors += reply.status_code != 200
            if httpx.get(f"{url}/api/health").json()["index"] != before["index"]:
                break
            time.sleep(0.2)
        after = httpx.get(f"{url}/api/health").json()
        assert after["index"] != before["index"] and after["documents"] == before["documents"] + 1
        assert errors == 0
        reply = httpx.post(f"{url}/api/ask", json={"question": "Quand se tient le sommet de Reykjavik ?"}).json()
        assert reply["answered"] and reply["answer"][0]["doc"] == "reykjavik.md"
        assert "14 mars" in reply["answer"][0]["text"]


def test_server_answers_with_no_network_at_all(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    """In a network namespace with only a loopback interface: nothing outside is reachable, and
    the app still starts and answers (it never needs the network)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare or ip (iproute2) is not installed")
    if subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        pytest.skip("cannot create a network namespace here (needs root or CAP_SYS_ADMIN)")
    script = textwrap.dedent(f"""
        import json, subprocess, sys, time, httpx, socket
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        try:
            socket.create_connection(("1.1.1.1", 443), timeout=2)
            print("NETWORK REACHABLE"); sys.exit(3)
        except OSError:
            pass
        server = subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--port", "7861",
                                   "--index-dir", {str(settings.index_dir)!r}])
        try:
            for _ in range(600):
                try:
                    if httpx.get("http://127.0.0.1:7861/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            reply = httpx.post("http://127.0.0.1:7861/api/ask", json={{"question": "Où se trouve Chevening House ?"}})
            page = httpx.get("http://127.0.0.1:7861/")
            print(json.dumps({{"answered": reply.json()["answered"], "page": page.status_code}}))
        finally:
            server.terminate()
            server.wait(timeout=20)
    """)
    done = subprocess.run(["unshare", "-n", sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"answered": True, "page": 200}


def test_bad_files_are_named_and_the_other_documents_served(small_corpus: Path, tmp_path: Path, encoder) -> None:
    (small_corpus / "reykjavik.md").write_text(NEW_DOCUMENT, "utf-8")
    (small_corpus / "latin1.txt").write_bytes("Réunion à Londres.".encode("latin-1"))
    (small_corpus / "broken.txt").symlink_to(small_corpus / "gone.txt")
    with (small_corpus / "huge.txt").open("wb") as handle:
        handle.truncate(3_000_000)
    index_dir = tmp_path / "index"
    # The command line builds the index, names each skipped file in one line, and succeeds.
    command = [sys.executable, "-m", "qa.cli", "index", "--corpus", str(small_corpus), "--index-dir", str(index_dir)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env={**os.environ, "BRIEFING_QA_MAX_DOCUMENT_MB": "2"}
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    for name in ("latin1.txt: not UTF-8", "broken.txt: cannot be read", "huge.txt: 3.0 MB, above the limit of 2 MB"):
        assert name in done.stderr
    assert "2 document(s)" in done.stdout
    # The server answers from both good documents and reports the skipped files on /api/health.
    settings = Settings.from_env({}, corpus_dir=small_corpus, index_dir=index_dir, max_document_mb=2, reload_every=0)
    engine = Engine(settings, encoder=encoder)
    with running(create_app(engine, settings)) as url:
        health = httpx.get(f"{url}/api/health").json()
        assert health["documents"] == 2 and len(health["problems"]) == 3, health
        assert {p.split(":")[0] for p in health["problems"]} == {"latin1.txt", "broken.txt", "huge.txt"}
        reply = httpx.post(f"{url}/api/ask", json={"question": "Quand se tiendra le sommet de Reykjavik ?"}).json()
        assert reply["answered"] and reply["answer"][0]["doc"] == "reykjavik.md"
        assert "14 mars" in reply["answer"][0]["text"]


def test_soak_32_clients_no_errors_and_stable_memory(settings: Settings, engine: Engine) -> None:
    """32 concurrent clients on /api/ask, then on the Gradio API, against a server in its own process.

    Every Gradio API call opens a session whose state the server keeps, up to ui_sessions; a small
    cap, filled during warm-up, makes the rest of the run show whether anything else grows."""
    with running_server(replace(settings, ui_sessions=300)) as (url, process, _ready):

        def load(target: str, seconds: int) -> dict:
            return run_load(url, target, 32, seconds, QUESTIONS, new_session_each_time=True)

        load("api", 5)  # warm-up: allocator pools, thread pools, caches
        warm_up = load("gradio", 15)
        assert warm_up["answers"] > 300, warm_up  # the session cap is reached before measuring
        start = rss_mb(process.pid)["rss_mb"]
        runs = [load("api", 60), load("gradio", 60)]
        end = rss_mb(process.pid)["rss_mb"]
        for run in runs:
            assert run["errors"] == 0 and run["answers"] > 100, run
        assert end - start < 30, f"RSS grew from {start} to {end} MiB"
        assert httpx.post(f"{url}/api/ask", json={"question": "Qui mène la réunion ?"}).json()["answered"]


def test_ui_sessions_are_capped(engine: Engine, settings: Settings) -> None:
    """Gradio keeps every session's state; the cap bounds that memory, least recently used first."""
    app = create_app(engine, replace(settings, ui_sessions=5))
    with running(app) as url:
        for number in range(8):
            event = httpx.post(f"{url}/gradio_api/call/ask", json={"data": [f"Question {number} ?"]}).json()
            httpx.get(f"{url}/gradio_api/call/ask/{event['event_id']}")
        gradio_app = next(route.app for route in app.routes if isinstance(route, Mount) and route.path == "")
        assert len(gradio_app.state_holder.session_data) == 5
