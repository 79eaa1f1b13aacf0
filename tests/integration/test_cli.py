"""End-to-end: the installed ``briefing-qa`` command, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from qa.settings import Settings
from tests.conftest import CORPUS, QUESTIONS

BIN = [sys.executable, "-m", "qa.cli"]


def run(*args: str, stdin: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BIN, *args], input=stdin, capture_output=True, text=True, timeout=timeout)


def test_ask_prints_a_cited_answer(settings: Settings, engine) -> None:  # engine: index already built
    result = run(
        "ask", "Dans quel comté se trouve Chevening House ?", "--index-dir", str(settings.index_dir), "-k", "3"
    )
    assert result.returncode == 0, result.stderr
    assert "Answer" in result.stdout and "[1]" in result.stdout
    assert "chevening-briefing.fr.txt" in result.stdout and "line" in result.stdout
    assert "Traceback" not in result.stderr


def test_ask_json_from_stdin_one_reply_per_line(settings: Settings, engine) -> None:
    questions = (
        "Qui mène la réunion des conseillers à la sécurité nationale ?\n\nQuelle est la recette de la tarte Tatin ?\n"
    )
    result = run("ask", "--json", "-", "--index-dir", str(settings.index_dir), stdin=questions)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["answered"] for r in replies] == [True, False]
    source = (CORPUS / "chevening-briefing.fr.txt").read_text("utf-8")
    for reply in replies:
        for item in [*reply["answer"], *reply["passages"]]:
            assert source[item["start"] : item["end"]] == item["text"]


def test_ask_a_conversation_from_stdin(settings: Settings, engine) -> None:
    first = "Qui mène la réunion des conseillers à la sécurité nationale ?"
    questions = f"{first}\nEt la Russie ?\nOù se tient la réunion ?\n"
    index = ["--index-dir", str(settings.index_dir)]
    result = run("ask", "--json", "--conversation", "-", *index, stdin=questions)
    assert result.returncode == 0, result.stderr
    readings = [json.loads(line).get("interpreted_as", "") for line in result.stdout.splitlines()]
    assert readings == ["", f"{first} Et la Russie ?", ""]
    # Without --conversation each line stands alone; --previous reads one question after another.
    alone = run("ask", "--json", "-", *index, stdin=questions)
    assert all("interpreted_as" not in json.loads(line) for line in alone.stdout.splitlines())
    follow_up = run("ask", "--json", "Et la Russie ?", "--previous", first, *index)
    assert json.loads(follow_up.stdout)["interpreted_as"] == f"{first} Et la Russie ?"


def test_errors_are_one_clean_line(settings: Settings, tmp_path: Path, engine) -> None:
    cases = [
        (["ask", "   ", "--index-dir", str(settings.index_dir)], "the question is empty"),
        (["ask", "OTAN ?", "-k", "50", "--index-dir", str(settings.index_dir)], "k must be"),
        (["ask", "OTAN ?", "--corpus", str(tmp_path / "missing")], "corpus folder not found"),
        (["ask", "OTAN ?", "--corpus", str(tmp_path), "--index-dir", str(tmp_path / "i")], "no readable"),
        (
            ["ask", "OTAN ?", "--model", str(tmp_path / "no-model"), "--index-dir", str(tmp_path / "i")],
            "cannot load embedding model",
        ),
        (["bench", str(tmp_path / "none.jsonl"), "--index-dir", str(settings.index_dir)], "cannot be read"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr, result.stderr
        error_lines = [line for line in result.stderr.splitlines() if "error:" in line]
        assert len(error_lines) == 1 and message in error_lines[0], result.stderr


def test_usage_errors_exit_2() -> None:
    result = run("ask")
    assert result.returncode == 2 and "usage" in result.stderr


def test_bench_reports_metrics_and_exports(settings: Settings, tmp_path: Path, engine) -> None:
    subset = tmp_path / "q.jsonl"
    lines = QUESTIONS.read_text("utf-8").splitlines()
    subset.write_text("\n".join(lines[:6] + lines[-3:]) + "\n", "utf-8")
    out = tmp_path / "m.json"
    result = run(
        "bench",
        str(subset),
        "--index-dir",
        str(settings.index_dir),
        "--json",
        str(out),
        "--trec-run",
        str(tmp_path / "r.run"),
        "--qrels",
        str(tmp_path / "q.qrels"),
        "--plot",
        str(tmp_path / "p.png"),
    )
    assert result.returncode == 0, result.stderr
    assert "| full |" in result.stdout and "| dense only" in result.stdout and "| - BM25 stems |" in result.stdout
    metrics = json.loads(out.read_text("utf-8"))
    for key in (
        "hit@1",
        "hit@3",
        "mrr@10",
        "extract_accuracy",
        "oos_abstention",
        "false_abstention",
        "latency_ms",
        "by_type",
        "n",
    ):
        assert key in metrics
    assert metrics["n"] == 9 and metrics["hit@1"] >= 0.8
    run_lines = (tmp_path / "r.run").read_text().splitlines()
    assert run_lines[0].split()[1] == "Q0" and len(run_lines[0].split()) == 6
    assert (tmp_path / "q.qrels").read_text().strip()
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
