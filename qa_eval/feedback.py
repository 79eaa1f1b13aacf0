"""``briefing-qa feedback export``: the questions readers disliked the answer to, as a question file.

Each distinct disliked question becomes one line of the evidence format (qa_eval.questions) with
its evidence empty, for an evaluator to fill in with the passage that answers it (or to leave
empty when the briefing does not) before adding it to a question set. What the bot answered is
kept beside it (``answered_with``), with how many dislikes and when the last came.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from qa.core.files import write_atomically
from qa.settings import Settings
from ui.feedback import read_votes

log = logging.getLogger(__name__)


def disliked_questions(votes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per distinct disliked question, in the order of their first dislike."""
    found: dict[str, dict[str, Any]] = {}
    for vote in votes:
        question = vote["question"].strip()
        if vote["vote"] != "down" or not question:
            continue
        entry = found.setdefault(question, {"question": question, "dislikes": 0})
        entry["dislikes"] += 1
        entry["last_disliked"] = vote.get("time", "")
        entry["answered_with"] = [c.get("text", "") for c in vote.get("citations", [])]
    return [
        {"id": f"feedback-{number:04d}", "question": e["question"], "evidence": [], "type": "feedback", **e}
        for number, e in enumerate(found.values(), start=1)
    ]


def export(settings: Settings, out: Path) -> int:
    """Write the disliked questions to out (whole or not at all); how many."""
    questions = disliked_questions(read_votes(settings.feedback_file))
    write_atomically(out, "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions))
    log.info("feedback: %d disliked question(s) written to %s, evidence to fill in", len(questions), out)
    return len(questions)
