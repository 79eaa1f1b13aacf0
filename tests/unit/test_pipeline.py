"""The pipeline as a list of stages: leaving one out, or one part of one, changes what the engine does."""

from __future__ import annotations

import pytest

from qa.core.pipeline import Pipeline, Work
from qa.engine import Engine
from qa.query.analysis import ANALYSIS_PARTS, AnalyzeQuestion
from qa.retrieve.retrieval import Rank


def test_the_engine_runs_its_stages_in_pipeline_order(fixture_engine: Engine) -> None:
    names = [stage.name for stage in fixture_engine.pipeline.stages]
    assert names[:6] == ["analysis", "encoding", "ranking", "fusion", "question_names", "candidates"]
    assert names[-2:] == ["extraction", "answer_first"]
    assert names.index("reranker") < names.index("unit_scoring") < names.index("unit_selector")


def test_without_drops_a_stage_or_a_part_and_nothing_else(fixture_engine: Engine) -> None:
    full = fixture_engine.pipeline
    no_first = full.without("answer_first")
    assert "answer_first" not in no_first.names() and len(no_first.stages) == len(full.stages) - 1
    no_spelling = full.without("spelling")
    assert no_spelling.stage("analysis").parts() == tuple(p for p in ANALYSIS_PARTS if p != "spelling")
    assert len(no_spelling.stages) == len(full.stages)
    no_dense = full.without("dense")
    assert "dense" not in dict(no_dense.stage("ranking").weights)
    assert full.stage("analysis") == AnalyzeQuestion()  # the original is untouched
    with pytest.raises(KeyError, match="no stage or part named 'nothing'"):
        full.without("nothing")


def test_a_part_left_out_is_not_applied(fixture_engine: Engine) -> None:
    question = "Quand a lieu le déménagement ?"
    full = Pipeline(fixture_engine.pipeline.stages[:1])
    work = Work(fixture_engine.index, question, None, False, k=3, depth=10)
    full.run(work)
    assert work.query.answer_type is not None and work.query.answer_type.kind == "time"
    bare = full.without("answer_types")
    work = Work(fixture_engine.index, question, None, False, k=3, depth=10)
    bare.run(work)
    assert work.query.answer_type is None


def test_a_stage_s_time_is_counted_under_its_timing(fixture_engine: Engine) -> None:
    reply = fixture_engine.ask("Qui coordonne les opérations ?")
    assert set(reply.timings_ms) == {"analyze", "encode", "rank", "fuse", "extract", "total"}
    assert all(value >= 0 for value in reply.timings_ms.values())
    assert reply.timings_ms["total"] >= reply.timings_ms["rank"]


def test_a_single_ranker_pipeline_ranks_with_that_ranker_only(fixture_engine: Engine) -> None:
    lexical = fixture_engine.pipeline.replace("ranking", Rank((("words", 1.0),)))
    reply = fixture_engine.ask("Qui coordonne les opérations ?", pipeline=lexical)
    assert reply.passages and all(set(p.ranks) == {"words"} for p in reply.passages)


def test_a_follow_up_without_a_word_of_its_own_takes_the_words_before_and_keeps_its_kind(
    fixture_engine: Engine,
) -> None:
    work = Work(fixture_engine.index, "Par qui ?", "Quand est voté le budget ?", False, k=3, depth=10)
    Pipeline(fixture_engine.pipeline.stages[:1]).run(work)
    asked, joined = work.variants
    assert asked.text == "Par qui ?" and asked.words == joined.words and "budget" in asked.words
    assert (asked.kind, joined.kind) == ("who", "when")


@pytest.mark.parametrize(
    ("question", "in_previous_document", "judged_with_words_before"),
    [
        ("Qui la dirige ?", False, True),  # "la" stands for words of the question before
        ("Qui la dirige ?", True, False),  # within the document answered from, its subject is the topic
        ("Et le calendrier ?", False, False),  # names what it asks instead
    ],
)
def test_a_pronoun_follow_up_is_judged_with_the_words_it_stands_for(
    fixture_engine: Engine, question: str, in_previous_document: bool, judged_with_words_before: bool
) -> None:
    previous = "Qui coordonne les opérations du déménagement ?"
    work = Work(
        fixture_engine.index, question, previous, False, k=3, depth=10, in_previous_document=in_previous_document
    )
    Pipeline(fixture_engine.pipeline.stages[:1]).run(work)
    asked, joined = work.variants
    assert asked.text == question and joined.text == f"{previous} {question}"
    assert ("coordon" in " ".join(asked.words)) == judged_with_words_before
    assert (asked.words == joined.words) == judged_with_words_before
