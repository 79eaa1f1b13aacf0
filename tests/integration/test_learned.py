"""The learned stages: model files, their loading, the question kinds, re-ranking, and their use by the engine."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import lightgbm
import numpy as np
import pytest

from qa.core.model import Chunk, Passage
from qa.engine import Engine
from qa.query.answer_types import question_kind
from qa.retrieve.learned import (
    PASSAGE_FEATURES,
    UNIT_FEATURES,
    LearnedModel,
    new_tokens,
    rerank,
)
from qa.settings import DEFAULT_MODEL, RERANKER_NAME, UNIT_SELECTOR_NAME, Settings, learned_dir


def _tiny_model(features: tuple[str, ...]) -> LearnedModel:
    rng = np.random.default_rng(0)
    x = rng.random((200, len(features)))
    y = (x[:, 0] > 0.5).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "min_data_in_leaf": 5}
    booster = lightgbm.train(params, lightgbm.Dataset(x, label=y), num_boost_round=10)
    return LearnedModel.from_booster("tiny", features, booster, fitted_on="random rows")


@pytest.mark.parametrize(("name", "features"), [(RERANKER_NAME, PASSAGE_FEATURES), (UNIT_SELECTOR_NAME, UNIT_FEATURES)])
def test_shipped_models_read_this_codes_features_and_say_what_they_were_fitted_on(
    name: str, features: tuple[str, ...]
) -> None:
    path = learned_dir(DEFAULT_MODEL) / name
    model = LearnedModel.load(path, features)
    assert model is not None, f"{path.name} is stale: run briefing-qa fit"
    assert "piaf" in model.fitted_on and "grouped by document" in model.fitted_on
    assert 0.0 < model.cross_validated["piaf"]["hit@1"] <= 1.0
    assert 0.0 < model.cross_validated["briefing"]["extract_accuracy"] <= 1.0
    # Fitted on questions as readers ask them too, reported apart.
    assert "readers-briefing" in model.fitted_on and "readers' questions weighted" in model.fitted_on
    assert 0.0 < model.cross_validated["readers-piaf"]["hit@1"] <= 1.0
    assert max(int(f) for tree in model.trees for f in tree["feature"]) < len(features)


@pytest.mark.parametrize(
    ("objective", "leaves"), [("binary", 15), ("lambdarank", 15), ("regression", 15), ("binary", 4), ("regression", 40)]
)
def test_trees_evaluated_with_numpy_equal_lightgbm_s_own_predictions(objective: str, leaves: int) -> None:
    """Trees of up to 8, 16 and 64 leaves are evaluated with words of as many bits."""
    rng = np.random.default_rng(3)
    x = rng.random((600, 6))
    x[:, 2] = np.round(x[:, 2] * 3)  # ties on thresholds, as counts and one-hot features have
    y = (x[:, 0] + x[:, 2] / 3 > 0.9).astype(int)
    params = {"objective": objective, "verbose": -1, "num_threads": 1, "min_data_in_leaf": 5, "num_leaves": leaves}
    data = lightgbm.Dataset(x, label=y, group=[30] * 20 if objective == "lambdarank" else None)
    booster = lightgbm.train(params, data, num_boost_round=40)
    model = LearnedModel.from_booster("t", tuple("abcdef"), booster)
    rows = np.vstack([rng.random((200, 6)), x[:50]]).astype(np.float32)
    np.testing.assert_allclose(model.predict(rows), booster.predict(rows, raw_score=True), rtol=0, atol=1e-9)


def test_the_server_path_does_not_import_lightgbm(settings: Settings, engine: Engine) -> None:
    code = (
        "import sys; from qa.settings import Settings; from qa.engine import Engine; "
        "Engine(Settings.from_env({})).ask('Qui mène la réunion ?'); print('lightgbm' in sys.modules)"
    )
    environment = {**os.environ, **settings.to_env()}  # the session's index, already built
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True, env=environment
    )
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_a_model_round_trips_through_its_json_file(tmp_path: Path) -> None:
    model = _tiny_model(("a", "b", "c"))
    path = tmp_path / "m.json"
    model.save(path)
    loaded = LearnedModel.load(path, ("a", "b", "c"))
    rows = np.random.default_rng(1).random((7, 3))
    assert loaded is not None and loaded.fitted_on == "random rows"
    np.testing.assert_allclose(loaded.predict(rows), model.predict(rows))
    assert json.loads(path.read_text("utf-8"))["trees"]  # JSON text, not a pickle


def test_a_missing_or_stale_model_is_not_used_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "m.json"
    _tiny_model(("a", "b", "c")).save(path)
    with caplog.at_level(logging.WARNING):
        assert LearnedModel.load(path, ("a", "b", "d")) is None
        assert LearnedModel.load(tmp_path / "none.json", ("a",)) is None
    assert "features differ" in caplog.text and "briefing-qa fit" in caplog.text


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("En quelle année la ville est-elle fondée ?", "when"),
        ("Le club compte combien de joueurs", "how_many"),
        ("ou se trouve le port?", "where"),
        ("Qu’est-ce que la photosynthèse ?", "what"),
        ("Quelle est la capitale ?", "which"),
        ("Pourquoi le pont a-t-il été fermé ?", "why"),
        ("Parle-moi du traité", None),
    ],
)
def test_question_kind_reads_the_first_interrogative(question: str, kind: str | None) -> None:
    assert question_kind(question) == kind


def test_new_tokens_count_numbers_and_names_the_question_does_not_write() -> None:
    text = "En 1905, Albert Einstein publie quatre articles à Berne."
    assert new_tokens(text, {"einstein"}) == (1, 2)  # 1905; Albert, Berne ("En" opens the text)


def _passage(cid: int, rank: int, score: float) -> Passage:
    chunk = Chunk(cid, "d.txt", cid * 10, cid * 10 + 5, "texte", "", 0, "paragraph", (), "texte")
    return Passage(chunk=chunk, rank=rank, score=score)


def test_rerank_orders_by_the_models_scores_and_keeps_the_rest_below() -> None:
    fused = [_passage(i, i + 1, 1.0 - 0.1 * i) for i in range(5)]
    reranked = rerank(fused, np.array([0.1, 2.0, -1.0]))
    assert [p.chunk.id for p in reranked] == [1, 0, 2, 3, 4]
    assert [p.rank for p in reranked] == [1, 2, 3, 4, 5]
    scores = [p.score for p in reranked]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)


def test_engine_uses_the_learned_stages_and_each_can_be_removed(engine: Engine) -> None:
    assert engine.models.reranker is not None and engine.models.unit_selector is not None
    question = "Combien de temps dure la rencontre ?"
    full = engine.ask(question, k=10)
    fused = engine.ask(question, k=10, pipeline=engine.pipeline.without("reranker"))
    hand = engine.ask(question, k=10, pipeline=engine.pipeline.without("unit_selector"))
    assert [p.score for p in full.passages] != [p.score for p in fused.passages]
    assert full.confidence != hand.confidence or full.answer != hand.answer
    text = engine.index.documents
    for reply in (full, fused, hand):
        for extract in reply.answer:
            assert text[extract.doc][extract.start : extract.end] == extract.text
