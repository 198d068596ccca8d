"""Over-long lines and cells: read when pyarrow's 1 MB block is merely too small, one sentence past the limit.

The limit (32 MB) is lowered to 2 MB here so the files stay a few MB; the detection is the same code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data import io as data_io
from core.data.io import read_table
from core.errors import DataError


@pytest.fixture(autouse=True)
def _small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_io, "MAX_LINE_BYTES", 2 * data_io.MB)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_cell_longer_than_pyarrows_block_but_within_the_limit_is_read(tmp_path: Path) -> None:
    cell = "x" * 1_500_000
    for name, data in (("plain.csv", f"a,b\n1,{cell}\n2,y\n"), ("quoted.csv", f'a,b\n1,"{cell}"\n2,"y"\n')):
        frame = read_table(_write(tmp_path, name, data.encode())).frame
        assert frame.shape == (2, 2) and frame["b"][0] == cell and frame["a"].tolist() == [1, 2]


@pytest.mark.parametrize(("data", "fragment"), [
    (b"a,b\n1," + b"x" * 3_000_000 + b"\n2,y\n", "has a line of 2.9 MB (line 2)"),
    (b"a,b\n1," + b"2" * 3_000_000, "has a line of 2.9 MB (line 2)"),  # the last line, no final newline
    (b"a,b\n1,\"" + b"xxxxxxx\n" * 400_000 + b"\"\n2,y\n", "has a quoted cell longer than 2 MB"),
], ids=["single-cell", "last-line", "quoted-multiline-cell"])
def test_an_over_long_line_or_cell_is_one_sentence(tmp_path: Path, data: bytes, fragment: str) -> None:
    with pytest.raises(DataError) as err:
        read_table(_write(tmp_path, "long.csv", data))
    text = str(err.value)
    assert fragment in text and "rows and cells of up to 2 MB" in text, text
    assert "straddl" not in text and "block" not in text and "\n" not in text


def test_a_file_of_one_huge_line_is_one_sentence(tmp_path: Path) -> None:
    for data in (b"x" * 3_000_000, b"a;" * 1_500_000):
        with pytest.raises(DataError) as err:
            read_table(_write(tmp_path, "one.csv", data))
        text = str(err.value)
        assert "straddl" not in text and "block" not in text and "\n" not in text and text.endswith("."), text


def test_longest_line_counts_lines_and_finds_the_longest(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.txt", b"ab\n" + b"c" * 50 + b"\n\nlast")
    assert data_io._longest_line(lambda: path.open("rb"), chunk=7) == (50, 2, 4)
