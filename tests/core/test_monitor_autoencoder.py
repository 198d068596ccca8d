"""Autoencoder drift: a broken joint structure is caught, clean splits rarely alarm, small references are refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import MonitorError
from core.monitor.autoencoder import MIN_REFERENCE_ROWS, autoencoder_check, fit_autoencoder
from core.monitor.check import run_check


def _table(n: int, seed: int, *, broken: bool = False) -> pd.DataFrame:
    """Four numbers, three of them tied together; ``broken`` keeps every marginal and cuts the ties."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    a = z[:, 0]
    b = 0.8 * z[:, 0] + 0.6 * z[:, 1]
    c = z[:, 1] - 0.5 * z[:, 0]
    if broken:  # same distribution per column (b is still N(0, 1)), no longer tied to a
        b = rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "c": c, "d": rng.normal(size=n), "kind": rng.choice(["x", "y"], n)})


def test_a_broken_correlation_is_detected_and_names_its_columns() -> None:
    result = autoencoder_check(_table(800, 0), _table(400, 1, broken=True))
    assert result.drifted and result.p_value < 0.05 and result.share > 0.05
    # the error rises in the tied columns (the network rebuilt a and c from the b it no longer matches)
    assert result.top_columns[0][0] in {"a", "b", "c"} and result.top_columns[0][1] > 0.5
    assert result.columns == ("a", "b", "c", "d")  # numeric columns only


def test_false_alarm_rate_over_20_clean_random_splits_is_at_most_10_percent() -> None:
    alarms = 0
    for seed in range(20):
        table = _table(1000, seed)
        order = np.random.default_rng(100 + seed).permutation(len(table))
        result = autoencoder_check(table.iloc[order[:600]], table.iloc[order[600:]])
        alarms += result.drifted
    assert alarms / 20 <= 0.10


def test_the_threshold_comes_from_reference_rows_the_network_did_not_see() -> None:
    ref = _table(400, 3)
    ae = fit_autoencoder(ref)
    # half the rows set the threshold: about 5 % of them (at most, the conformal quantile) lie above it
    errors = ae.errors(ref).mean(axis=1)
    assert 0.0 < ae.threshold < errors.max()
    assert ae.check(ref).n_rows == 400


@pytest.mark.parametrize(("frame", "needle"), [
    (_table(MIN_REFERENCE_ROWS - 1, 4), "at least 100 reference rows"),
    (_table(300, 5)[["a", "kind"]], "at least two numeric columns"),
])
def test_too_little_to_learn_from_is_refused_with_a_sentence(frame, needle) -> None:
    with pytest.raises(MonitorError, match=needle):
        fit_autoencoder(frame)


def test_run_check_reports_the_autoencoder_and_notes_a_small_reference() -> None:
    result = run_check(_table(600, 6), _table(300, 7, broken=True))
    assert result.autoencoder is not None and result.to_dict()["autoencoder"]["drifted"] is True
    small = run_check(_table(60, 8), _table(60, 9))
    assert small.autoencoder is None
    assert any(n.startswith("The autoencoder check was not run: The autoencoder check needs at least 100")
               for n in small.notes)
