"""briefing-qa fit --replies: each question's held-out reply, as the cross-validated figures read it."""

from __future__ import annotations

import json
from pathlib import Path

from qa.core.pipeline import Work
from qa.engine import Engine
from qa_eval.fit import Row, write_replies
from qa_eval.questions import load_question_items


def test_held_out_replies_are_written_one_line_a_question(
    tmp_path: Path, fixture_engine: Engine, fixture_texts: dict[str, str]
) -> None:
    items = [
        {"id": "q1", "question": "Qui coordonne les opérations ?", "evidence": ["Claire Fontaine"]},
        {"id": "q2", "question": "Quelle est la capitale du Pérou ?", "evidence": []},
    ]
    rows = []
    questions = load_question_items(items, fixture_engine.index.documents, "test")
    for question, confidence in zip(questions, (0.9, 0.1), strict=True):
        work = Work(fixture_engine.index, question.question, None, False, k=10, depth=30)
        fixture_engine.pipeline.run(work)
        row = Row("briefing", "doc", question, fixture_engine, work=work, reranked=work.passages, answer=work.answer)
        row.held_out_confidence = confidence
        rows.append(row)
    path = tmp_path / "replies.jsonl"
    write_replies(rows, threshold=0.5, path=path)
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [(line["id"], line["source"], line["answered"]) for line in lines] == [
        ("q1", "briefing", True),
        ("q2", "briefing", False),
    ]
    assert "Claire Fontaine" in lines[0]["answer"][0]["text"] and lines[1]["answer"] == []
    for line in lines:
        for item in [*line["answer"], *line["passages"]]:
            assert fixture_texts[item["doc"]][item["start"] : item["end"]] == item["text"]
