"""The performance script and its parts (synthetic corpora, the load generator), run for real but small.

No timing is asserted: speed targets live in the report, not in tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from qa.ingest.chunking import chunk_documents
from qa.ingest.reader import read_corpus
from qa.settings import Settings
from qa_eval.synthetic import write_corpus
from tests.conftest import BRIEFING, CORPUS, QUESTIONS


def test_synthetic_corpus_has_the_chunks_asked_for_and_new_sentences(tmp_path: Path) -> None:
    assert write_corpus(CORPUS, tmp_path / "a", 1234, seed=1) == 1234
    documents, problems = read_corpus(tmp_path / "a")
    chunks = chunk_documents(documents, Settings().chunk_size)
    assert problems == [] and len(chunks) == 1234 and {c.kind for c in chunks} == {"paragraph"}
    source = (CORPUS / BRIEFING).read_text("utf-8")
    units = [c.text[u.start - c.start : u.end - c.start] for c in chunks for u in c.units]
    assert sum(u not in source for u in units) / len(units) > 0.9  # recombined, not copied
    # The same seed writes the same corpus: runs are comparable.
    write_corpus(CORPUS, tmp_path / "b", 1234, seed=1)
    assert (tmp_path / "a" / "synthetic-00000.txt").read_text() == (tmp_path / "b" / "synthetic-00000.txt").read_text()


def test_perf_reports_every_measure(settings: Settings, engine, tmp_path: Path) -> None:  # engine: index built
    out = tmp_path / "perf.json"
    command = [
        sys.executable, "-m", "qa.cli", "perf", "--index-dir", str(settings.index_dir), "--questions", str(QUESTIONS),
        "--clients", "1,4", "--duration", "2", "--scale", "150", "--work-dir", str(tmp_path / "scale"),
        "--json", str(out),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| warm ask: encode |" in done.stdout and "| scale 150: dense recall@10 vs exact |" in done.stdout
    report = json.loads(out.read_text("utf-8"))
    assert report["machine"] and report["date"]
    build = report["build"]
    assert build["chunks"] == len(engine.index.chunks) and build["embed_s"] > 0 and build["model_exported"] is False
    assert report["cold_start"]["answered"] and report["cold_start"]["torch_imported"] is False
    stages = report["warm"]["stages_ms"]
    assert report["warm"]["encoder"] == "onnx-int8" and stages["encode"]["p50"] > 0
    assert stages["total"]["p50"] >= stages["encode"]["p50"]
    multi = report["warm_multi"]  # PIAF dev's articles, measured in the same run
    assert multi["documents"] == 93 and multi["questions"] == 300 and multi["stages_ms"]["total"]["p50"] > 0
    assert "| warm ask p50, those documents / the briefing (same run) |" in done.stdout
    runs = report["http"]["runs"]
    assert {(r["target"], r["clients"]) for r in runs} == {("api", 1), ("api", 4), ("gradio", 1), ("gradio", 4)}
    for run in runs:
        assert run["answers"] > 0 and run["errors"] == 0, run
        assert run["server_cpu_ms_per_answer"] > 0
        # The API is driven by wrk where it is installed (CI installs it), the Gradio API by the Python client.
        assert run["generator"] == ("wrk" if run["target"] == "api" and shutil.which("wrk") else "python"), run
    assert report["http"]["rss_end"]["peak_rss_mb"] > 0
    assert "load generator wrk" in done.stdout or not shutil.which("wrk")
    (scale,) = report["scale"]
    assert scale["chunks"] == 150 and scale["vector_index"]["type"] == "flat" and scale["recall@10"] == 1.0
    assert scale["ask_ms"]["p50"] > 0 and scale["rss_mb"] > 0


def test_load_generator_python_client_and_clear_errors(settings: Settings, engine) -> None:  # engine: index built
    """The Python client drives the API too (the fallback without wrk); a wrong request is one clear line."""
    from qa_eval.perf import run_load, running_server

    with running_server(settings) as (url, _process, _ready):
        command = [sys.executable, "-m", "qa_eval.load_generator", url, "--tool", "python", "--clients", "2",
                   "--duration", "1", "--questions", str(QUESTIONS)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        result = json.loads(done.stdout)
        assert result["generator"] == "python" and result["answers"] > 0 and result["errors"] == 0
        if shutil.which("wrk"):
            run = run_load(url, "api", 2, 1, QUESTIONS)
            assert run["generator"] == "wrk" and run["answers"] > 0 and run["errors"] == 0
    wrong = [sys.executable, "-m", "qa_eval.load_generator", "http://127.0.0.1:9", "--target", "gradio",
             "--tool", "wrk", "--questions", str(QUESTIONS)]  # fmt: skip
    done = subprocess.run(wrong, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "wrk drives the API only" in done.stderr
