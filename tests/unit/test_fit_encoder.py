"""fit-encoder's training rows: the hard negative is the same article's passage that shares most of the
question's words without holding the answer."""

from __future__ import annotations

from qa.core.model import Chunk
from qa_eval.fit_encoder import hard_negative
from qa_eval.questions import BenchQuestion, EvidenceSpan


def _chunk(number: int, doc: str, start: int, text: str) -> Chunk:
    return Chunk(number, doc, start, start + len(text), text, "", 0, "paragraph", (), text)


def test_the_hard_negative_is_the_closest_wrong_passage_of_the_same_article() -> None:
    chunks = [
        _chunk(0, "a.txt", 0, "La réunion se tient à Chevening House dans le Kent."),
        _chunk(1, "a.txt", 100, "La réunion des conseillers réunit Lammy et Vance."),
        _chunk(2, "a.txt", 200, "Le climat du Kent est doux."),
        _chunk(3, "b.txt", 0, "Où se tient la réunion des conseillers ? Une autre réunion."),
    ]
    question = BenchQuestion(
        "q", "Où se tient la réunion des conseillers ?", (), "place", (EvidenceSpan("a.txt", 22, 50),)
    )
    assert hard_negative(question, chunks) == chunks[1].index_text  # not the answer's, not another article's
    lonely = BenchQuestion("q", "Pourquoi ?", (), "reason", (EvidenceSpan("a.txt", 22, 50),))
    assert hard_negative(lonely, chunks) is None  # nothing shares a word: no row rather than a random one
