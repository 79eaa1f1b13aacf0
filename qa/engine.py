"""The Engine: loads the index and the model once, then answers questions with cited extracts.

>>> engine = Engine(Settings.from_env())          # doctest: +SKIP
>>> reply = engine.ask("Qui mène la réunion ?")  # doctest: +SKIP
>>> reply_to_json(reply)["answer"][0]["text"]     # doctest: +SKIP
'Cette réunion est co-organisée par ...'
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from qa.answer.confidence import Calibration
from qa.answer.extraction import extract_answer, term_weights
from qa.core.model import Extract, Passage, Reply
from qa.encode.embedding import Encoder, encoder_for
from qa.index import indexing
from qa.index.indexing import LoadedIndex
from qa.query import answer_types
from qa.query.analysis import analyze, clean
from qa.query.followup import contextualize
from qa.retrieve.learned import Models, rerank_passages
from qa.retrieve.retrieval import retrieve
from qa.settings import Settings

log = logging.getLogger(__name__)

MAX_K = 20
ENGINE_THREADS = "briefing-qa-engine"  # the name prefix of the threads that compute answers
RETRY_FAILED_BUILD_S = 300


@dataclass(frozen=True)
class Pipeline:
    """Switches for each stage, so the benchmark can measure what every stage adds."""

    weights: tuple[tuple[str, float], ...] | None = None  # None: the settings' fusion weights
    correct_spelling: bool = True
    expand_aliases: bool = True
    translate_english: bool = True
    expand_synonyms: bool = True
    match_names: bool = True
    unit_scoring: bool = True
    answer_types: bool = True
    answer_first: bool = True
    learned_reranker: bool = True
    learned_unit_selector: bool = True


FULL_PIPELINE = Pipeline()


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, wrong k...); the message says why."""


class Engine:
    def __init__(self, settings: Settings, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self.encoder = encoder or encoder_for(settings)
        self._signature = indexing.change_signature(settings)
        self.index: LoadedIndex = indexing.open_index(settings, self.encoder)
        self._refresh_error = ""
        self._retry_at = math.inf
        self._watcher: threading.Thread | None = None
        # At most this many questions computed at once; more would only queue for the cores and the
        # GIL, raising everyone's latency (Gradio's handlers wait on this in its thread pool).
        workers = settings.workers or os.cpu_count() or 1
        self._computing = threading.BoundedSemaphore(workers)
        self._in_flight = 0  # questions being computed now; alone, one may encode on every core
        self._in_flight_lock = threading.Lock()
        # The async API's own threads, one per worker: waiting questions queue as coroutines rather
        # than as dozens of blocked threads contending for the GIL (anyio's pool has 40).
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=ENGINE_THREADS)
        self.calibration = Calibration.load()
        self.models = Models.load()

    def refresh(self) -> bool:
        """Swap in a fresh index if the corpus changed or another process built one; True if swapped.

        Cheap when nothing changed (file sizes and times, and the CURRENT pointer, are compared
        first). Questions being answered keep the index they started with. When the new index
        cannot be built (disk full, read-only), the current one keeps serving; the error is
        logged once.
        """
        signature = indexing.change_signature(self.settings)
        if signature == self._signature and time.monotonic() < self._retry_at:
            return False
        try:
            fresh = indexing.check(self.settings)
        except indexing.StaleIndex as reason:
            log.info("index: %s, rebuilding while serving %s", reason, self.index.path.name)
            try:
                fresh = indexing.build(self.settings, self.encoder)
            except indexing.IndexBuildError as exc:
                if str(exc) != self._refresh_error:
                    log.error("index: %s; still serving %s", exc, self.index.path.name)
                    self._refresh_error = str(exc)
                # Not again at every tick (a build re-embeds everything): after a change, or later.
                self._signature, self._retry_at = signature, time.monotonic() + RETRY_FAILED_BUILD_S
                return False
        self._refresh_error = ""
        self._signature, self._retry_at = indexing.change_signature(self.settings), math.inf
        if fresh == self.index.path:
            return False
        self.index = indexing.load(fresh)
        log.info("index: now serving %s (%d chunks)", fresh.name, len(self.index.chunks))
        return True

    def watch(self, every_s: float) -> None:
        """Call refresh() every every_s seconds in a daemon thread (once per engine)."""
        if every_s <= 0 or (self._watcher and self._watcher.is_alive()):
            return

        def loop() -> None:
            while True:
                time.sleep(every_s)
                try:
                    self.refresh()
                except Exception:  # a reload must never take the server down; say why and go on
                    log.exception("index: reload failed; still serving %s", self.index.path.name)

        self._watcher = threading.Thread(target=loop, name="index-watcher", daemon=True)
        self._watcher.start()

    async def ask_async(self, question: str, k: int | None = None, previous: str | None = None) -> Reply:
        """ask() for an asyncio server, computed on the engine's own threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(self.ask, question, k, previous))

    def ask(
        self,
        question: str,
        k: int | None = None,
        previous: str | None = None,
        pipeline: Pipeline = FULL_PIPELINE,
    ) -> Reply:
        k = self.settings.top_k if k is None else k
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise QuestionError(f"k must be a whole number from 1 to {MAX_K}")
        if not isinstance(question, str):
            raise QuestionError("the question must be text")
        text, truncated = clean(question)
        if not text:
            raise QuestionError("the question is empty")
        if threading.current_thread().name.startswith(ENGINE_THREADS):
            return self._compute(question, text, truncated, k, previous, pipeline)
        # Computed on the engine's own threads whoever asks: a web server's worker threads come and go,
        # and answers computed on them made the server's memory creep (soak test, Gradio calls).
        return self._pool.submit(self._compute, question, text, truncated, k, previous, pipeline).result()

    def _compute(
        self, question: str, text: str, truncated: bool, k: int, previous: str | None, pipeline: Pipeline
    ) -> Reply:
        with self._computing:
            with self._in_flight_lock:
                self._in_flight += 1
            try:
                return self._answer(question, text, truncated, k, previous, pipeline)
            finally:
                with self._in_flight_lock:
                    self._in_flight -= 1

    def _answer(
        self, question: str, text: str, truncated: bool, k: int, previous: str | None, pipeline: Pipeline
    ) -> Reply:
        started = time.perf_counter()
        index = self.index  # one snapshot per question: a reload may swap self.index meanwhile
        context = contextualize(text, clean(previous)[0] if isinstance(previous, str) else None) or ""
        weights = dict(pipeline.weights if pipeline.weights is not None else self.settings.fusion_weights)

        switches = (
            pipeline.correct_spelling,
            pipeline.expand_aliases,
            pipeline.translate_english,
            pipeline.expand_synonyms,
        )
        query = analyze(text, index.lexical, *switches)
        variants = [query]
        if context:
            variants.append(analyze(f"{context} {text}", index.lexical, *switches))
        analyzed = time.perf_counter()
        vectors = self.encoder.encode([v.text for v in variants], all_threads=self._in_flight == 1)
        encoded = time.perf_counter()
        # With a follow-up, meaning comes from the whole exchange; the words asked now pick the extract.
        query_vector = vectors[-1]
        stages: dict[str, float] = {}
        passages = retrieve(
            index,
            list(zip(variants, vectors, strict=True)),
            weights,
            self.settings.rrf_k,
            max(k, self.settings.candidates),
            timings=stages,
            match_names=pipeline.match_names,
        )
        fused_at = time.perf_counter()
        terms = term_weights(query, index)  # computed once: the re-ranker, the scorer and the features use it
        if self.models.reranker is not None and pipeline.learned_reranker:
            wanted = answer_types.expected(query.text) if pipeline.answer_types else None
            passages = rerank_passages(index, query, query_vector, passages, terms, self.models.reranker, wanted)
        retrieved = time.perf_counter()
        stages["fuse"] += retrieved - fused_at  # fusion and the learned re-ranking: one stage of the reply

        answer = extract_answer(
            index,
            query,
            query_vector,
            passages,
            self.calibration,
            self.settings.max_extracts,
            unit_scoring=pipeline.unit_scoring,
            answer_types=pipeline.answer_types,
            selector=self.models.unit_selector if pipeline.learned_unit_selector else None,
            weights=terms,
        )
        extracted = time.perf_counter()
        timings = {
            "analyze": analyzed - started,
            "encode": encoded - analyzed,
            "rank": stages["rank"],
            "fuse": stages["fuse"],
            "extract": extracted - retrieved,
            "total": extracted - started,
        }

        answered = bool(answer.extracts) and answer.confidence >= self.settings.abstain_below
        extracts = answer.extracts
        # The passages are ranked the same whether or not the confidence clears the threshold: a
        # reader told the briefing may not answer still sees the closest passage first.
        if pipeline.answer_first and extracts:
            passages, extracts = answer_first(passages, extracts)
        passages = [replace(p, line=index.line_of(p.chunk.doc, p.chunk.start)) for p in passages[:k]]
        extracts = tuple(replace(e, line=index.line_of(e.doc, e.start)) for e in extracts)
        notices = []
        if truncated:
            notices.append(f"question shortened to its first {len(query.text)} characters")
        return Reply(
            question=question if isinstance(question, str) else str(question),
            answered=answered,
            answer=extracts if answered else (),
            confidence=round(answer.confidence, 4),
            passages=tuple(passages),
            timings_ms={stage: round(seconds * 1000, 3) for stage, seconds in timings.items()},
            notice="; ".join(notices),
            interpreted_as=variants[-1].text if context else "",
        )


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


def extract_to_json(extract: Extract) -> dict[str, Any]:
    data: dict[str, Any] = {
        "text": extract.text,
        "doc": extract.doc,
        "start": extract.start,
        "end": extract.end,
        "section": extract.section,
        "passage": extract.passage,
        "line": extract.line,
    }
    if extract.context is not None:
        data["context"] = {"text": extract.context_text, "start": extract.context.start, "end": extract.context.end}
    return data


def passage_to_json(passage: Passage) -> dict[str, Any]:
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
        "line": passage.line,
        "rankers": passage.ranks,
    }


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """The stable reply contract shared by the CLI, the HTTP API, the UI and the benchmark."""
    data: dict[str, Any] = {
        "question": reply.question,
        "answered": reply.answered,
        "answer": [extract_to_json(e) for e in reply.answer],
        "confidence": reply.confidence,
        "passages": [passage_to_json(p) for p in reply.passages],
        "timings_ms": reply.timings_ms,
    }
    if reply.notice:
        data["notice"] = reply.notice
    if reply.interpreted_as:
        data["interpreted_as"] = reply.interpreted_as
    return data
