"""``briefing-qa perf``: measure speed and memory, and print one table (no timed tests: numbers, reported).

What it measures, each in a fresh process where start-up cost is the point:
- index build of the corpus, by phase (model load, parse and chunk, embed, index, write);
- cold start: process start to first answer (index built), and server start to ready;
- warm ``ask`` in this process over the question file: p50/p95/p99, split by stage;
- the same on a real multi-document corpus (PIAF dev's 93 articles, 300 of its questions), in the same run;
- HTTP: ``/api/ask`` and the Gradio API at 1, 8 and 32 clients, driven by ``qa_eval.load_generator``
  in its own process; peak RSS of the server; index size on disk;
- scale: synthetic corpora (qa_eval.synthetic) of the given sizes: build throughput, query latency,
  recall@10 of the dense index against exact search, RSS.

Probes run as ``python -m qa_eval.perf PROBE ...`` and print one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.settings import Settings

log = logging.getLogger(__name__)

STAGES = ("analyze", "encode", "rank", "fuse", "extract", "total")
DEFAULT_QUESTION = "Qui mène la réunion des conseillers à la sécurité nationale ?"


# --- machine and process facts --------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


_RSS_FIELDS = {"VmRSS": "rss_mb", "VmHWM": "peak_rss_mb", "RssAnon": "anon_mb", "RssFile": "file_mb"}


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """Resident memory of a process in MiB: now, peak, and split into the process's own (anonymous)
    pages and pages of memory-mapped index files (shared with the page cache, reclaimable)."""
    found = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in _RSS_FIELDS:
                found[_RSS_FIELDS[key]] = round(int(value.split()[0]) / 1024, 1)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far; 0 if it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def folder_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    array = np.asarray(values)
    return {f"p{q}": round(float(np.percentile(array, q)), 2) for q in (50, 95, 99)}


def question_texts(path: Path) -> list[str]:
    """The questions of a JSONL question file (evidence is not needed to time them)."""
    from qa_eval.questions import QuestionFileError

    texts = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if line.strip():
            try:
                texts.append(str(json.loads(line)["question"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise QuestionFileError(f"{path}, line {number}: not a question object ({exc})") from None
    if not texts:
        raise QuestionFileError(f"{path}: no question")
    return texts


def _probe(name: str, *args: str) -> dict[str, Any]:
    """Run a probe in a fresh interpreter; returns its JSON and the wall time from spawn to exit."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "qa_eval.perf", name, *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"probe {name} failed: {done.stderr.strip().splitlines()[-1:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(wall, 3)
    return result


def _settings_args(settings: Settings) -> list[str]:
    return ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_dir), "--model", settings.model]


def _copy_encoder_export(settings: Settings, index_dir: Path) -> None:
    """Reuse the ONNX export in a scratch index folder: model load then measures what a restart costs."""
    if settings.encoder_dir.is_dir() and not (index_dir / "encoders").exists():
        shutil.copytree(settings.encoder_dir, index_dir / "encoders")


# --- measurements ---------------------------------------------------------------------------


def measure_build(settings: Settings, scratch: Path) -> dict[str, Any]:
    index_dir = scratch / "build-index"
    _copy_encoder_export(settings, index_dir)
    scratch_settings = replace(settings, index_dir=index_dir)
    return _probe("probe-build", *_settings_args(scratch_settings))


def measure_cold_start(settings: Settings, question: str) -> dict[str, Any]:
    spawned = time.time()
    result = _probe("probe-first-answer", *_settings_args(settings), "--question", question)
    result["start_to_answer_s"] = round(result.pop("answered_at") - spawned, 3)
    return result


def measure_warm(settings: Settings, questions: list[str], rounds: int = 3) -> dict[str, Any]:
    from qa.engine import Engine

    engine = Engine(settings)
    for question in questions:  # warm-up: caches, allocator, ONNX Runtime's first runs
        engine.ask(question)
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(rounds):
        for question in questions:
            timings = engine.ask(question).timings_ms
            for stage in STAGES:
                stages[stage].append(timings[stage])
    return {
        "questions": len(questions) * rounds,
        "encoder": engine.encoder.backend,
        "documents": len(engine.index.documents),
        "chunks": len(engine.index.chunks),
        "stages_ms": {stage: percentiles(values) for stage, values in stages.items()},
    }


MULTI_DOCUMENT_QUESTIONS = 300


def measure_warm_multi(settings: Settings, benchmark: Path, work_dir: Path | None) -> dict[str, Any]:
    """Warm ``ask`` on a real multi-document corpus (PIAF dev: 93 articles), in the same run as the briefing's."""
    index_dir = (work_dir or settings.index_dir / "perf") / "index-multi"
    multi = replace(settings, corpus_dir=(benchmark / "corpus").resolve(), index_dir=index_dir.resolve())
    _copy_encoder_export(settings, index_dir)
    questions = question_texts(benchmark / "questions.jsonl")[:MULTI_DOCUMENT_QUESTIONS]
    return {**measure_warm(multi, questions, rounds=1), "corpus": str(benchmark)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(settings: Settings) -> Iterator[tuple[str, subprocess.Popen[bytes], float]]:
    """Start ``briefing-qa serve`` in its own process; yields (url, process, seconds to ready)."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "qa.cli", "serve", "--port", str(port), *_settings_args(settings)]
    started = time.perf_counter()
    # Settings without a flag (workers, threads, sessions...) reach the server through its environment.
    environment = {**os.environ, **settings.to_env()}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError("the server exited before it was ready")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            if time.perf_counter() - started > 300:
                raise RuntimeError("the server was not ready after 300 s")
            time.sleep(0.05)
        yield url, process, time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def run_load(
    url: str, target: str, clients: int, duration: float, questions_file: Path, new_session_each_time: bool = False
) -> dict[str, Any]:
    """One run of ``qa_eval.load_generator`` in its own process, against a running server; its JSON result."""
    command = [
        sys.executable, "-m", "qa_eval.load_generator", url, "--target", target,
        "--clients", str(clients), "--duration", str(duration), "--questions", str(questions_file),
    ]  # fmt: skip
    if new_session_each_time:
        command.append("--new-session-each-time")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.strip().splitlines()[-1:]}")
    return dict(json.loads(done.stdout))


def measure_http(settings: Settings, questions_file: Path, clients: list[int], duration: float) -> dict[str, Any]:
    with running_server(settings) as (url, process, ready_s):
        start_rss = rss_mb(process.pid)
        runs = []
        for target in ("api", "gradio"):
            for count in clients:
                cpu_before = cpu_seconds(process.pid)
                run = run_load(url, target, count, duration, questions_file)
                # The server's own CPU per answer: what the 2 cores must pay for each answer at load.
                server_cpu = cpu_seconds(process.pid) - cpu_before
                run["server_cpu_ms_per_answer"] = round(1000 * server_cpu / max(run["answers"], 1), 2)
                runs.append(run)
                log.info("perf: %s x%d: %s answers/s", target, count, run["answers_per_s"])
        return {
            "server_ready_s": round(ready_s, 2),
            "runs": runs,
            "rss_start": start_rss,
            "rss_end": rss_mb(process.pid),
        }


def measure_scale(
    settings: Settings, size: int, work_dir: Path, questions: list[str], embed_up_to: int
) -> dict[str, Any]:
    from qa_eval.synthetic import write_corpus

    real_vectors = size <= embed_up_to
    folder = work_dir / f"synthetic-{size}-{'embedded' if real_vectors else 'sentence-means'}"
    corpus = folder / "corpus"
    if not corpus.is_dir():
        log.info("perf: writing a synthetic corpus of %d chunks in %s", size, corpus)
        write_corpus(settings.corpus_dir, corpus, size, recombine=real_vectors)
    index_dir = folder / "index"
    _copy_encoder_export(settings, index_dir)
    scale_settings = replace(settings, corpus_dir=corpus, index_dir=index_dir)
    questions_path = folder / "questions.json"
    questions_path.write_text(json.dumps(questions), "utf-8")
    log.info("perf: scale %d: building (if needed) and querying, in a separate process", size)
    vectors = "real" if real_vectors else "sentence-means"
    args = [*_settings_args(scale_settings), "--questions", str(questions_path), "--vectors", vectors]
    built = _probe("probe-scale-build", *args)  # its own process: build memory is not counted as serving's
    result = _probe("probe-scale", *args)
    result["build_peak_rss_mb"] = built["peak_rss_mb"]
    result["built_now"] = built["built_now"]
    return result


# --- probes (run in a fresh interpreter) ----------------------------------------------------


def probe_build(settings: Settings) -> dict[str, Any]:
    from qa.encode.embedding import encoder_for
    from qa.index import indexing

    started = time.perf_counter()
    exported = not settings.encoder_dir.is_dir()
    encoder = encoder_for(settings)
    model_load = time.perf_counter() - started
    build = indexing.build(settings, encoder, force=True)
    manifest = json.loads((build / indexing.MANIFEST).read_text("utf-8"))
    return {
        "model_load_s": round(model_load, 3),
        "model_exported": exported,
        **manifest["timings"],
        "total_s": round(time.perf_counter() - started, 3),
        "chunks": manifest["counts"]["chunks"],
        "units": manifest["counts"]["units"],
        "index_mb": folder_mb(build),
        "encoder_mb": folder_mb(settings.encoder_dir) if settings.encoder_dir.is_dir() else 0.0,
        **rss_mb(),
    }


def probe_first_answer(settings: Settings, question: str) -> dict[str, Any]:
    started = time.perf_counter()
    from qa.engine import Engine

    imported = time.perf_counter()
    engine = Engine(settings)
    loaded = time.perf_counter()
    reply = engine.ask(question)
    answered_at = time.time()
    return {
        "answered_at": answered_at,
        "import_s": round(imported - started, 3),
        "load_s": round(loaded - imported, 3),
        "first_ask_ms": round((time.perf_counter() - loaded) * 1000, 2),
        "answered": reply.answered,
        "torch_imported": "torch" in sys.modules,
    }


def probe_scale_build(settings: Settings, vectors_from: str) -> dict[str, Any]:
    from qa.encode.embedding import encoder_for
    from qa.index import indexing
    from qa_eval.synthetic import SentenceMeanEncoder

    try:
        indexing.check(settings)
        built_now = False
    except indexing.StaleIndex:
        built_now = True
        encoder = encoder_for(settings)
        indexing.build(settings, encoder if vectors_from == "real" else SentenceMeanEncoder(encoder))
    return {"built_now": built_now, **rss_mb()}


def probe_scale(settings: Settings, questions: list[str]) -> dict[str, Any]:
    import faiss

    from qa.engine import Engine

    engine = Engine(settings)  # the index is built: loading only; questions encoded by the real model
    manifest = engine.index.manifest
    after_load = rss_mb()
    timings = manifest["timings"]
    chunks = manifest["counts"]["chunks"]
    for question in questions[:10]:
        engine.ask(question)
    latencies = [engine.ask(q).timings_ms["total"] for q in questions]
    # recall@10 of the dense index used at this size against exact search over the same vectors.
    from qa.encode.embedding import QUERY

    vectors = engine.encoder.encode(questions, role=QUERY)
    dense = engine.index.dense
    exact = faiss.IndexFlatIP(dense.d)
    exact.add(dense.reconstruct_n(0, dense.ntotal))
    _, truth = exact.search(vectors, 10)
    search_ms, recalls = [], []
    for vector, expected in zip(vectors, truth, strict=True):
        started = time.perf_counter()
        _, found = dense.search(vector.reshape(1, -1), 10)
        search_ms.append((time.perf_counter() - started) * 1000)
        recalls.append(len(set(found[0].tolist()) & set(expected.tolist())) / 10)
    return {
        "chunks": chunks,
        "units": manifest["counts"]["units"],
        "vector_index": manifest["vector_index"],
        "vectors": manifest["model"].get("encoder"),
        "built": manifest["created"],
        "build_s": round(sum(timings.values()), 1),
        "build_timings": timings,
        "chunks_per_s": round(chunks / max(sum(timings.values()), 1e-9), 1),
        "ask_ms": percentiles(latencies),
        "dense_search_ms": percentiles(search_ms),
        "recall@10": round(float(np.mean(recalls)), 4),
        "index_mb": folder_mb(engine.index.path),
        "rss_after_load_mb": after_load.get("rss_mb"),
        **rss_mb(),
    }


# --- the report -----------------------------------------------------------------------------


def run_perf(args: argparse.Namespace, settings: Settings) -> int:
    from qa.encode.embedding import encoder_for
    from qa.index.indexing import open_index

    questions = question_texts(args.questions)
    clients = [int(c) for c in str(args.clients).split(",") if c.strip()]
    scales = [int(s) for s in str(args.scale).split(",") if s.strip()] if args.scale else []
    open_index(settings, encoder_for(settings))  # the served index must exist before the cold-start probes
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="briefing-qa-perf-") as scratch:
        log.info("perf: index build (fresh process)")
        report["build"] = measure_build(settings, Path(scratch))
    log.info("perf: cold start (fresh process)")
    report["cold_start"] = measure_cold_start(settings, questions[0] if questions else DEFAULT_QUESTION)
    log.info("perf: warm ask over %d questions", len(questions))
    report["warm"] = measure_warm(settings, questions)
    if args.multi_document:
        log.info("perf: warm ask on the multi-document corpus of %s", args.multi_document)
        report["warm_multi"] = measure_warm_multi(settings, Path(args.multi_document), args.work_dir)
    if clients:
        log.info("perf: HTTP load, %s clients, %.0f s each", clients, args.duration)
        report["http"] = measure_http(settings, args.questions, clients, args.duration)
    report["index_mb"] = report["build"]["index_mb"]
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="briefing-qa-scale-"))
    report["scale"] = [measure_scale(settings, size, work_dir, questions, args.embed_up_to) for size in scales]
    print(render(report))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")
    return 0


def render(report: dict[str, Any]) -> str:
    rows: list[tuple[str, str]] = []
    b = report["build"]
    rows += [
        ("build: model load" + (" (incl. ONNX export)" if b["model_exported"] else ""), f"{b['model_load_s']:.2f} s"),
        ("build: parse + chunk", f"{b['parse_chunk_s']:.2f} s"),
        ("build: embed", f"{b['embed_s']:.2f} s ({b['chunks']} chunks, {b['units']} units)"),
        ("build: FAISS + lexical index", f"{b['index_s']:.2f} s"),
        ("build: write", f"{b['write_s']:.2f} s"),
        ("build: total in process / process wall", f"{b['total_s']:.2f} s / {b['process_wall_s']:.2f} s"),
    ]
    c = report["cold_start"]
    rows.append(
        (
            "cold start: process start to first answer",
            f"{c['start_to_answer_s']:.2f} s (imports {c['import_s']:.2f} s, load {c['load_s']:.2f} s, "
            f"first ask {c['first_ask_ms']:.0f} ms; torch imported: {c['torch_imported']})",
        )
    )
    w = report["warm"]
    for stage in STAGES:
        p = w["stages_ms"][stage]
        rows.append((f"warm ask: {stage}", f"p50 {p['p50']} ms, p95 {p['p95']} ms, p99 {p['p99']} ms"))
    if "warm_multi" in report:
        m = report["warm_multi"]
        for stage in STAGES:
            p = m["stages_ms"][stage]
            rows.append(
                (
                    f"warm ask on {m['documents']} documents ({m['chunks']} chunks): {stage}",
                    f"p50 {p['p50']} ms, p95 {p['p95']} ms, p99 {p['p99']} ms",
                )
            )
        ratio = m["stages_ms"]["total"]["p50"] / (w["stages_ms"]["total"]["p50"] or 1.0)
        rows.append(("warm ask p50, those documents / the briefing (same run)", f"{ratio:.2f}"))
    if "http" in report:
        h = report["http"]
        rows.append(("server start to ready", f"{h['server_ready_s']:.2f} s"))
        for run in h["runs"]:
            label = "/api/ask" if run["target"] == "api" else "Gradio API"
            rows.append(
                (
                    f"HTTP {label}, {run['clients']} client(s)",
                    f"{run['answers_per_s']} answers/s, p50 {run['p50_ms']} ms, p95 {run['p95_ms']} ms, "
                    f"errors {run['errors']}; server CPU {run['server_cpu_ms_per_answer']} ms an answer; "
                    f"load generator {run['generator']}, its CPU {run['generator_cpu_s']} s in "
                    f"{run['seconds']} s",
                )
            )
        rows.append(
            (
                "server RSS: after start / end (peak)",
                f"{h['rss_start'].get('rss_mb')} MiB / {h['rss_end'].get('rss_mb')} MiB "
                f"({h['rss_end'].get('peak_rss_mb')} MiB)",
            )
        )
    rows.append(("index size on disk (+ ONNX export)", f"{report['index_mb']} MiB (+ {b['encoder_mb']} MiB)"))
    for s in report["scale"]:
        n = s["chunks"]
        rows += [
            (
                f"scale {n}: build" + ("" if s["vectors"] != "sentence-means" else " (vectors: sentence means)"),
                f"{s['build_s']} s, {s['chunks_per_s']} chunks/s ({s['units']} units; embed "
                f"{s['build_timings']['embed_s']:.0f} s, index {s['build_timings']['index_s']:.0f} s; "
                f"built {s['built']})",
            ),
            (
                f"scale {n}: ask",
                f"p50 {s['ask_ms']['p50']} ms, p95 {s['ask_ms']['p95']} ms ({s['vector_index']['type']} index)",
            ),
            (f"scale {n}: dense recall@10 vs exact", f"{s['recall@10']} (search p50 {s['dense_search_ms']['p50']} ms)"),
            (
                f"scale {n}: RSS after load / after the questions",
                f"{s['rss_after_load_mb']} MiB / {s['rss_mb']} MiB (own {s['anon_mb']} MiB + mapped index files "
                f"{s['file_mb']} MiB); build peak "
                + (f"{s['build_peak_rss_mb']} MiB" if s["built_now"] else "not measured (index reused)")
                + f"; index {s['index_mb']} MiB on disk",
            ),
        ]
    lines = [f"Performance, {report['date']}, {report['machine']}", "", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def _probe_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa_eval.perf")
    parser.add_argument("probe", choices=["probe-build", "probe-first-answer", "probe-scale-build", "probe-scale"])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--question", default=DEFAULT_QUESTION)
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--vectors", choices=["real", "sentence-means"], default="real")
    args = parser.parse_args(argv)
    from qa.core.logs import configure

    configure()
    settings = Settings.from_env(corpus_dir=args.corpus, index_dir=args.index_dir, model=args.model)
    if args.probe == "probe-build":
        result = probe_build(settings)
    elif args.probe == "probe-first-answer":
        result = probe_first_answer(settings, args.question)
    elif args.probe == "probe-scale-build":
        result = probe_scale_build(settings, args.vectors)
    else:
        result = probe_scale(settings, json.loads(args.questions.read_text("utf-8")))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_probe_main(sys.argv[1:]))
