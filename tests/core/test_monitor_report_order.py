"""Every drift table lists drifted columns first: Monitor's own table and the embedded Evidently report."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.monitor.drift import ColumnDrift, DriftSummary
from core.monitor.evidently_report import build_evidently_report, drifted_first


def test_the_evidently_drift_table_lists_the_drifted_column_first() -> None:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "z": rng.normal(size=300)})
    cur = ref.assign(z=rng.normal(3, 1, 300))  # only z drifts; Evidently alone would list a, b, z
    html = build_evidently_report(ref, cur).html
    rows = re.findall(r'"column_name": "([abz])", "column_type"', html)
    assert rows[0] == "z" and sorted(rows) == ["a", "b", "z"]


def test_drifted_first_keeps_everything_else_and_leaves_odd_html_alone() -> None:
    html = ('<p>x</p><script>var metric_ab12 = {"widgets": [{"type": "big_table", "params": {"data": ['
            '{"column_name": "a", "data_drift": "Not Detected"}, {"column_name": "b", "data_drift": "Detected"}, '
            '{"column_name": "c", "data_drift": "Detected"}]}}]};</script><p>y</p>')
    out = drifted_first(html)
    assert re.findall(r'"column_name": "(\w)"', out) == ["b", "c", "a"]  # stable inside each group
    assert out.startswith("<p>x</p><script>var metric_ab12 = {") and out.endswith("};</script><p>y</p>")
    assert drifted_first("<p>no report</p>") == "<p>no report</p>"
    assert drifted_first("<script>var metric_x = {broken</script>") == "<script>var metric_x = {broken</script>"


def test_monitor_column_table_lists_drifted_columns_first() -> None:
    from ui.monitor_render import columns_frame

    cols = (ColumnDrift("a", "numeric", "ks", 0.5, 0.05, False), ColumnDrift("b", "numeric", "ks", 0.01, 0.05, True),
            ColumnDrift("c", "numeric", "ks", 0.2, 0.05, False), ColumnDrift("d", "numeric", "ks", 0.001, 0.05, True))
    frame = columns_frame(DriftSummary(True, 0.5, 2, cols))
    assert list(frame["column"]) == ["b", "d", "a", "c"] and list(frame["drift"]) == ["DRIFT", "DRIFT", "ok", "ok"]
