"""The benchmark's own files: the bundled set's split and the PIAF dev copy, valid against their corpora."""

from __future__ import annotations

from pathlib import Path

from qa_eval.questions import load_questions


def test_bundled_question_set_is_valid_rich_and_split_once(briefing_text: str) -> None:
    from tests.conftest import BRIEFING, QUESTIONS, TEST_QUESTIONS

    tune = load_questions(QUESTIONS, {BRIEFING: briefing_text})
    test = load_questions(TEST_QUESTIONS, {BRIEFING: briefing_text})
    questions = tune + test
    types = {q.type for q in questions}
    assert len(questions) >= 100
    assert sum(not q.answerable for q in questions) >= 15
    assert {"faq", "english", "typo", "no_accent", "keyword", "table", "list", "oos"} <= types
    # Two disjoint parts, about 70/30, every type on both sides.
    assert not {q.id for q in tune} & {q.id for q in test}
    assert not {q.question for q in tune} & {q.question for q in test}
    assert 0.25 <= len(test) / len(questions) <= 0.35
    assert {q.type for q in tune} == {q.type for q in test} == types


def test_piaf_dev_copy_is_whole_and_located(tmp_path: Path) -> None:
    from tests.conftest import PIAF

    documents = {p.name: p.read_text("utf-8") for p in (PIAF / "corpus").glob("*.txt")}
    questions = load_questions(PIAF / "questions.jsonl", documents)
    assert len(documents) == 93 and len(questions) == 1784
    assert "MIT" in (PIAF / "README.md").read_text("utf-8")
