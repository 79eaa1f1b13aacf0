"""The Engine: loads the index and the model once, then answers questions with cited extracts.

>>> engine = Engine(Settings.from_env())          # doctest: +SKIP
>>> reply = engine.ask("Qui mène la réunion ?")  # doctest: +SKIP
>>> reply_to_json(reply)["answer"][0]["text"]     # doctest: +SKIP
'Cette réunion est co-organisée par ...'
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from qa import indexing
from qa.answering import extract_answer
from qa.calibration import Calibration
from qa.embedding import Encoder
from qa.followup import contextualize
from qa.indexing import LoadedIndex
from qa.query import analyze, clean
from qa.retrieval import retrieve
from qa.settings import Settings
from qa.types import Extract, Passage, Reply

log = logging.getLogger(__name__)

MAX_K = 20


@dataclass(frozen=True)
class Pipeline:
    """Switches for each stage, so the benchmark can measure what every stage adds."""

    weights: tuple[tuple[str, float], ...] | None = None  # None: the settings' fusion weights
    correct_spelling: bool = True
    expand_aliases: bool = True
    unit_scoring: bool = True
    answer_first: bool = True


FULL_PIPELINE = Pipeline()


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, wrong k...); the message says why."""


class Engine:
    def __init__(self, settings: Settings, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self.encoder = encoder or Encoder(settings.model)
        self.index: LoadedIndex = indexing.open_index(settings, self.encoder)
        self.calibration = Calibration.load()
        # The torch encoder is not documented as thread-safe; encoding is ~ms, so serialise it only.
        self._encode_lock = threading.Lock()

    def ask(
        self,
        question: str,
        k: int | None = None,
        previous: str | None = None,
        pipeline: Pipeline = FULL_PIPELINE,
    ) -> Reply:
        started = time.perf_counter()
        k = self.settings.top_k if k is None else k
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise QuestionError(f"k must be a whole number from 1 to {MAX_K}")
        if not isinstance(question, str):
            raise QuestionError("the question must be text")
        text, truncated = clean(question)
        if not text:
            raise QuestionError("the question is empty")
        context = contextualize(text, clean(previous)[0] if isinstance(previous, str) else None) or ""
        weights = dict(pipeline.weights if pipeline.weights is not None else self.settings.fusion_weights)

        query = analyze(text, self.index.lexical, pipeline.correct_spelling, pipeline.expand_aliases)
        variants = [query]
        if context:
            variants.append(
                analyze(f"{context} {text}", self.index.lexical, pipeline.correct_spelling, pipeline.expand_aliases)
            )
        with self._encode_lock:
            vectors = self.encoder.encode([v.text for v in variants])
        # With a follow-up, meaning comes from the whole exchange; the words asked now pick the extract.
        query_vector = vectors[-1]
        passages = retrieve(
            self.index,
            list(zip(variants, vectors, strict=True)),
            weights,
            self.settings.rrf_k,
            max(k, self.settings.candidates),
        )
        retrieved = time.perf_counter()
        answer = extract_answer(
            self.index,
            query,
            query_vector,
            passages,
            self.calibration,
            self.settings.max_extracts,
            unit_scoring=pipeline.unit_scoring,
        )
        extracted = time.perf_counter()

        answered = bool(answer.extracts) and answer.confidence >= self.settings.abstain_below
        extracts = answer.extracts
        if pipeline.answer_first and answered:
            passages, extracts = answer_first(passages, extracts)
        notices = []
        if truncated:
            notices.append(f"question shortened to its first {len(query.text)} characters")
        return Reply(
            question=question if isinstance(question, str) else str(question),
            answered=answered,
            answer=extracts if answered else (),
            confidence=round(answer.confidence, 4),
            passages=tuple(passages[:k]),
            timings_ms={
                "retrieve": round((retrieved - started) * 1000, 3),
                "extract": round((extracted - retrieved) * 1000, 3),
                "total": round((extracted - started) * 1000, 3),
            },
            notice="; ".join(notices),
            interpreted_as=variants[-1].text if context else "",
        )

    def line_of(self, doc: str, offset: int) -> int:
        return self.index.documents[doc].count("\n", 0, offset) + 1


def answer_first(passages: list[Passage], extracts: tuple[Extract, ...]) -> tuple[list[Passage], tuple[Extract, ...]]:
    """Put the passage the best extract is quoted from first, and renumber the citations.

    Extraction weighs every unit of the top passages against the question; when the best one
    lies in the second or third passage, that passage answers better than the first, so [1]
    is always the passage the answer comes from.
    """
    source = extracts[0].passage
    if source == 1:
        return passages, extracts
    order = [passages[source - 1], *(p for p in passages if p.rank != source)]
    new_rank = {p.rank: position for position, p in enumerate(order, start=1)}
    reordered = [replace(p, rank=new_rank[p.rank]) for p in order]
    return reordered, tuple(replace(e, passage=new_rank[e.passage]) for e in extracts)


def extract_to_json(extract: Extract, engine: Engine) -> dict[str, Any]:
    data: dict[str, Any] = {
        "text": extract.text,
        "doc": extract.doc,
        "start": extract.start,
        "end": extract.end,
        "section": extract.section,
        "passage": extract.passage,
        "line": engine.line_of(extract.doc, extract.start),
    }
    if extract.context is not None:
        data["context"] = {"text": extract.context_text, "start": extract.context.start, "end": extract.context.end}
    return data


def passage_to_json(passage: Passage, engine: Engine) -> dict[str, Any]:
    chunk = passage.chunk
    return {
        "rank": passage.rank,
        "text": chunk.text,
        "doc": chunk.doc,
        "start": chunk.start,
        "end": chunk.end,
        "section": chunk.section,
        "score": round(passage.score, 4),
        "kind": chunk.kind,
        "line": engine.line_of(chunk.doc, chunk.start),
        "rankers": passage.ranks,
    }


def reply_to_json(reply: Reply, engine: Engine) -> dict[str, Any]:
    """The stable reply contract shared by the CLI, the HTTP API, the UI and the benchmark."""
    data: dict[str, Any] = {
        "question": reply.question,
        "answered": reply.answered,
        "answer": [extract_to_json(e, engine) for e in reply.answer],
        "confidence": reply.confidence,
        "passages": [passage_to_json(p, engine) for p in reply.passages],
        "timings_ms": reply.timings_ms,
    }
    if reply.notice:
        data["notice"] = reply.notice
    if reply.interpreted_as:
        data["interpreted_as"] = reply.interpreted_as
    return data
