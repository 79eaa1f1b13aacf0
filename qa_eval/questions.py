"""Question files for the benchmark: JSONL, one question a line, validated against the corpus.

Two formats, told apart line by line:

- evidence files: ``{"id": str, "question": str, "evidence": [str, ...], "type": str (optional)}``.
  ``evidence`` holds verbatim substrings of the corpus that answer the question (any one
  suffices; every occurrence counts); an empty list means the briefing does not answer and the
  system must abstain.
- span-located files (the PIAF format): ``{"id", "question", "doc": str, "spans": [[start, end], ...],
  "answer": str, "type"?}``. ``doc`` is a file of the corpus (relative to its folder), ``spans`` are
  Python string offsets into it, each a correct answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qa.cli import CommandError


class QuestionFileError(CommandError, ValueError):
    """A question file problem; the message names the file and line."""


@dataclass(frozen=True)
class EvidenceSpan:
    doc: str
    start: int
    end: int


@dataclass(frozen=True)
class BenchQuestion:
    id: str
    question: str
    evidence: tuple[str, ...]
    type: str
    spans: tuple[EvidenceSpan, ...]  # every occurrence of every evidence string in the corpus

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


def json_lines(path: Path) -> list[tuple[str, object]]:
    """Each non-blank line of a JSONL file, parsed, with where it is ("file:line") for messages."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"{path}: cannot be read ({exc})") from exc
    items: list[tuple[str, object]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            items.append((where, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{where}: not valid JSON ({exc.msg})") from exc
    return items


def load_questions(path: Path, documents: dict[str, str]) -> list[BenchQuestion]:
    questions = _questions(json_lines(path), documents)
    if not questions:
        raise QuestionFileError(f"{path}: no questions")
    return questions


def load_question_items(items: list[dict], documents: dict[str, str], where: str) -> list[BenchQuestion]:
    """Questions given as parsed objects (a conversation's turns), each checked as a question file's line."""
    return _questions([(f"{where} turn {i}", item) for i, item in enumerate(items, start=1)], documents)


def _questions(items: list[tuple[str, object]], documents: dict[str, str]) -> list[BenchQuestion]:
    questions: list[BenchQuestion] = []
    seen: set[str] = set()
    for where, item in items:
        if not isinstance(item, dict):
            raise QuestionFileError(f"{where}: expected a JSON object")
        qid, question = item.get("id"), item.get("question")
        qtype = item.get("type", "untyped")
        if not isinstance(qid, str) or not qid:
            raise QuestionFileError(f"{where}: 'id' must be a non-empty string")
        if qid in seen:
            raise QuestionFileError(f"{where}: duplicate id {qid!r}")
        if not isinstance(question, str) or not question.strip():
            raise QuestionFileError(f"{where}: 'question' must be a non-empty string")
        if not isinstance(qtype, str):
            raise QuestionFileError(f"{where}: 'type' must be a string")
        if "spans" in item:
            evidence, spans = _located(item, documents, where)
        else:
            evidence, spans = _evidence(item, documents, where)
        seen.add(qid)
        questions.append(BenchQuestion(qid, question, evidence, qtype, spans))
    return questions


def _evidence(item: dict, documents: dict[str, str], where: str) -> tuple[tuple[str, ...], tuple[EvidenceSpan, ...]]:
    evidence = item.get("evidence")
    if not isinstance(evidence, list) or not all(isinstance(e, str) and e for e in evidence):
        raise QuestionFileError(f"{where}: 'evidence' must be a list of non-empty strings")
    spans = []
    for text in evidence:
        found = [EvidenceSpan(doc, s, s + len(text)) for doc, body in documents.items() for s in _find_all(body, text)]
        if not found:
            raise QuestionFileError(f"{where}: evidence not found verbatim in the corpus: {text[:80]!r}")
        spans.extend(found)
    return tuple(evidence), tuple(spans)


def _located(item: dict, documents: dict[str, str], where: str) -> tuple[tuple[str, ...], tuple[EvidenceSpan, ...]]:
    doc, raw = item.get("doc"), item.get("spans")
    if not isinstance(doc, str) or doc not in documents:
        raise QuestionFileError(f"{where}: 'doc' must name a document of the corpus (got {doc!r})")
    body = documents[doc]
    if not isinstance(raw, list) or not raw:
        raise QuestionFileError(f"{where}: 'spans' must be a non-empty list of [start, end] pairs")
    spans = []
    for pair in raw:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
            or not 0 <= pair[0] < pair[1] <= len(body)
        ):
            raise QuestionFileError(f"{where}: span {pair!r} is not a [start, end] pair inside {doc}")
        spans.append(EvidenceSpan(doc, pair[0], pair[1]))
    answer = item.get("answer")
    if isinstance(answer, str) and answer and body[spans[0].start : spans[0].end] != answer:
        raise QuestionFileError(f"{where}: {doc}[{spans[0].start}:{spans[0].end}] is not the answer {answer!r}")
    return tuple(body[s.start : s.end] for s in spans), tuple(spans)


def _find_all(body: str, text: str) -> list[int]:
    starts, position = [], body.find(text)
    while position >= 0:
        starts.append(position)
        position = body.find(text, position + 1)
    return starts
