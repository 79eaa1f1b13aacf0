"""The confidence model: fitting, and the leave-one-out estimate that --calibrate reports."""

from __future__ import annotations

import pytest

from qa.calibration import Calibration, cross_validated, fit


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


def test_leave_one_out_on_separable_questions_is_perfect() -> None:
    rates = cross_validated(ANSWERABLE + OUT_OF_SCOPE, [True] * 12 + [False] * 6, threshold=0.5)
    assert rates == {"oos_abstention": 1.0, "false_abstention": 0.0}


def test_leave_one_out_shows_what_fitting_on_the_same_questions_hides() -> None:
    # An out-of-scope question that looks answered: judged by a model fitted without it, it is answered.
    rows = ANSWERABLE + OUT_OF_SCOPE + [_row(0.85)]
    labels = [True] * 12 + [False] * 7
    rates = cross_validated(rows, labels, threshold=0.5)
    assert rates["oos_abstention"] == pytest.approx(6 / 7, abs=1e-3)
    assert rates["false_abstention"] == 0.0


def test_leave_one_out_needs_both_kinds_of_question() -> None:
    with pytest.raises(ValueError, match="both"):
        cross_validated(ANSWERABLE, [True] * 12, threshold=0.5)
