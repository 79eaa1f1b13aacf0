from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa_eval import metrics
from qa_eval.questions import BenchQuestion, EvidenceSpan, QuestionFileError, load_questions

DOCS = {"d.txt": "Alpha beta gamma. Delta epsilon zeta. Eta theta iota."}


def _question(evidence_span: tuple[int, int] | None, qtype: str = "fact") -> BenchQuestion:
    if evidence_span is None:
        return BenchQuestion("q", "?", (), qtype, ())
    start, end = evidence_span
    return BenchQuestion("q", "?", (DOCS["d.txt"][start:end],), qtype, (EvidenceSpan("d.txt", start, end),))


def _passage(rank: int, start: int, end: int, doc: str = "d.txt") -> dict:
    return {"rank": rank, "doc": doc, "start": start, "end": end, "text": DOCS["d.txt"][start:end], "score": 1.0}


def test_relevant_means_covering_half_of_the_evidence() -> None:
    spans = [EvidenceSpan("d.txt", 10, 20)]
    assert metrics.is_relevant(_passage(1, 0, 15), spans)  # 5 of 10 characters: exactly half
    assert not metrics.is_relevant(_passage(1, 0, 14), spans)  # 4 of 10
    assert metrics.is_relevant(_passage(1, 0, 100), spans)
    assert not metrics.is_relevant(_passage(1, 10, 20, doc="other.txt"), spans)


def test_extract_correct_means_half_of_the_shorter_overlaps() -> None:
    spans = [EvidenceSpan("d.txt", 10, 30)]
    assert metrics.extract_is_correct({"doc": "d.txt", "start": 25, "end": 35}, spans)  # 5 of shorter 10
    assert not metrics.extract_is_correct({"doc": "d.txt", "start": 26, "end": 36}, spans)  # 4 of 10
    assert metrics.extract_is_correct({"doc": "d.txt", "start": 0, "end": 100}, spans)  # evidence inside
    assert not metrics.extract_is_correct({"doc": "x.txt", "start": 10, "end": 30}, spans)


def test_scores_on_a_hand_made_run() -> None:
    questions = [
        _question((0, 17)),
        _question((18, 37)),
        _question((38, 53)),
        _question(None, "oos"),
        _question(None, "oos"),
    ]
    replies = [
        # relevant first, correct extract
        {
            "answered": True,
            "answer": [{"doc": "d.txt", "start": 0, "end": 17}],
            "passages": [_passage(1, 0, 17), _passage(2, 18, 37)],
        },
        # relevant third; answered with a wrong extract
        {
            "answered": True,
            "answer": [{"doc": "d.txt", "start": 38, "end": 53}],
            "passages": [_passage(1, 38, 53), _passage(2, 0, 17), _passage(3, 18, 37)],
        },
        # never relevant; abstained
        {"answered": False, "answer": [], "passages": [_passage(1, 0, 17)]},
        {"answered": False, "answer": [], "passages": [_passage(1, 0, 17)]},
        {"answered": True, "answer": [{"doc": "d.txt", "start": 0, "end": 17}], "passages": [_passage(1, 0, 17)]},
    ]
    result = metrics.score(questions, replies, [1.0, 2.0, 3.0, 4.0, 100.0])
    assert result["n"] == 5
    assert result["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert result["hit@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3, abs=1e-4)
    assert result["extract_accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert result["false_abstention"] == pytest.approx(1 / 3, abs=1e-4)
    assert result["oos_abstention"] == 0.5
    assert result["latency_ms"] == {"p50": 3.0, "p95": 80.8}
    by_type = metrics.score_by_type(questions, replies, [1.0] * 5)
    assert by_type["oos"]["oos_abstention"] == 0.5 and by_type["oos"]["hit@1"] is None
    assert by_type["fact"]["n"] == 3


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_question_file_loads_and_locates_evidence(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            json.dumps({"id": "a", "question": "Quoi ?", "evidence": ["Delta epsilon"], "type": "fact"}),
            "",
            json.dumps({"id": "b", "question": "Hors sujet ?", "evidence": []}),
        ],
    )
    questions = load_questions(path, DOCS)
    assert [q.id for q in questions] == ["a", "b"]
    assert questions[0].spans == (EvidenceSpan("d.txt", 18, 31),)
    assert not questions[1].answerable and questions[1].type == "untyped"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "q.jsonl:2: not valid JSON"),
        ("[1, 2]", "q.jsonl:2: expected a JSON object"),
        (json.dumps({"question": "?", "evidence": []}), "q.jsonl:2: 'id'"),
        (json.dumps({"id": "a", "question": "?", "evidence": []}), "q.jsonl:2: duplicate id"),
        (json.dumps({"id": "b", "question": "", "evidence": []}), "q.jsonl:2: 'question'"),
        (json.dumps({"id": "b", "question": "?", "evidence": "Alpha"}), "q.jsonl:2: 'evidence'"),
        (json.dumps({"id": "b", "question": "?", "evidence": ["Omega"]}), "q.jsonl:2: evidence not found"),
        (json.dumps({"id": "b", "question": "?", "doc": "x.txt", "spans": [[0, 5]]}), "q.jsonl:2: 'doc'"),
        (json.dumps({"id": "b", "question": "?", "doc": "d.txt", "spans": []}), "q.jsonl:2: 'spans'"),
        (json.dumps({"id": "b", "question": "?", "doc": "d.txt", "spans": [[5, 900]]}), "q.jsonl:2: span"),
        (json.dumps({"id": "b", "question": "?", "doc": "d.txt", "spans": [[6, 2]]}), "q.jsonl:2: span"),
        (json.dumps({"id": "b", "question": "?", "doc": "d.txt", "spans": [["0", 5]]}), "q.jsonl:2: span"),
        (
            json.dumps({"id": "b", "question": "?", "doc": "d.txt", "spans": [[0, 5]], "answer": "Beta"}),
            "q.jsonl:2: d.txt\\[0:5\\] is not the answer",
        ),
    ],
)
def test_question_file_errors_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    first = json.dumps({"id": "a", "question": "?", "evidence": ["Alpha"]})
    with pytest.raises(QuestionFileError, match=message):
        load_questions(_write(tmp_path, [first, line]), DOCS)


def test_span_located_questions_load_as_in_piaf(tmp_path: Path) -> None:
    line = {"id": "p1", "question": "Quoi ?", "doc": "d.txt", "spans": [[18, 23], [6, 10]], "answer": "Delta"}
    questions = load_questions(_write(tmp_path, [json.dumps(line)]), DOCS)
    assert questions[0].spans == (EvidenceSpan("d.txt", 18, 23), EvidenceSpan("d.txt", 6, 10))
    assert questions[0].evidence == ("Delta", "beta") and questions[0].answerable
