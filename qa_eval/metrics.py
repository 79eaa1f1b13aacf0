"""Benchmark metrics, defined exactly (tests pin each one on hand-made cases).

- a passage is *relevant* when its ``[start, end)`` covers at least half of the characters of
  some evidence span of the same document;
- ``hit@1``, ``hit@3``, ``mrr@10``: over answerable questions, from the reply's passages;
- ``extract_accuracy``: share of answerable questions that are answered and whose first
  extract overlaps an evidence span by at least half of the shorter of the two;
- ``oos_abstention``: share of unanswerable questions with ``answered: false``;
  ``false_abstention``: share of answerable ones with ``answered: false``;
- ``latency_ms``: p50 and p95 of warm answering.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qa_eval.questions import BenchQuestion, EvidenceSpan


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def is_relevant(passage: dict[str, Any], spans: Sequence[EvidenceSpan]) -> bool:
    return any(
        passage["doc"] == s.doc and 2 * _overlap(passage["start"], passage["end"], s.start, s.end) >= s.end - s.start
        for s in spans
    )


def extract_is_correct(extract: dict[str, Any], spans: Sequence[EvidenceSpan]) -> bool:
    for s in spans:
        if extract["doc"] != s.doc:
            continue
        shorter = min(extract["end"] - extract["start"], s.end - s.start)
        if shorter > 0 and 2 * _overlap(extract["start"], extract["end"], s.start, s.end) >= shorter:
            return True
    return False


def first_relevant_rank(reply: dict[str, Any], spans: Sequence[EvidenceSpan], depth: int = 10) -> int | None:
    for passage in reply["passages"][:depth]:
        if is_relevant(passage, spans):
            return int(passage["rank"])
    return None


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def score(
    questions: Sequence[BenchQuestion], replies: Sequence[dict[str, Any]], latencies_ms: Sequence[float]
) -> dict[str, Any]:
    """All metrics for one system over one question set (replies in the order of questions)."""
    hit1, hit3, rr, correct, false_abst, oos_abst = [], [], [], [], [], []
    for question, reply in zip(questions, replies, strict=True):
        if question.answerable:
            rank = first_relevant_rank(reply, question.spans)
            hit1.append(rank is not None and rank <= 1)
            hit3.append(rank is not None and rank <= 3)
            rr.append(1.0 / rank if rank else 0.0)
            answered = bool(reply["answered"])
            correct.append(
                answered and bool(reply["answer"]) and extract_is_correct(reply["answer"][0], question.spans)
            )
            false_abst.append(not answered)
        else:
            oos_abst.append(not reply["answered"])
    latencies = np.asarray(latencies_ms, dtype=float)
    return {
        "n": len(questions),
        "hit@1": _share(hit1),
        "hit@3": _share(hit3),
        "mrr@10": round(float(np.mean(rr)), 4) if rr else None,
        "extract_accuracy": _share(correct),
        "oos_abstention": _share(oos_abst),
        "false_abstention": _share(false_abst),
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 2) if len(latencies) else None,
            "p95": round(float(np.percentile(latencies, 95)), 2) if len(latencies) else None,
        },
    }


def score_by_type(
    questions: Sequence[BenchQuestion], replies: Sequence[dict[str, Any]], latencies_ms: Sequence[float]
) -> dict[str, dict[str, Any]]:
    types = sorted({q.type for q in questions})
    result = {}
    for qtype in types:
        picked = [i for i, q in enumerate(questions) if q.type == qtype]
        result[qtype] = score(
            [questions[i] for i in picked], [replies[i] for i in picked], [latencies_ms[i] for i in picked]
        )
    return result
