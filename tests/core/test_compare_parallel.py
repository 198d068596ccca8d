"""Parallel coordinates cover one family or one study at a time, with readable axes (issue 20 item 5)."""

from __future__ import annotations

import numpy as np
import pytest

from core.compare import runs
from core.compare.figures import MAX_AXES, parallel_figure
from core.tracking import RunSummary


def _trial(i: int, family: str, params: dict[str, str], study: str) -> RunSummary:
    return RunSummary(f"{family}{i}", f"trial {i}", "tune", "FINISHED", i, i + 1, ("d1",),
                      {"family": family, **params}, {"accuracy": 0.5 + i / 100},
                      {"workbench.family": family, "optuna.study_name": study})


def _frame():  # noqa: ANN202
    rf = [_trial(i, "rf", {"n_estimators": str(10 + i), "max_depth": str(2 + i % 3)}, "rf-study") for i in range(6)]
    lin = [_trial(i, "linear", {"C": str(10.0 ** (i - 3))}, "lin-study") for i in range(4)]
    return runs.runs_frame([*rf, *lin])


def test_groups_are_families_and_studies_largest_first() -> None:
    groups = runs.chart_groups(_frame())
    assert list(groups) == ["family rf (6 runs)", "study rf-study (6 runs)", "family linear (4 runs)",
                            "study lin-study (4 runs)"]
    rf = runs.group_runs(_frame(), groups["family rf (6 runs)"])
    assert set(rf["family"]) == {"rf"} and len(rf) == 6
    assert list(runs.numeric_params(rf).columns) == ["max_depth", "n_estimators"]  # no empty C axis
    assert len(runs.group_runs(_frame(), ("study", "lin-study"))) == 4


def test_axes_are_few_short_and_log_scaled_when_wide() -> None:
    frame = _frame()
    lin = runs.group_runs(frame, ("family", "linear"))
    fig = parallel_figure(runs.numeric_params(lin), lin["metrics.accuracy"], "accuracy", title="family linear")
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["log₁₀ C", "accuracy"]
    assert np.allclose(sorted(dims[0].values), [-3, -2, -1, 0])  # C from 0.001 to 1 on a log axis

    import pandas as pd

    wide = pd.DataFrame({f"model__a_very_long_parameter_name_{i}": np.arange(5) * (i + 1) for i in range(12)})
    fig = parallel_figure(wide, pd.Series(np.linspace(0, 1, 5)), "f1_macro")
    labels = [d.label for d in fig.data[0].dimensions]
    assert len(labels) == MAX_AXES + 1 and all(len(label) <= 18 for label in labels)
    assert len(set(labels)) == len(labels)  # cut names stay tell-apart (both ends kept)
    assert not any(label.startswith("model__") for label in labels)


@pytest.mark.parametrize("column", ["family", runs.STUDY_COLUMN])
def test_a_group_needs_two_runs(column: str) -> None:
    one = runs.runs_frame([_trial(0, "rf", {"n_estimators": "5"}, "s")])
    assert runs.chart_groups(one) == {}


def test_the_chart_is_coloured_by_a_metric_its_runs_carry() -> None:
    import pandas as pd

    from core.compare.runs import chart_metric

    # a study's trials carry cv_accuracy; best_cv_accuracy (the sort metric) is on the parent run only
    trials = pd.DataFrame({"metrics.cv_accuracy": [0.8, 0.9, 0.85], "metrics.best_cv_accuracy": [None, None, None]})
    metrics = ["best_cv_accuracy", "cv_accuracy", "fit_seconds"]
    assert chart_metric(trials, metrics, "best_cv_accuracy") == "cv_accuracy"
    assert chart_metric(trials, metrics, "cv_accuracy") == "cv_accuracy"
    one = trials.assign(**{"metrics.best_cv_accuracy": [0.9, 0.8, None]})
    assert chart_metric(one, metrics, "best_cv_accuracy") == "best_cv_accuracy"  # two runs carry it: kept
    nothing = pd.DataFrame({"metrics.cv_accuracy": [0.8, None]})
    assert chart_metric(nothing, metrics, "best_cv_accuracy") == "best_cv_accuracy"  # none drawable: say why
