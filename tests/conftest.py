"""Shared fixtures: the real model, a real index of the real briefing, built once per session."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa.core.logs import configure
from qa.encode.embedding import Encoder, TorchEncoder, encoder_for, load_encoder
from qa.engine import Engine
from qa.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"
BRIEFING = "chevening-briefing.fr.txt"
BENCHMARKS = PROJECT_ROOT / "benchmarks"
# The bundled question set, split once into a tuning part and a test part (benchmarks/README.md).
QUESTIONS = BENCHMARKS / "briefing" / "tune.jsonl"
TEST_QUESTIONS = BENCHMARKS / "briefing" / "test.jsonl"
PIAF = BENCHMARKS / "piaf-dev"

configure()


def bundled_questions() -> list[str]:
    """The question texts of the bundled benchmark files (tuning part, then test part), in order."""
    lines = [*QUESTIONS.read_text("utf-8").splitlines(), *TEST_QUESTIONS.read_text("utf-8").splitlines()]
    return [json.loads(line)["question"] for line in lines if line.strip()]


@pytest.fixture(scope="session")
def encoder(settings: Settings) -> Encoder:
    """The encoder the app uses by default: the int8 ONNX export, made once in the session's index folder."""
    made = encoder_for(settings)
    assert made.backend == "onnx-int8", "the quantised ONNX path must work with the default model"
    return made


@pytest.fixture(scope="session")
def float_encoder(settings: Settings, encoder: Encoder) -> Encoder:
    """The float ONNX export the int8 one was quantised from (same folder, already made)."""
    return load_encoder(settings.model, "onnx", settings.encoder_dir)


@pytest.fixture(scope="session")
def torch_encoder(settings: Settings) -> TorchEncoder:
    return TorchEncoder(settings.model, settings.encoder_dir)


@pytest.fixture(scope="session")
def briefing_text() -> str:
    return (CORPUS / BRIEFING).read_bytes().decode("utf-8")


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.fixture(scope="session")
def settings(index_dir: Path) -> Settings:
    return Settings.from_env({}, corpus_dir=CORPUS, index_dir=index_dir)


@pytest.fixture(scope="session")
def engine(settings: Settings, encoder: Encoder) -> Engine:
    return Engine(settings, encoder=encoder)


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """A copy of the briefing in its own folder, free to edit."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / BRIEFING, corpus / BRIEFING)
    return corpus
