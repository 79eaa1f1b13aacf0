"""Conversations for ``briefing-qa bench``: questions asked one after another, as a reader asks them.

A conversation file is JSONL, one conversation a line::

    {"id": "c01", "turns": [
        {"question": "Qui mène la réunion ?", "evidence": ["David Lammy"]},
        {"question": "Et quel est son rôle ?", "evidence": ["..."], "follow_up": true},
        {"question": "Où se tient la réunion ?", "evidence": ["Chevening House"]}]}

Each turn is in the evidence format of question files (``evidence``: verbatim substrings of the
corpus, empty when it does not answer); ``follow_up`` (default false) says that the turn leans on
the one before and must be read with it. The turns are asked in order, each with the question the
conversation leans on (as the page does: the reply's ``leans_on``). Reported: what a question
file reports, over every turn; the share of standalone turns whose reply equals their reply asked
alone; and the share of follow-ups resolved (read with the question before and answered from the
evidence: its first passage holds it, or, when the corpus does not answer, it is declined).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.answer.reply import to_json
from qa.engine import Engine
from qa_eval import metrics
from qa_eval.questions import BenchQuestion, QuestionFileError, json_lines, load_question_items

REPLY_KEYS_COMPARED = ("answered", "answer", "confidence", "passages")


@dataclass(frozen=True)
class Turn:
    question: BenchQuestion
    follow_up: bool


def is_conversation_file(path: Path) -> bool:
    """Whether the file's first line is a conversation (it has turns) rather than a question."""
    try:
        with path.open(encoding="utf-8") as handle:
            first = next((line for line in handle if line.strip()), "")
        return isinstance(item := json.loads(first), dict) and "turns" in item
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False  # load_questions says what is wrong with it


def load_conversations(path: Path, documents: dict[str, str]) -> list[list[Turn]]:
    conversations: list[list[Turn]] = []
    for where, item in json_lines(path):
        turns = item.get("turns") if isinstance(item, dict) else None
        if not isinstance(turns, list) or not turns or not all(isinstance(t, dict) for t in turns):
            raise QuestionFileError(f"{where}: 'turns' must be a non-empty list of objects")
        cid = item.get("id")
        if not isinstance(cid, str) or not cid:
            raise QuestionFileError(f"{where}: 'id' must be a non-empty string")
        named = [{"id": f"{cid}.{i}", "type": _kind(t), **t} for i, t in enumerate(turns, start=1)]
        questions = load_question_items(named, documents, where)
        conversations.append([Turn(q, bool(t.get("follow_up"))) for q, t in zip(questions, turns, strict=True)])
    if not conversations:
        raise QuestionFileError(f"{path}: no conversations")
    return conversations


def _kind(turn: dict[str, Any]) -> str:
    return "follow_up" if turn.get("follow_up") else "standalone"


def _compared(reply: dict[str, Any]) -> dict[str, Any]:
    return {key: reply.get(key) for key in REPLY_KEYS_COMPARED}


def ask_conversation(engine: Engine, turns: list[Turn]) -> list[dict[str, Any]]:
    """Each turn's reply in the conversation, with ``_alone`` (a standalone turn: its reply asked alone)."""
    replies, previous = [], None
    for turn in turns:
        text = turn.question.question
        reply = to_json(engine.ask(text, k=10, previous=previous))
        if not turn.follow_up:
            reply["_alone"] = to_json(engine.ask(text, k=10))
        replies.append(reply)
        previous = reply.get("leans_on", text)
    return replies


def asked_in_sequence(engine: Engine, questions: list[BenchQuestion], alone: list[dict[str, Any]]) -> dict[str, Any]:
    """A question file's questions, each written to stand alone, asked one after another as one
    conversation (each with the question before it): the share whose reply equals their reply asked
    alone (``alone``, k=10), and how many were read with the question before."""
    same, read_with_previous = 0, 0
    for before, question, reply_alone in zip(questions, questions[1:], alone[1:], strict=False):
        reply = to_json(engine.ask(question.question, k=10, previous=before.question))
        read_with_previous += bool(reply.get("interpreted_as"))
        same += _compared(reply) == _compared(reply_alone)
    asked = len(questions) - 1
    return {
        "asked": asked,
        "as_alone": round(same / asked, 3) if asked > 0 else None,
        "read_with_previous": read_with_previous,
    }


def score_conversations(conversations: list[list[Turn]], replies: list[list[dict[str, Any]]]) -> dict[str, Any]:
    turns = [t for conversation in conversations for t in conversation]
    flat = [r for conversation in replies for r in conversation]
    questions = [t.question for t in turns]
    report = metrics.score(questions, flat, [0.0] * len(flat))
    report.pop("latency_ms", None)
    standalone = [_compared(r) == _compared(r["_alone"]) for t, r in zip(turns, flat, strict=True) if not t.follow_up]
    resolved = [_resolved(t, r) for t, r in zip(turns, flat, strict=True) if t.follow_up]
    report["standalone_as_alone"] = round(sum(standalone) / len(standalone), 3) if standalone else None
    report["follow_ups_resolved"] = round(sum(resolved) / len(resolved), 3) if resolved else None
    report["conversations"] = len(conversations)
    report["standalone_turns"], report["follow_up_turns"] = len(standalone), len(resolved)
    report["by_type"] = metrics.score_by_type(questions, flat, [0.0] * len(flat))
    return report


def _resolved(turn: Turn, reply: dict[str, Any]) -> bool:
    if not reply.get("interpreted_as"):
        return False
    if not turn.question.answerable:
        return not reply["answered"]
    return metrics.first_relevant_rank(reply, turn.question.spans, depth=1) == 1


def markdown(report: dict[str, Any], path: Path) -> str:
    def show(value: Any) -> str:
        return "–" if value is None else f"{value:.3f}"

    lines = [
        f"Conversations of {path} ({report['conversations']} conversations, "
        f"{report['standalone_turns']} standalone turns, {report['follow_up_turns']} follow-ups)",
        "",
        "| turns | hit@1 | hit@3 | extract acc. | OOS abstention | false abstention | standalone as alone |"
        " follow-ups resolved |",
        "|---|---|---|---|---|---|---|---|",
        f"| all | {show(report['hit@1'])} | {show(report['hit@3'])} | {show(report['extract_accuracy'])} | "
        f"{show(report['oos_abstention'])} | {show(report['false_abstention'])} | "
        f"{show(report['standalone_as_alone'])} | {show(report['follow_ups_resolved'])} |",
    ]
    for kind, scored in sorted(report["by_type"].items()):
        lines.append(
            f"| {kind} | {show(scored['hit@1'])} | {show(scored['hit@3'])} | {show(scored['extract_accuracy'])} | "
            f"{show(scored['oos_abstention'])} | {show(scored['false_abstention'])} | | |"
        )
    return "\n".join(lines)
