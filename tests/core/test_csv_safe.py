"""CSV formula injection (OWASP): text cells starting with = + - @ tab CR get a leading ', numbers never change."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from core.data.csv_safe import FORMULA_START, escape_formulas, write_csv


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "amount": [-3, 4, -0.5],
        "note": ["=HYPERLINK(\"http://x\",\"click\")", "+SUM(A1:A2)", "plain"],
        "cmd": pd.Categorical(["@cmd|' /C calc'!A0", "safe", "safe"]),
        "mixed": ["-2+3+cmd|' /C calc'!A0", None, np.nan],
        "ws": ["\tTAB", "\rCR", "mid=dle"],
        "s": pd.array(["-1", "x", None], dtype="string"),
        "when": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
        "flag": [True, False, True],
    })


def test_formula_cells_get_a_leading_quote_and_numbers_stay() -> None:
    out = escape_formulas(_frame())
    assert out["amount"].tolist() == [-3, 4, -0.5] and out["amount"].dtype == np.float64
    assert out["note"].tolist() == ["'=HYPERLINK(\"http://x\",\"click\")", "'+SUM(A1:A2)", "plain"]
    assert out["cmd"].tolist() == ["'@cmd|' /C calc'!A0", "safe", "safe"]
    assert out["mixed"][0] == "'-2+3+cmd|' /C calc'!A0" and out["mixed"][1] is None and np.isnan(out["mixed"][2])
    assert out["ws"].tolist() == ["'\tTAB", "'\rCR", "mid=dle"]
    assert out["s"].tolist()[:2] == ["'-1", "x"] and pd.isna(out["s"][2])  # a *text* '-1' is a text cell
    assert out["when"].equals(_frame()["when"]) and out["flag"].tolist() == [True, False, True]


def test_the_original_frame_is_untouched_and_names_are_escaped() -> None:
    frame = _frame().rename(columns={"note": "=cmd()"})
    out = escape_formulas(frame)
    assert list(out.columns)[1] == "'=cmd()" and list(frame.columns)[1] == "=cmd()"
    assert frame.iloc[0, 1].startswith("=")


def test_written_csv_has_no_cell_a_spreadsheet_would_evaluate() -> None:
    buf = io.StringIO()
    write_csv(_frame(), buf)
    back = pd.read_csv(io.StringIO(buf.getvalue()), dtype=str, keep_default_na=False)
    assert back["amount"].tolist() == ["-3.0", "4.0", "-0.5"]  # numbers written as numbers
    for col in ("note", "cmd", "mixed", "ws", "s"):
        assert not any(v.startswith(FORMULA_START) for v in back[col]), col
    assert escape_formulas(pd.DataFrame()).empty


def test_a_carriage_return_inside_a_cell_cannot_start_a_new_row() -> None:
    buf = io.StringIO()
    write_csv(pd.DataFrame({"a": ["x\r=cmd()", "y\n@z"], "b": [1, 2]}), buf)
    back = pd.read_csv(io.StringIO(buf.getvalue()), dtype=str, keep_default_na=False)
    assert back.shape == (2, 2) and back["a"].tolist() == ["x\r=cmd()", "y\n@z"]  # quoted, still one row each
