"""Run the real ASGI app under uvicorn on a free localhost port, in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from qa_eval.perf import free_port


def wait_healthy(health_url: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(health_url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer {health_url} within {timeout_s} s")


@contextmanager
def running(app: Any, host: str = "127.0.0.1", health_path: str = "/api/health") -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://{host}:{port}"
    wait_healthy(url + health_path)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
