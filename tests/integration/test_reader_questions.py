"""The readers' questions (benchmarks/readers/): as many as fit needs, each evidence verbatim in its corpus."""

from __future__ import annotations

import json
from collections import Counter

from qa_eval.questions import load_questions
from tests.conftest import BENCHMARKS, BRIEFING, PIAF


def test_readers_questions_load_against_their_corpora_and_ask_as_readers_do(briefing_text: str) -> None:
    briefing = load_questions(BENCHMARKS / "readers" / "briefing.jsonl", {BRIEFING: briefing_text})
    piaf_texts = {path.name: path.read_text("utf-8") for path in (PIAF / "corpus").iterdir()}
    piaf = load_questions(BENCHMARKS / "readers" / "piaf-dev.jsonl", piaf_texts)
    assert len(briefing) >= 50 and len(piaf) >= 150
    kinds = Counter(q.type for q in [*briefing, *piaf])
    assert min(kinds[k] for k in ("english", "where", "when", "who", "how_many", "paraphrase")) >= 5
    assert sum(not q.answerable for q in briefing) >= 5  # some the briefing does not answer
    # None repeats a question of the bundled test part.
    lines = (BENCHMARKS / "briefing" / "test.jsonl").read_text("utf-8").splitlines()
    test_part = {json.loads(line)["question"].casefold() for line in lines if line.strip()}
    assert not test_part & {q.question.casefold() for q in [*briefing, *piaf]}
