"""The confidence model: logistic regression over answer-evidence features, fitted on questions.

``briefing-qa fit`` fits it on answerable questions and natural out-of-scope ones (questions
about other documents), on the features of held-out answers, and writes
``qa/models/learned/<model>/calibration.json``
with its cross-validated figures; the engine reads that file. The probability it gives
is "the briefing answers this question", so the abstention threshold (0.5 by default) has a
plain meaning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from qa.retrieve.learned import logistic


@dataclass(frozen=True)
class Calibration:
    FEATURES: ClassVar[tuple[str, ...]] = (
        "passage_score",
        "passage_margin",
        "unit_score",
        "unit_margin",
        "passage_words",
        "passage_grams",
        "unit_dense",
        "unit_words",
        "unknown_share",
        "unknown_names",
        "stand_in_share",
        "english",
        "english_x_dense",
    )
    weights: tuple[float, ...]
    bias: float
    fitted_on: str = "uncalibrated defaults"

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in zip(self.FEATURES, self.weights, strict=True))
        return logistic(z)

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            data = json.loads(path.read_text("utf-8"))
            if tuple(data["features"]) != cls.FEATURES:
                raise ValueError("feature list changed")
            return cls(tuple(float(w) for w in data["weights"]), float(data["bias"]), data.get("fitted_on", ""))
        except (OSError, ValueError, KeyError):
            return cls.unfitted()

    @classmethod
    def unfitted(cls) -> Calibration:
        """Before any fit: evidence is mostly "the question's words are in the passage"."""
        return cls(weights=(1.0, 1.0, 2.0, 1.0, 4.0, 2.0, 2.0, 2.0, -4.0, -2.0, -2.0, 0.0, 2.0), bias=-4.0)

    def save(self, path: Path) -> None:
        data = {
            "features": list(self.FEATURES),
            "weights": list(self.weights),
            "bias": self.bias,
            "fitted_on": self.fitted_on,
        }
        path.write_text(json.dumps(data, indent=2) + "\n", "utf-8")


def new_model() -> Any:
    from sklearn.linear_model import LogisticRegression

    # Balanced classes: out-of-scope questions are the minority but abstaining wrongly matters as much.
    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)


def feature_matrix(rows: list[dict[str, float]]) -> Any:
    import numpy as np

    return np.array([[row[name] for name in Calibration.FEATURES] for row in rows], dtype=float)


def fit(
    rows: list[dict[str, float]], labels: list[bool], fitted_on: str, weights: list[float] | None = None
) -> Calibration:
    """Fit a regularised logistic regression (scikit-learn) on feature rows and answerable labels."""
    model = new_model().fit(feature_matrix(rows), [int(label) for label in labels], sample_weight=weights)
    return Calibration(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]), fitted_on)
