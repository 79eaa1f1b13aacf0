"""A closed-loop HTTP load generator, run as its own process so it never shares the server's interpreter.

``python -m qa_eval.load_generator URL --target api|gradio --clients N --duration S --questions FILE``
prints one JSON object: requests, errors, answers/s, latency percentiles, and the generator's
own CPU time (it runs on the same machine as the server, so its cost is reported, not hidden).

Each of N clients sends a question, waits for the whole reply, and sends the next one:
- ``api``: ``POST /api/ask``;
- ``gradio``: the Gradio API as its clients use it: ``POST /gradio_api/call/ask`` for an event
  id, then ``GET /gradio_api/call/ask/{id}`` until the ``complete`` event (server-sent events).
  Each client keeps one session, as a browser tab or a gradio_client does; with
  ``--new-session-each-time`` every call opens a new one (the worst case for server memory).

``--tool``: ``python`` is this module's asyncio client (httpx); ``wrk`` drives ``/api/ask`` with
wrk (C, epoll; ``qa/wrk_ask.lua``), which costs the shared cores about a tenth of the Python
client's CPU and adds well under a millisecond to the latencies; ``auto`` (default) takes wrk for the
API when it is installed. The Gradio API's two-step protocol is always driven by the Python client.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np


async def _ask_api(client: httpx.AsyncClient, url: str, question: str, session: str | None) -> bool:
    response = await client.post(f"{url}/api/ask", json={"question": question})
    return response.status_code == 200 and "passages" in response.json()


async def _ask_gradio(client: httpx.AsyncClient, url: str, question: str, session: str | None) -> bool:
    body: dict[str, Any] = {"data": [question]}
    if session:
        body["session_hash"] = session
    response = await client.post(f"{url}/gradio_api/call/ask", json=body)
    if response.status_code != 200:
        return False
    event_id = response.json()["event_id"]
    async with client.stream("GET", f"{url}/gradio_api/call/ask/{event_id}") as stream:
        event = ""
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return event == "complete" and "passages" in line
    return False


def _cpu_seconds_between(before: resource.struct_rusage, after: resource.struct_rusage) -> float:
    """User + system CPU seconds used between two getrusage readings."""
    return round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2)


async def _run(
    url: str, target: str, clients: int, duration: float, questions: list[str], new_session_each_time: bool = False
) -> dict[str, Any]:
    ask = _ask_api if target == "api" else _ask_gradio
    latencies: list[float] = []
    errors: list[str] = []
    cycle = itertools.cycle(questions)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
        deadline = time.perf_counter() + duration

        async def one_client() -> None:
            session = None if new_session_each_time else uuid.uuid4().hex[:11]
            while time.perf_counter() < deadline:
                question = next(cycle)
                started = time.perf_counter()
                try:
                    if await ask(client, url, question, session):
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors.append("bad reply")
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    errors.append(type(exc).__name__)

        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        wall_started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        wall = time.perf_counter() - wall_started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    ms = np.array(latencies) * 1000 if latencies else np.zeros(1)
    return {
        "target": target,
        "generator": "python",
        "clients": clients,
        "seconds": round(wall, 2),
        "answers": len(latencies),
        "errors": len(errors),
        "error_kinds": dict(Counter(errors)),
        "answers_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "generator_cpu_s": _cpu_seconds_between(cpu_before, cpu_after),
    }


WRK_SCRIPT = Path(__file__).with_name("wrk_ask.lua")


def _run_wrk(url: str, clients: int, duration: float, questions: list[str]) -> dict[str, Any]:
    """One wrk run against ``POST /api/ask``, in the same result shape as the Python client's."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as bodies:
        bodies.writelines(json.dumps({"question": q}) + "\n" for q in questions)
    command = [
        "wrk", "-t1", f"-c{clients}", f"-d{max(1, round(duration))}s", "--timeout", "60s",
        "-s", str(WRK_SCRIPT), url, "--", bodies.name,
    ]  # fmt: skip
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        Path(bodies.name).unlink()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"wrk failed: {done.stderr.strip()[-500:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    errors = {
        kind: result[key]
        for kind, key in (("bad reply", "bad_replies"), ("connect", "connect"), ("read", "read"),
                          ("write", "write"), ("timeout", "timeout"))
        if result[key]
    }  # fmt: skip
    answers = result["requests"] - result["bad_replies"]
    return {
        "target": "api",
        "generator": "wrk",
        "clients": clients,
        "seconds": round(result["seconds"], 2),
        "answers": answers,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "answers_per_s": round(answers / result["seconds"], 1),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p95_ms": round(result["p95_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "generator_cpu_s": _cpu_seconds_between(cpu_before, cpu_after),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa_eval.load_generator", description=__doc__.split("\n")[0])
    parser.add_argument("url", help="base URL of the running app, e.g. http://127.0.0.1:7860")
    parser.add_argument("--target", choices=["api", "gradio"], default="api")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("--questions", type=Path, required=True, help="JSONL file with a 'question' per line")
    parser.add_argument(
        "--new-session-each-time", action="store_true", help="gradio: open a new session for every call"
    )
    parser.add_argument(
        "--tool", choices=["auto", "wrk", "python"], default="auto", help="auto: wrk for the API if installed"
    )
    args = parser.parse_args(argv)
    questions = [
        json.loads(line)["question"] for line in args.questions.read_text("utf-8").splitlines() if line.strip()
    ]
    url = args.url.rstrip("/")
    use_wrk = args.target == "api" and (args.tool == "wrk" or (args.tool == "auto" and shutil.which("wrk")))
    if args.tool == "wrk" and args.target != "api":
        parser.error("wrk drives the API only; the Gradio API needs --tool python")
    if args.tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (Debian: apt-get install wrk); --tool python needs nothing")
    if use_wrk:
        result = _run_wrk(url, args.clients, args.duration, questions)
    else:
        result = asyncio.run(_run(url, args.target, args.clients, args.duration, questions, args.new_session_each_time))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
