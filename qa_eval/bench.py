"""``briefing-qa bench``: answer a question file with the full system and its ablations, and report.

The table always compares, in the same run and with the model loaded once, the full pipeline
with each stage removed, so the value of every part is visible.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from qa.answer.extraction import LeadUnit
from qa.answer.reply import to_json
from qa.core.pipeline import Pipeline
from qa.engine import Engine
from qa.query.analysis import ALIASES, ANSWER_TYPES, ENGLISH, SPELLING, SYNONYMS
from qa.retrieve.retrieval import Rank
from qa.settings import Settings
from qa_eval import metrics
from qa_eval.conversations import (
    ask_conversation,
    asked_in_sequence,
    is_conversation_file,
    load_conversations,
    score_conversations,
)
from qa_eval.conversations import markdown as conversations_markdown
from qa_eval.questions import BenchQuestion, load_questions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class System:
    name: str
    pipeline: Pipeline


# Each ablation row: the engine's pipeline without one stage, or one part of a stage.
ABLATIONS = (
    ("words", "- BM25 stems"),
    ("chargrams", "- BM25 char n-grams"),
    ("unit_words", "- BM25 stems on units"),
    ("unit_chargrams", "- BM25 char n-grams on units"),
    ("dense", "- dense chunks"),
    ("units", "- dense units"),
    (SPELLING, "- spelling correction"),
    (ALIASES, "- place names (CLDR, ISO 3166)"),
    (ENGLISH, "- English dictionary (FreeDict)"),
    (SYNONYMS, "- French thesaurus"),
    ("question_names", "- question names required"),
    ("answer_first", "- answer-first passage order"),
    (ANSWER_TYPES, "- answer types (Où, Quand, Qui...)"),
    ("reranker", "- learned re-ranker (fused order)"),
    ("unit_selector", "- learned unit selector (hand-made unit score)"),
)


def systems(full: Pipeline) -> list[System]:
    """The full pipeline, single rankers, the full pipeline without each stage, and a lead-unit baseline."""
    rows = [
        System("full", full),
        System("dense only (MiniLM chunks)", full.replace("ranking", Rank((("dense", 1.0),)))),
        System("lexical only (BM25 stems)", full.replace("ranking", Rank((("words", 1.0),)))),
    ]
    present = full.names()
    rows += [System(label, full.without(name)) for name, label in ABLATIONS if name in present]
    # The answer without unit selection: the top passage's first unit, whatever the question.
    lead = full.insert_before("extraction", LeadUnit())
    rows.append(System("- unit extraction (lead unit)", lead))
    return rows


def answer_all(
    engine: Engine, questions: list[BenchQuestion], pipeline: Pipeline, progress: tqdm
) -> tuple[list[dict[str, Any]], list[float]]:
    replies, latencies = [], []
    for question in questions:
        started = time.perf_counter()
        reply = engine.ask(question.question, k=10, pipeline=pipeline)
        latencies.append((time.perf_counter() - started) * 1000)
        replies.append(to_json(reply))
        progress.update(1)
    return replies, latencies


def run_conversations(args: argparse.Namespace, engine: Engine) -> int:
    """A conversation file: every turn asked in its conversation, standalone turns asked alone too."""
    conversations = load_conversations(args.questions, engine.index.documents)
    replies = [
        ask_conversation(engine, c) for c in tqdm(conversations, desc="bench", unit="conversation", file=sys.stderr)
    ]
    report = {**score_conversations(conversations, replies), "questions_file": str(args.questions)}
    report.update(model=engine.settings.model, date=time.strftime("%Y-%m-%d"), machine=machine_description())
    print(conversations_markdown(report, args.questions))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    if args.replies:
        with args.replies.open("w", encoding="utf-8") as handle:
            for conversation, conversation_replies in zip(conversations, replies, strict=True):
                for turn, reply in zip(conversation, conversation_replies, strict=True):
                    line = {"id": turn.question.id, "follow_up": turn.follow_up, **reply}
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 0


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    engine = Engine(settings)
    if is_conversation_file(args.questions):
        return run_conversations(args, engine)
    questions = load_questions(args.questions, engine.index.documents)
    chosen = systems(engine.pipeline)[:1] if args.no_ablations else systems(engine.pipeline)
    engine.ask(questions[0].question)  # warm-up: first call pays lazy initialisation

    results: dict[str, dict[str, Any]] = {}
    full_replies: list[dict[str, Any]] = []
    full_latencies: list[float] = []
    with tqdm(total=len(questions) * len(chosen), desc="bench", unit="q", file=sys.stderr) as progress:
        for system in chosen:
            replies, latencies = answer_all(engine, questions, system.pipeline, progress)
            results[system.name] = metrics.score(questions, replies, latencies)
            if system.pipeline is engine.pipeline:
                full_replies, full_latencies = replies, latencies

    report = {
        **results["full"],
        "by_type": metrics.score_by_type(questions, full_replies, full_latencies),
        # The follow-up rule on questions that stand alone: none should be glued to the one before.
        "in_sequence": asked_in_sequence(engine, questions, full_replies),
        "systems": results,
        "questions_file": str(args.questions),
        "model": settings.model,
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine_description(),
    }
    print(markdown_report(report))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    if args.trec_run or args.qrels:
        write_trec(questions, full_replies, engine, args.trec_run, args.qrels)
    if args.replies:
        with args.replies.open("w", encoding="utf-8") as handle:
            for question, reply in zip(questions, full_replies, strict=True):
                handle.write(json.dumps({"id": question.id, "type": question.type, **reply}, ensure_ascii=False) + "\n")
    if args.plot:
        plot(results, args.plot)
    return 0


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown_report(report: dict[str, Any]) -> str:
    lines = [
        f"Benchmark on {report['questions_file']} ({report['n']} questions), {report['date']}, {report['machine']}",
        "",
        "| system | hit@1 | hit@3 | mrr@10 | extract acc. | OOS abstention | false abstention | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in report["systems"].items():
        lines.append(
            f"| {name} | {_fmt(m['hit@1'])} | {_fmt(m['hit@3'])} | {_fmt(m['mrr@10'])} | {_fmt(m['extract_accuracy'])} "
            f"| {_fmt(m['oos_abstention'])} | {_fmt(m['false_abstention'])} | {_fmt(m['latency_ms']['p50'])} "
            f"| {_fmt(m['latency_ms']['p95'])} |"
        )
    lines += [
        "",
        "Full system by question type:",
        "",
        "| type | n | hit@1 | hit@3 | mrr@10 | extract acc. | OOS abstention | false abstention |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for qtype, m in report["by_type"].items():
        lines.append(
            f"| {qtype} | {m['n']} | {_fmt(m['hit@1'])} | {_fmt(m['hit@3'])} | {_fmt(m['mrr@10'])} "
            f"| {_fmt(m['extract_accuracy'])} | {_fmt(m['oos_abstention'])} | {_fmt(m['false_abstention'])} |"
        )
    sequence = report.get("in_sequence")
    if sequence and sequence["asked"] > 0:
        lines += [
            "",
            f"Asked one after another in one conversation, {_fmt(sequence['as_alone'])} of {sequence['asked']} "
            f"questions reply as when asked alone ({sequence['read_with_previous']} read with the question before).",
        ]
    return "\n".join(lines)


def write_trec(
    questions: list[BenchQuestion], replies: list[dict[str, Any]], engine: Engine, run: Path | None, qrels: Path | None
) -> None:
    """TREC run and qrels (ir_measures, ranx); a document id is ``doc:start-end`` of a chunk."""
    if run:
        with run.open("w", encoding="utf-8") as handle:
            for question, reply in zip(questions, replies, strict=True):
                for passage in reply["passages"]:
                    docid = f"{passage['doc']}:{passage['start']}-{passage['end']}"
                    handle.write(f"{question.id} Q0 {docid} {passage['rank']} {passage['score']:.6f} briefing-qa\n")
    if qrels:
        with qrels.open("w", encoding="utf-8") as handle:
            for question in questions:
                for chunk in engine.index.chunks:
                    as_passage = {"doc": chunk.doc, "start": chunk.start, "end": chunk.end}
                    if question.answerable and metrics.is_relevant(as_passage, question.spans):
                        handle.write(f"{question.id} 0 {chunk.doc}:{chunk.start}-{chunk.end} 1\n")


def plot(results: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(results)
    keys = ["hit@1", "hit@3", "extract_accuracy", "oos_abstention"]
    x = np.arange(len(names))
    width = 0.2
    fig, ax = plt.subplots(figsize=(12, 5))
    for i, key in enumerate(keys):
        ax.bar(x + (i - 1.5) * width, [results[n][key] or 0 for n in names], width, label=key)
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.axhline(0.9, color="grey", linestyle=":", linewidth=1)
    ax.set_title("briefing-qa: full system and ablations")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
