"""The feedback log: bounded, whole after any flood, nothing about the reader; the export of disliked questions."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from qa.settings import Settings
from qa_eval.feedback import disliked_questions, export
from qa_eval.questions import load_questions
from ui.feedback import FeedbackLog, read_votes, vote_record

REPLY = {
    "question": "Où se tient la réunion ?",
    "answered": True,
    "answer": [{"text": "au Chevening House", "doc": "b.txt", "start": 10, "end": 28, "section": "", "passage": 1}],
    "passages": [],
}


def test_a_vote_records_the_question_the_citations_and_the_vote_only() -> None:
    record = vote_record("Où se tient la réunion ?", REPLY, False, now=0)
    assert record == {
        "time": "1970-01-01T00:00:00Z",
        "question": "Où se tient la réunion ?",
        "answered": True,
        "citations": [{"doc": "b.txt", "start": 10, "end": 28, "text": "au Chevening House"}],
        "vote": "down",
    }
    assert vote_record("q", REPLY, True)["vote"] == "up"  # type: ignore[index]
    # A vote withdrawn (Gradio sends "" then) or any other value is not a vote.
    assert vote_record("q", REPLY, "") is None and vote_record("q", REPLY, None) is None


def test_a_flood_of_votes_from_many_threads_keeps_the_log_bounded_whole_and_newest(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    log = FeedbackLog(path, max_bytes=20_000)

    def vote(thread: int) -> None:
        for number in range(300):
            assert log.append(vote_record(f"question {thread}-{number}", REPLY, number % 2 == 0))  # type: ignore[arg-type]

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.append(vote_record("question newest", REPLY, True))  # type: ignore[arg-type]
    assert path.stat().st_size <= 20_000
    lines = path.read_text("utf-8").splitlines()
    assert all(json.loads(line)["question"].startswith("question ") for line in lines)  # no torn line
    questions = {json.loads(line)["question"] for line in lines}
    assert json.loads(lines[-1])["question"] == "question newest" and len(lines) > 40
    assert not {f"question {n}-0" for n in range(8)} & questions  # the oldest dropped
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feedback.jsonl", "feedback.jsonl.lock"]


def test_a_log_that_cannot_be_written_loses_the_vote_not_the_answer(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be", "utf-8")
    assert FeedbackLog(blocker / "feedback.jsonl", 10_000).append({"question": "q", "vote": "up"}) is False


def test_the_export_gives_each_disliked_question_once_evidence_empty(tmp_path: Path) -> None:
    path = tmp_path / "index" / "feedback.jsonl"
    log = FeedbackLog(path, 100_000)
    for question, liked in [("Où ?", False), ("Qui ?", True), ("Où ?", False), ("Quand ?", False)]:
        log.append(vote_record(question, REPLY, liked))  # type: ignore[arg-type]
    with path.open("a", encoding="utf-8") as out:
        out.write('{"question": "torn\n')  # a damaged line is skipped, the rest read
    assert len(read_votes(path)) == 4
    disliked = disliked_questions(read_votes(path))
    assert [(q["question"], q["dislikes"]) for q in disliked] == [("Où ?", 2), ("Quand ?", 1)]
    out = tmp_path / "disliked.jsonl"
    assert export(Settings(index_dir=path.parent), out) == 2
    # The evidence format: a question file the benchmark reads (evidence empty until filled in).
    loaded = load_questions(out, {"b.txt": "Le texte."})
    assert [(q.question, q.evidence) for q in loaded] == [("Où ?", ()), ("Quand ?", ())]
