"""The Engine: loads the index and the model once, then answers questions with cited extracts.

Skipped when the docstrings' examples run (it loads the model and builds the index)::

>>> from qa.answer.reply import to_json
>>> engine = Engine(Settings.from_env())          # doctest: +SKIP
>>> reply = engine.ask("Qui mène la réunion ?")  # doctest: +SKIP
>>> to_json(reply)["answer"][0]["text"]           # doctest: +SKIP
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
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from qa.answer.confidence import Calibration
from qa.answer.extraction import AnswerFirst, ExtractAnswer, ScoreUnits, SelectUnits, kind_not_given
from qa.core.model import Reply
from qa.core.pipeline import AnswerPlace, Pipeline, Work
from qa.encode.embedding import EncodeQuestion, Encoder, encoder_for
from qa.index import indexing
from qa.index.indexing import LoadedIndex
from qa.query import followup
from qa.query.analysis import AnalyzeQuestion, clean, load_lexicons
from qa.retrieve.learned import LearnedRerank, Models
from qa.retrieve.retrieval import DemoteMissingNames, Fuse, KeepCandidates, Rank, StayNearPreviousAnswer
from qa.settings import CALIBRATION_NAME, DEFAULT_MODEL, Settings, learned_dir

log = logging.getLogger(__name__)

MAX_K = 20
# How a question asked after another is read (Engine.ask's ``reading``).
AUTO_READING, ALONE_READING, WITH_PREVIOUS = "auto", "alone", "with_previous"
READINGS_ASKED = (AUTO_READING, ALONE_READING, WITH_PREVIOUS)
ENGINE_THREADS = "briefing-qa-engine"  # the name prefix of the threads that compute answers
RETRY_FAILED_BUILD_S = 300
# Questions asked alone whose answer's place is kept for the follow-ups after them (a few hundred bytes each).
ANSWERED_PLACES_KEPT = 1024
# (index build, question, documents asked)
PlaceKey = tuple[str, str, frozenset[str] | None]


def default_pipeline(settings: Settings, encoder: Encoder, models: Models, calibration: Calibration) -> Pipeline:
    """The engine's stages, in order; a learned stage whose model file is missing is left out."""
    stages: list[Any] = [
        AnalyzeQuestion(),
        EncodeQuestion(encoder),
        Rank(settings.fusion_weights),
        Fuse(settings.rrf_k),
        DemoteMissingNames(settings.name_matching),
        KeepCandidates(),
    ]
    if models.reranker is not None:
        stages.append(LearnedRerank(models.reranker, settings.rerank_depth))
    # Non-learned re-orderings of the re-ranked passages (briefing-qa fit applies them after its re-ranker too).
    stages.append(StayNearPreviousAnswer(settings.previous_section_factor, settings.previous_chunk_factor))
    stages.append(ScoreUnits(settings.unit_scoring))
    if models.unit_selector is not None:
        stages.append(SelectUnits(models.unit_selector))
    extraction = ExtractAnswer(calibration, settings.max_extracts, settings.unit_scoring.second_extract_ratio)
    stages += [extraction, AnswerFirst()]
    return Pipeline(tuple(stages))


# The stages that re-order the re-ranked passages without learning (their names).
AFTER_RERANKING = (StayNearPreviousAnswer.name,)


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
        # Where recent questions asked alone were answered from: a follow-up's question before is
        # mostly one of them (the page asks it just before), and need not be answered again.
        self._answered_places: OrderedDict[PlaceKey, AnswerPlace | None] = OrderedDict()
        self._answered_places_lock = threading.Lock()
        learned = learned_stages_of(settings.model)
        self.calibration = Calibration.load(learned / CALIBRATION_NAME)
        self.models = Models.load(learned)
        self.pipeline = default_pipeline(settings, self.encoder, self.models, self.calibration)
        load_lexicons()
        # A question multiplies one vector by the units' matrix: BLAS threads there only contend with
        # the encoder's threads for the same cores (PIAF's 1,596 units: 3.0 -> 1.0 ms a question).
        # One thread, as faiss's searches.
        threadpool_limits(limits=1, user_api="blas")

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
            fresh = indexing.check(self.settings, self.encoder)
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

    async def ask_async(
        self,
        question: str,
        k: int | None = None,
        previous: str | None = None,
        documents: list[str] | None = None,
        reading: str = AUTO_READING,
    ) -> Reply:
        """ask() for an asyncio server, computed on the engine's own threads."""
        loop = asyncio.get_running_loop()
        ask = functools.partial(self.ask, question, k, previous, documents=documents, reading=reading)
        return await loop.run_in_executor(self._pool, ask)

    def ask(
        self,
        question: str,
        k: int | None = None,
        previous: str | None = None,
        pipeline: Pipeline | None = None,
        documents: list[str] | None = None,
        reading: str = AUTO_READING,
    ) -> Reply:
        """The reply to one question (``previous``: the question before it, for follow-ups);
        ``pipeline``: other stages than the engine's (the benchmark's ablations); ``documents``:
        ask these documents only (their paths, as ``GET /api/documents`` lists them); ``reading``:
        "auto" (a follow-up only when it leans on previous, see qa.query.followup), "alone" or
        "with_previous"."""
        k = self.settings.top_k if k is None else k
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise QuestionError(f"k must be a whole number from 1 to {MAX_K}")
        if not isinstance(question, str):
            raise QuestionError("the question must be text")
        if reading not in READINGS_ASKED:
            raise QuestionError(f"reading must be one of {', '.join(READINGS_ASKED)}")
        text, truncated = clean(question)
        if not text:
            raise QuestionError("the question is empty")
        previous_text = clean(previous)[0] if isinstance(previous, str) else ""
        chosen = _reading(text, previous_text, reading)
        index, documents_asked = self.index, self._documents(documents)  # one snapshot: a reload may swap it

        def work(with_previous: bool) -> Work:
            depth = max(k, self.settings.candidates)
            if not with_previous:
                return Work(index, text, None, truncated, k, depth, documents=documents_asked)
            place = self._previous_place(index, previous_text, documents_asked, pipeline)
            # Among several documents, a follow-up is asked of the one the question before was answered from.
            narrowed = place is not None and len(index.documents) > 1
            asked = frozenset({place.doc}) if place is not None and narrowed else documents_asked
            return Work(
                index,
                text,
                previous_text,
                truncated,
                k,
                depth,
                documents=asked,
                previous_answer=place,
                in_previous_document=narrowed,
            )

        readings = [work(False), work(True)] if chosen == followup.EITHER else [work(chosen == followup.FOLLOW_UP)]
        replies = [self._computed(question, w, pipeline) for w in readings]
        if chosen == followup.ALONE and pipeline is None:
            self._remember_place((str(index.path), text, documents_asked), _place_of(replies[0]))
        # Unclear: the reading the engine is surer of (alone on a tie); the reply names the other one.
        reply = max(replies, key=lambda r: r.confidence)
        leans_on = followup.leaned_on(text, previous_text, bool(reply.interpreted_as))
        if not previous_text:
            return replace(reply, leans_on=leans_on)
        other = WITH_PREVIOUS if not reply.interpreted_as else ALONE_READING
        return replace(reply, other_reading=other, leans_on=leans_on)

    def _previous_place(
        self, index: LoadedIndex, previous: str, documents: frozenset[str] | None, pipeline: Pipeline | None
    ) -> AnswerPlace | None:
        """Where the previous question, asked alone, is answered from; None if declined."""
        key = (str(index.path), previous, documents)
        if pipeline is None:
            with self._answered_places_lock:
                if key in self._answered_places:
                    return self._answered_places[key]
        work = Work(index, previous, None, False, 1, max(1, self.settings.candidates), documents=documents)
        place = _place_of(self._computed(previous, work, pipeline))
        if pipeline is None:
            self._remember_place(key, place)
        return place

    def _remember_place(self, key: PlaceKey, place: AnswerPlace | None) -> None:
        with self._answered_places_lock:
            self._answered_places[key] = place
            self._answered_places.move_to_end(key)
            if len(self._answered_places) > ANSWERED_PLACES_KEPT:
                self._answered_places.popitem(last=False)

    def _documents(self, documents: list[str] | None) -> frozenset[str] | None:
        if documents is None:
            return None
        if not isinstance(documents, list | tuple) or not all(isinstance(d, str) for d in documents):
            raise QuestionError("documents must be a list of document ids")
        unknown = [d for d in documents if d not in self.index.documents]
        if unknown:
            raise QuestionError(f"unknown document: {unknown[0]} (GET /api/documents lists them)")
        if not documents:
            raise QuestionError("documents is empty: leave it out to ask every document")
        return frozenset(documents)

    def _computed(self, question: str, work: Work, pipeline: Pipeline | None) -> Reply:
        """The reply of one reading, computed on the engine's own threads whoever asks: a web server's
        worker threads come and go, and answers computed on them made the server's memory creep (soak
        test, Gradio calls)."""
        if threading.current_thread().name.startswith(ENGINE_THREADS):
            return self._compute(question, work, pipeline)
        return self._pool.submit(self._compute, question, work, pipeline).result()

    def _compute(self, question: str, work: Work, pipeline: Pipeline | None) -> Reply:
        with self._computing:
            with self._in_flight_lock:
                self._in_flight += 1
            try:
                work.all_threads = self._in_flight == 1
                started = time.perf_counter()
                (pipeline or self.pipeline).run(work)
                work.timings["total"] = time.perf_counter() - started
                return self._reply(question, work)
            finally:
                with self._in_flight_lock:
                    self._in_flight -= 1

    def _reply(self, question: str, work: Work) -> Reply:
        """The reply of a question's finished work: the extracts if the confidence clears the threshold."""
        index, answer = work.index, work.answer
        extracts = answer.extracts if answer is not None else ()
        confidence = answer.confidence if answer is not None else 0.0
        answered = bool(extracts) and confidence >= self.settings.abstain_below
        # Sure of its words but holding no number for "Combien ..." (or no date for "Quand ..."): not an answer.
        not_given = kind_not_given(work.query, extracts, self.settings.required_answer_kinds) if answered else ""
        answered = answered and not not_given
        # The passages are ranked the same whether or not the confidence clears the threshold: a
        # reader told the briefing may not answer still sees the closest passage first.
        passages = [_cited(p, index, p.chunk.doc, p.chunk.start) for p in work.passages[: work.k]]
        extracts = tuple(_cited(e, index, e.doc, e.start) for e in extracts)
        notice = f"question shortened to its first {len(work.query.text)} characters" if work.truncated else ""
        return Reply(
            question=question,
            answered=answered,
            answer=extracts if answered else (),
            confidence=round(confidence, 4),
            passages=tuple(passages),
            timings_ms={stage: round(seconds * 1000, 3) for stage, seconds in work.timings.items()},
            notice=notice,
            interpreted_as=work.variants[-1].text if len(work.variants) > 1 else "",
            not_given=not_given,
        )


def learned_stages_of(model: str) -> Path:
    """The folder of the learned stages fitted on this model's features, or the default model's
    (with a warning saying how to fit its own) when none were fitted on it."""
    own = learned_dir(model)
    if (own / CALIBRATION_NAME).is_file():
        return own
    fallback = learned_dir(DEFAULT_MODEL)
    log.warning(
        "no learned stages were fitted on %s: using those fitted on %s, whose scores differ "
        "(run 'briefing-qa fit --model %s' to fit its own into %s)",
        model,
        DEFAULT_MODEL,
        model,
        own,
    )
    return fallback


def _reading(text: str, previous: str, asked: str) -> str:
    """How the question is read after previous: as asked, or (auto) as qa.query.followup decides."""
    if not previous:
        return followup.ALONE
    if asked == AUTO_READING:
        return followup.reading(text, previous)
    return followup.FOLLOW_UP if asked == WITH_PREVIOUS else followup.ALONE


def _place_of(reply: Reply) -> AnswerPlace | None:
    """Where the passage the reply's first extract is quoted from lies; None if declined."""
    if not reply.answered:
        return None
    cited = reply.answer[0].passage  # its citation number: the passage it is quoted from
    if cited > len(reply.passages):
        return None
    chunk = reply.passages[cited - 1].chunk
    return AnswerPlace(chunk.doc, chunk.section_index, chunk.id)


def _cited(item: Any, index: LoadedIndex, doc: str, start: int) -> Any:
    """A passage or an extract with the line (and, in a PDF, the page) it starts on."""
    return replace(item, line=index.line_of(doc, start), page=index.page_of(doc, start))
