"""The confidence model: fitting and loading."""

from __future__ import annotations

from qa.answer.confidence import Calibration, fit


def _row(evidence: float) -> dict[str, float]:
    """A feature row whose every evidence feature is ``evidence`` (0: nothing matches, 1: all does)."""
    return {name: evidence for name in Calibration.FEATURES if not name.startswith("unknown")} | {
        "unknown_share": 1.0 - evidence,
        "unknown_names": 0.0,
        "english": 0.0,
        "english_x_dense": 0.0,
    }


ANSWERABLE = [_row(0.7 + 0.02 * i) for i in range(12)]
OUT_OF_SCOPE = [_row(0.05 + 0.02 * i) for i in range(6)]


def test_fitted_model_separates_clear_cases() -> None:
    model = fit(ANSWERABLE + OUT_OF_SCOPE, [True] * 12 + [False] * 6, fitted_on="hand-made")
    assert model.probability(_row(0.9)) > 0.5 > model.probability(_row(0.1))
    assert model.fitted_on == "hand-made"
