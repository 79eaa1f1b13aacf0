"""The conversation benchmark on the fixture corpus: files checked, turns asked in order, the two shares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.answer.reply import to_json
from qa.engine import Engine
from qa_eval.conversations import (
    ask_conversation,
    asked_in_sequence,
    is_conversation_file,
    load_conversations,
    score_conversations,
)
from qa_eval.questions import QuestionFileError, load_questions

CONVERSATION = {
    "id": "demenagement",
    "turns": [
        {
            "question": "Où s'installe le laboratoire d'hydrologie ?",
            "evidence": ["au campus de Villeneuve, à Grenoble"],
        },
        {"question": "Et quand ?", "evidence": ["Le déménagement aura lieu du 3 au 7 mars 2025."], "follow_up": True},
        {"question": "Quel est le budget du service informatique ?", "evidence": ["1,2 million d'euros"]},
        {"question": "Quelle est la capitale du Pérou ?", "evidence": []},
    ],
}


def test_a_conversation_is_asked_turn_by_turn(tmp_path: Path, fixture_engine: Engine) -> None:
    path = tmp_path / "conversations.jsonl"
    path.write_text(json.dumps(CONVERSATION, ensure_ascii=False) + "\n", "utf-8")
    assert is_conversation_file(path)
    conversations = load_conversations(path, fixture_engine.index.documents)
    assert [t.follow_up for t in conversations[0]] == [False, True, False, False]
    assert [t.question.type for t in conversations[0]] == ["standalone", "follow_up", "standalone", "standalone"]
    replies = [ask_conversation(fixture_engine, c) for c in conversations]
    follow_up = replies[0][1]
    assert follow_up["interpreted_as"] == "Où s'installe le laboratoire d'hydrologie ? Et quand ?"
    # The question after a follow-up leans on the one the follow-up leaned on, and stands alone here.
    assert "interpreted_as" not in replies[0][2]
    report = score_conversations(conversations, replies)
    assert report["standalone_as_alone"] == 1.0 and report["follow_up_turns"] == 1
    assert report["follow_ups_resolved"] in (0.0, 1.0) and report["n"] == 4


def test_a_bad_conversation_file_names_the_line_and_turn(tmp_path: Path, fixture_engine: Engine) -> None:
    path = tmp_path / "bad.jsonl"
    turns = [{"question": "Où ?", "evidence": ["absent du corpus"]}]
    path.write_text(json.dumps({"id": "c", "turns": turns}) + "\n", "utf-8")
    with pytest.raises(QuestionFileError, match=r"bad.jsonl:1 turn 1: evidence not found"):
        load_conversations(path, fixture_engine.index.documents)
    path.write_text(json.dumps({"id": "c", "turns": []}) + "\n", "utf-8")
    with pytest.raises(QuestionFileError, match="'turns' must be a non-empty list"):
        load_conversations(path, fixture_engine.index.documents)


def test_questions_asked_one_after_another_reply_as_alone_unless_they_lean_on_the_one_before(
    tmp_path: Path, fixture_engine: Engine
) -> None:
    path = tmp_path / "questions.jsonl"
    lines = [
        {"id": "1", "question": "Qui coordonne les opérations du déménagement ?", "evidence": ["Claire Fontaine"]},
        {"id": "2", "question": "Quel est le budget du service informatique ?", "evidence": ["1,2 million d'euros"]},
        {"id": "3", "question": "Qui le vote ?", "evidence": ["Le conseil d'administration vote le budget"]},
    ]
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), "utf-8")
    questions = load_questions(path, fixture_engine.index.documents)
    alone = [to_json(fixture_engine.ask(q.question, k=10)) for q in questions]
    sequence = asked_in_sequence(fixture_engine, questions, alone)
    # "Qui le vote ?" leans on the budget question by its pronoun: read with it, its reply differs.
    assert sequence["asked"] == 2 and sequence["read_with_previous"] == 1
    assert sequence["as_alone"] == 0.5
