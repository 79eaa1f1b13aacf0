"""Fixtures of the fast tests: a tiny corpus written for them, indexed with a real FAISS and BM25 index.

No model is loaded: the vectors come from a hashing encoder (scikit-learn's HashingVectorizer over
character n-grams), deterministic and instant, so these tests run in seconds and never touch the
briefing. What they check (offsets, structure, stages, the reply) does not depend on the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from qa.engine import Engine
from qa.settings import Settings

FIXTURE_CORPUS = Path(__file__).parent / "fixtures" / "corpus"
NOTE = "note-demenagement.md"
BUDGET = "budget-2025.txt"


class HashingEncoder:
    """L2-normalised hashed character n-grams: an Encoder with no model behind it."""

    model_name = "hashing-char-ngrams"
    backend = "hashing"
    dimension = 384

    def __init__(self) -> None:
        self.vectorizer = HashingVectorizer(
            n_features=self.dimension, analyzer="char_wb", ngram_range=(3, 4), alternate_sign=False, norm="l2"
        )

    def encode(
        self,
        texts: list[str],
        *,
        role: str,
        batch_size: int = 64,
        show_progress: bool = False,
        all_threads: bool = True,
    ) -> np.ndarray:
        assert role in ("query", "passage"), role
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.vectorizer.transform(texts).toarray().astype(np.float32)


@pytest.fixture(scope="session")
def fixture_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    index_dir = tmp_path_factory.mktemp("fixture-index")
    return Settings.from_env({}, corpus_dir=FIXTURE_CORPUS, index_dir=index_dir, model=HashingEncoder.model_name)


@pytest.fixture(scope="session")
def fixture_engine(fixture_settings: Settings) -> Engine:
    return Engine(fixture_settings, encoder=HashingEncoder())


@pytest.fixture(scope="session")
def fixture_texts() -> dict[str, str]:
    return {path.name: path.read_text("utf-8") for path in sorted(FIXTURE_CORPUS.iterdir())}
