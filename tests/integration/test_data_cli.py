"""``python -m core profile`` as a real subprocess on every bad input of the Data stage.

Each case either exits 2 with exactly one ``error:`` line on stderr, or exits 0 with a
profile whose numbers are checked. No traceback, ever. The subprocesses run a few at a
time from one module fixture (each pays the pandas import), then each case asserts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    write: Callable[[Path], Path]  # builds the input in a folder, returns the path to profile
    args: tuple[str, ...] = ("--json", "-")
    error: str | None = None  # expected fragment of the one error line; None = success


def _text(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return write


def _wide(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    path = folder / "wide.csv"
    pd.DataFrame(rng.integers(0, 9, size=(30, 2000)), columns=[f"f{i}" for i in range(2000)]).to_csv(path, index=False)
    return path


def _parquet(folder: Path) -> Path:
    path = folder / "t.parquet"
    pd.DataFrame({"n": [1, 2, 3, 4], "s": ["NA", "b", "b", "c"], "f": [0.5, None, 1.5, 2.5]}).to_parquet(path)
    return path


def _big(folder: Path) -> Path:
    path = folder / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 5000)  # ~20 kB, over a 0.01 MB limit
    return path


def _folder(folder: Path) -> Path:
    (folder / "a_folder.csv").mkdir()
    return folder / "a_folder.csv"


CASES: dict[str, Case] = {
    "empty": Case(_bytes("empty.csv", b""), error="is empty (0 bytes)"),
    "header_only": Case(_text("header.csv", "a,b,c\n"), error="has a header but no rows"),
    "binary": Case(_bytes("blob.csv", bytes(range(256)) * 4), error="binary file"),
    "image": Case(_bytes("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(100)), error="PNG image"),
    "utf16": Case(_text("u16.csv", "a,b\n1,2\n", "utf-16"), error="UTF-16"),
    "unknown_delimiter": Case(_text("colon.csv", "a:b:c\n1:2:3\n4:5:6\n"), error="column delimiter"),
    "ragged": Case(_text("ragged.csv", "a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n"), error="Line 3 of 'ragged.csv' has 4 fields"),
    "ragged_short": Case(_text("short.csv", "a,b,c\n1,2,3\n4,5\n"), error="Line 3 of 'short.csv' has 2 fields"),
    "over_limit": Case(_big, ("--max-mb", "0.01"), error="over the upload limit of 0.0 MB"),
    "bad_limit": Case(_text("ok.csv", "a\n1\n"), ("--max-mb", "-1"), error="--max-mb must be a positive number"),
    "missing_file": Case(lambda folder: folder / "nope.csv", error="does not exist"),
    "folder": Case(_folder, error="is a folder"),
    "corrupt_parquet": Case(_bytes("broken.parquet", b"PAR1 not parquet at all PAR1"),
                            error="could not be read as Parquet"),  # fmt: skip
    "bad_jsonl": Case(_text("bad.jsonl", '{"a": 1}\n{"a": 2\n'), error="not valid JSON Lines at line 2"),
    "unwritable_json": Case(_text("ok2.csv", "a\n1\n"), ("--json", "/proc/no/such/dir/out.json"),
                            error="Cannot write the profile"),  # fmt: skip
    "cp1252": Case(_text("eu.csv", "city;price\nZürich;3\nCafé;4\nZürich;5\n", "cp1252")),
    "duplicate_names": Case(_text("dup.csv", "a,b,a\n1,2,3\n4,5,6\n")),
    "all_missing_column": Case(_text("holes.csv", "a,b,c\n1,,NA\n2,,\n3,, \n")),
    "one_row": Case(_text("one_row.csv", "x,y,z\n1,b,2.5\n")),
    "one_column": Case(_text("one_col.csv", "v\n3\n1\n2\n2\n")),
    "two_thousand_columns": Case(_wide),
    "mixed_types": Case(_text("mixed.csv", "m\n1\n2\nthree\n4\n5\nsix\n")),
    "unicode_names": Case(_text("ü.csv", "名前,größe,émoji 🐧\n太郎,1.80,ok\n花子,1.65,ok\n")),
    "utf8_bom": Case(_text("bom.csv", "\ufeffid,name\n1,a\n2,b\n")),
    "semicolon": Case(_text("semi.csv", "a;b\n1;x\n2;y\n")),
    "tab": Case(_text("tab.tsv", "a\tb\n1\tx\n2\ty\n")),
    "pipe": Case(_text("pipe.txt", "a|b\n1|x\n2|y\n")),
    "parquet": Case(_parquet),
    "jsonl": Case(_text("t.jsonl", '{"a": 1, "b": "NA"}\n{"a": 2, "b": "x"}\n{"a": null, "b": "x"}\n')),
    "summary": Case(lambda folder: ROOT / "data" / "dirty_customers.csv", ()),
    "json_file": Case(lambda folder: ROOT / "data" / "penguins.csv", ("--json", "OUT")),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    folder = tmp_path_factory.mktemp("profile_cli")
    env = os.environ | {"WORKBENCH_HOME": str(folder / "home"), "PYTHONWARNINGS": "default"}
    env.pop("WORKBENCH_DEBUG", None)

    def run(item: tuple[str, Case]) -> tuple[str, tuple[subprocess.CompletedProcess, Path]]:
        name, case = item
        where = folder / name
        where.mkdir()
        path = case.write(where)
        out = where / "profile.json"
        args = [str(out) if a == "OUT" else a for a in case.args]
        cmd = [sys.executable, "-m", "core", "profile", str(path), *args]
        return name, (subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600), out)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(run, CASES.items()))


def _ok(results: dict, name: str) -> dict:  # noqa: ANN001
    proc, _ = results[name]
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr  # not even a warning
    return json.loads(proc.stdout)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.error])
def test_bad_input_exits_2_with_one_error_line(results: dict, name: str) -> None:
    proc, _ = results[name]
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert CASES[name].error in lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_no_traceback_anywhere(results: dict) -> None:
    assert not [n for n, (p, _) in results.items() if "Traceback" in p.stderr or "Traceback" in p.stdout]


def test_cp1252(results: dict) -> None:
    doc = _ok(results, "cp1252")
    assert (doc["encoding"], doc["delimiter"], doc["rows"]) == ("cp1252", ";", 3)
    city = doc["columns"][0]
    assert city["top_values"] == [["Zürich", 2], ["Café", 1]] and city["distinct"] == 2
    assert any("cp1252" in n for n in doc["notes"])


def test_duplicate_names_are_made_unique(results: dict) -> None:
    doc = _ok(results, "duplicate_names")
    assert [c["name"] for c in doc["columns"]] == ["a", "b", "a_2"]
    assert [c["max"] for c in doc["columns"]] == [4, 5, 6] and any("Duplicate column names" in n for n in doc["notes"])


def test_all_missing_column(results: dict) -> None:
    doc = _ok(results, "all_missing_column")
    b, c = doc["columns"][1], doc["columns"][2]
    assert (b["dtype"], b["missing"], b["distinct"]) == ("empty", 3, 0)
    assert (c["dtype"], c["missing"], c["tokens"]) == ("empty", 3, {"NA": 1, "": 2})
    assert {(a["kind"], a["column"]) for a in doc["alerts"]} >= {("high_missing", "b"), ("high_missing", "c")}


def test_one_row_and_one_column(results: dict) -> None:
    row = _ok(results, "one_row")
    assert (row["rows"], row["n_columns"], row["duplicate_rows"]) == (1, 3, 0)
    assert [c["dtype"] for c in row["columns"]] == ["numeric", "categorical", "numeric"]
    col = _ok(results, "one_column")
    assert (col["rows"], col["n_columns"], col["duplicate_rows"], col["correlation"]) == (4, 1, 1, None)
    v = col["columns"][0]
    assert (v["min"], v["max"], v["mean"], v["distinct"]) == (1, 3, 2, 3)


def test_two_thousand_columns(results: dict) -> None:
    doc = _ok(results, "two_thousand_columns")
    assert (doc["rows"], doc["n_columns"], len(doc["columns"])) == (30, 2000, 2000)
    assert len(doc["correlation"]["columns"]) == 200


def test_mixed_types(results: dict) -> None:
    doc = _ok(results, "mixed_types")
    m = doc["columns"][0]
    assert (m["dtype"], m["numeric_like_share"], m["distinct"]) == ("mixed", pytest.approx(4 / 6), 6)
    assert [a["kind"] for a in doc["alerts"]] == ["mixed_types"]


def test_unicode_names_and_bom(results: dict) -> None:
    doc = _ok(results, "unicode_names")
    assert [c["name"] for c in doc["columns"]] == ["名前", "größe", "émoji 🐧"] and doc["file"] == "ü.csv"
    assert doc["columns"][1]["mean"] == pytest.approx(1.725)
    bom = _ok(results, "utf8_bom")
    assert bom["encoding"] == "utf-8-sig" and bom["columns"][0]["name"] == "id"


@pytest.mark.parametrize(("name", "delimiter"), [("semicolon", ";"), ("tab", "\t"), ("pipe", "|")])
def test_delimiters(results: dict, name: str, delimiter: str) -> None:
    doc = _ok(results, name)
    assert (doc["delimiter"], doc["rows"], [c["name"] for c in doc["columns"]]) == (delimiter, 2, ["a", "b"])
    assert doc["columns"][0]["mean"] == 1.5 and doc["columns"][1]["top_values"] == [["x", 1], ["y", 1]]


def test_parquet_and_jsonl(results: dict) -> None:
    pq = _ok(results, "parquet")
    assert (pq["format"], pq["rows"], pq["encoding"]) == ("parquet", 4, None)
    assert pq["columns"][1]["tokens"] == {"NA": 1} and pq["columns"][2]["missing"] == 1
    jl = _ok(results, "jsonl")
    assert (jl["format"], jl["rows"]) == ("jsonl", 3)
    assert jl["columns"][0]["missing"] == 1 and jl["columns"][1]["tokens"] == {"NA": 1}


def test_summary_is_readable(results: dict) -> None:
    proc, _ = results["summary"]
    assert proc.returncode == 0 and proc.stderr == ""
    first = proc.stdout.splitlines()[0]
    assert first.startswith("dirty_customers.csv (csv, utf-8, comma-separated): 312 rows × 13 columns, ")
    assert "12 duplicate rows" in first
    assert "'monthly_spend' and 'yearly_spend' are highly correlated" in proc.stdout


def test_json_file(results: dict) -> None:
    proc, out = results["json_file"]
    assert proc.returncode == 0 and "profile written to" in proc.stdout
    doc = json.loads(out.read_text())
    assert (doc["rows"], doc["duplicate_rows"], doc["missing_tokens_found"]) == (344, 0, {"NA": 19})
    assert {c["name"]: c["missing"] for c in doc["columns"]}["sex"] == 11
