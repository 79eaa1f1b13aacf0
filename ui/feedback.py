"""Readers' votes on answers, kept for evaluators: one JSON line each, in a file of bounded size.

A line holds the question, what the reply cited (document and offsets of each extract, and its
text), whether it answered, the vote ("up" or "down") and the time: no address, no user, no session.
When the file passes its size cap, the oldest votes go: it is rewritten with the newest lines that
fit in half the cap (beside it, then renamed over it, so a crash leaves the old file or the new one,
never half of either). Appends and rewrites take a file lock, so several server processes on one
index folder share the log. ``briefing-qa feedback export`` (qa_eval.feedback) turns the disliked
questions into a question file for an evaluator to complete.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from qa.core.files import write_atomically

log = logging.getLogger(__name__)

VOTES = {True: "up", False: "down"}
LOCK_TIMEOUT_S = 2.0
# What a line keeps of a question and of each extract: enough to recognise them.
MAX_QUESTION_CHARS = 2000
MAX_EXTRACT_CHARS = 500


def vote_record(question: str, reply: dict[str, Any], liked: object, now: float | None = None) -> dict[str, Any] | None:
    """The log line for a vote on a reply (qa.answer.reply.to_json's form); None for anything but a
    like or a dislike (Gradio sends other values when a vote is withdrawn)."""
    if not isinstance(liked, bool):
        return None
    citations = [
        {
            "doc": extract["doc"],
            "start": extract["start"],
            "end": extract["end"],
            "text": extract["text"][:MAX_EXTRACT_CHARS],
        }
        for extract in reply.get("answer", [])
    ]
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "question": question[:MAX_QUESTION_CHARS],
        "answered": bool(reply.get("answered")),
        "citations": citations,
        "vote": VOTES[liked],
    }


class FeedbackLog:
    """Appends votes to a JSONL file of at most ``max_bytes`` (the oldest dropped past it)."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max(max_bytes, 4096)
        self._lock = threading.Lock()
        self._file_lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S)

    def append(self, record: dict[str, Any]) -> bool:
        """Write one vote; False (logged, never raised) when the disk or the lock says no."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            with self._lock, self._file_lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("ab") as out:
                    out.write(line)
                if self.path.stat().st_size > self.max_bytes:
                    self._drop_oldest()
            return True
        except (OSError, Timeout) as exc:
            log.warning("feedback: vote not kept (%s)", exc)
            return False

    def _drop_oldest(self) -> None:
        lines = self.path.read_bytes().splitlines(keepends=True)
        kept: list[bytes] = []
        size = 0
        for line in reversed(lines):
            if size + len(line) > self.max_bytes // 2:
                break
            kept.append(line)
            size += len(line)
        write_atomically(self.path, b"".join(reversed(kept)))
        log.info("feedback: log over %d bytes, kept the newest %d of %d votes", self.max_bytes, len(kept), len(lines))


def read_votes(path: Path) -> list[dict[str, Any]]:
    """Every readable vote in the log, oldest first (a damaged line is skipped, with a warning)."""
    try:
        raw = path.read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    votes = []
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            vote = json.loads(line)
        except ValueError:
            log.warning("feedback: %s line %d is not JSON, skipped", path, number)
            continue
        if isinstance(vote, dict) and isinstance(vote.get("question"), str) and vote.get("vote") in VOTES.values():
            votes.append(vote)
    return votes
