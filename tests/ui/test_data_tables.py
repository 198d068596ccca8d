"""AppTest of the Data page's tables (issue 20.2): whole names, '—' for statistics a text column has not,
Column detail without blank rows, and a version comparison that says its numbers are missing shares."""

from __future__ import annotations

import numpy as np

from tests.tune_data import penguins, save_version
from tests.ui.conftest import app_test
from ui.data import TAB


def _open_penguins(at):  # noqa: ANN001, ANN202
    at.selectbox(key="data_bundled").set_value(next(o for o in at.selectbox(key="data_bundled").options
                                                    if "enguin" in o))
    at.button(key="data_open_bundled").click().run()
    assert not at.exception, at.exception
    return at


def test_profile_columns_show_full_names_and_a_dash_for_text_statistics(settings) -> None:  # noqa: ANN001
    at = _open_penguins(app_test("pages/data.py").run())
    columns = next(d.value for d in at.dataframe if "most frequent" in d.value.columns)
    assert {"bill_length_mm", "flipper_length_mm", "species"} <= set(columns["column"])  # names in full
    species = columns[columns["column"] == "species"].iloc[0]
    assert species[["min", "max", "mean", "std"]].isna().all()  # drawn as the grid's placeholder "—"
    flipper = columns[columns["column"] == "flipper_length_mm"].iloc[0]
    assert flipper["min"] == "172" and flipper["mean"].replace(",", "").replace(".", "").isdigit()
    texts = [v for v in columns.to_numpy().ravel() if isinstance(v, str)]
    assert not any(v.lower() in ("nan", "none") for v in texts)  # a missing statistic is missing, drawn as "—"
    detail = next(d.value for d in at.dataframe if list(d.value.columns) == ["statistic", "value"])
    assert detail["value"].notna().all() and len(detail) >= 4  # as many rows as statistics: none blank


def test_version_comparison_says_it_compares_missing_shares(settings, tracker) -> None:  # noqa: ANN001
    frame = penguins(120)
    save_version(tracker, "default", frame, name="penguins")
    holes = frame.copy()
    holes.loc[holes.index[:30], "bill_length_mm"] = np.nan
    save_version(tracker, "default", holes, name="penguins")
    at = _open_penguins(app_test("pages/data.py").run())
    at.session_state[TAB] = "Versions"  # only the open tab runs
    at.run().button(key="data_cmp_go").click().run()
    assert not at.exception, at.exception
    said = " ".join(m.value for m in at.markdown)
    assert "share of missing cells" in said
    shares = next(d.value for d in at.dataframe if "change (b − a)" in d.value.columns)
    assert any(c.startswith("missing in penguins") for c in shares.columns), list(shares.columns)
    row = shares[shares["column"] == "bill_length_mm"].iloc[0]
    assert abs(abs(row["change (b − a)"]) - 0.25) < 1e-9  # 30 of 120 cells


def _vega_charts(at) -> list:  # noqa: ANN001
    def walk(node):  # noqa: ANN001, ANN202
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return [n for n in walk(at._tree) if getattr(n, "type", "") == "vega_lite_chart"]


def test_profile_charts_are_vega_lite_and_the_heat_map_colours_by_the_size_of_r(settings) -> None:  # noqa: ANN001
    import json

    import pyarrow as pa

    at = _open_penguins(app_test("pages/data.py").run())
    assert not at.get("plotly_chart")  # Plotly's script is the heaviest a browser loads (bench_load)
    marks = [json.loads(c.proto.spec)["mark"] for c in _vega_charts(at)]
    charts = {m if isinstance(m, str) else m["type"]: c for m, c in zip(marks, _vega_charts(at), strict=True)}
    assert set(charts) == {"bar", "rect"}  # the column detail and the correlation heat map
    heat = charts["rect"]
    assert json.loads(heat.proto.spec)["encoding"]["color"]["field"] == "abs_r"
    cells = pa.ipc.open_stream(heat.proto.data.data).read_pandas()
    assert (cells["r"] < 0).any()  # bill length and depth are negatively correlated …
    assert (cells["abs_r"] == cells["r"].abs()).all() and cells["abs_r"].between(0, 1).all()  # … and drawn by |r|
