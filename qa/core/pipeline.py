"""The pipeline's shape: one question's work, the one interface every stage has, and their list.

A stage does one job: it reads what the stages before it wrote on the question's ``Work`` and
writes its own part. The engine runs a ``Pipeline``, a list of stages; the benchmark measures
what each adds by running the list without it.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Shout:
...     name: str = "shout"
...     timing: str = "analyze"
...     def run(self, work): work.text = work.text.upper()
>>> pipeline = Pipeline((Shout(),))
>>> pipeline.without("shout").names()
[]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from qa.answer.extraction import Answer, ScoredUnit
    from qa.core.model import Passage
    from qa.index.indexing import LoadedIndex
    from qa.query.analysis import Query

# The reply's timings, in pipeline order; every stage's time is counted under one of them.
TIMINGS = ("analyze", "encode", "rank", "fuse", "extract")


class Stage(Protocol):
    """One job of the pipeline: ``run`` reads and writes the question's ``Work``."""

    name: str  # what the benchmark's ablations and ``Pipeline.without`` call it
    timing: str  # the reply's timing (one of TIMINGS) its time is counted under

    def run(self, work: Work) -> None: ...


@runtime_checkable
class HasParts(Protocol):
    """A stage made of named parts (the question's expanders, the rankers): each can be left out."""

    def parts(self) -> tuple[str, ...]: ...

    def without(self, name: str) -> Stage: ...


class AnswerPlace(NamedTuple):
    """Where an answer was quoted from: its document, its section's index there, its chunk's id."""

    doc: str
    section: int
    chunk: int


@dataclass
class Work:
    """One question on its way through the stages; each field is written by one stage."""

    index: LoadedIndex  # one snapshot per question: a reload may swap the engine's index meanwhile
    text: str  # the cleaned question
    previous: str | None  # the previous question, cleaned, for a follow-up
    truncated: bool  # the question was longer than the analysis reads
    k: int  # passages cited
    depth: int  # candidates kept after fusion
    all_threads: bool = False  # alone: the encoder may use every core
    documents: frozenset[str] | None = None  # asked of these documents only (None: all of them)
    # A follow-up: where the question before was answered from, if it was.
    previous_answer: AnswerPlace | None = None
    # A follow-up asked of the one document, among several, the question before was answered from:
    # that document's subject is what its pronouns stand for.
    in_previous_document: bool = False
    # AnalyzeQuestion: the question asked now, then (a follow-up) the question read with the one before.
    variants: list[Query] = field(default_factory=list)
    vectors: np.ndarray | None = None  # EncodeQuestion: one row per variant
    rankings: dict[str, np.ndarray] = field(default_factory=dict)  # Rank: each ranker's chunk ids, best first
    ranking_weights: dict[str, float] = field(default_factory=dict)
    fused: list[tuple[int, float, dict[str, int]]] = field(default_factory=list)  # Fuse: (chunk id, score, ranks)
    passages: list[Passage] = field(default_factory=list)
    units: list[ScoredUnit] = field(default_factory=list)  # the units of the top passages, best first
    answer: Answer | None = None
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TIMINGS, 0.0))

    @property
    def query(self) -> Query:
        """The question asked now (its words pick the extract)."""
        return self.variants[0]

    @property
    def query_vector(self) -> np.ndarray:
        """With a follow-up, meaning comes from the whole exchange: the last variant's vector."""
        assert self.vectors is not None
        return self.vectors[-1]


@dataclass(frozen=True)
class Pipeline:
    stages: tuple[Stage, ...]

    def run(self, work: Work) -> Work:
        for stage in self.stages:
            started = time.perf_counter()
            stage.run(work)
            work.timings[stage.timing] += time.perf_counter() - started
        return work

    def names(self) -> list[str]:
        """Every stage's name, and every part's of the stages that have parts."""
        names = []
        for stage in self.stages:
            names.append(stage.name)
            if isinstance(stage, HasParts):
                names.extend(stage.parts())
        return names

    def without(self, name: str) -> Pipeline:
        """The same list without the stage, or the stage's part, called ``name``."""
        if name not in self.names():
            raise KeyError(f"no stage or part named {name!r}: {', '.join(self.names())}")
        kept = []
        for stage in self.stages:
            if stage.name == name:
                continue
            kept.append(stage.without(name) if isinstance(stage, HasParts) and name in stage.parts() else stage)
        return Pipeline(tuple(kept))

    def replace(self, name: str, stage: Stage) -> Pipeline:
        """The same list with the stage called ``name`` swapped for ``stage``."""
        at = self._position(name)
        return Pipeline((*self.stages[:at], stage, *self.stages[at + 1 :]))

    def insert_before(self, name: str, stage: Stage) -> Pipeline:
        """The same list with ``stage`` run just before the stage called ``name``."""
        at = self._position(name)
        return Pipeline((*self.stages[:at], stage, *self.stages[at:]))

    def until(self, name: str) -> Pipeline:
        """The stages before the one called ``name``."""
        return Pipeline(self.stages[: self._position(name)])

    def stage(self, name: str) -> Any:
        return self.stages[self._position(name)]

    def _position(self, name: str) -> int:
        for position, stage in enumerate(self.stages):
            if stage.name == name:
                return position
        raise KeyError(f"no stage named {name!r}")
