"""Read a table from a path or uploaded bytes: CSV, Parquet or JSON Lines.

Design: text cells are read *without* pandas' automatic missing-value
conversion, so ``NA``, ``n/a``, ``-`` or ``?`` stay visible as strings and the
person confirms later which of them mean "missing" (see
:data:`DEFAULT_MISSING_TOKENS` and :mod:`core.data.profile`). After parsing, a
text column is converted only when every non-blank cell parses cleanly:

* numbers (surrounding spaces allowed, exactly as pandas' own parser allows them)
  → ``int64``, or ``float64`` with ``NaN`` for blank cells;
* ``true`` / ``false`` in any case → ``bool`` (nullable ``boolean`` with blanks);
* a column of only blank cells → ``float64`` all ``NaN``.

Anything else — a missing token, a thousands separator (``1,234``), ``nan`` —
keeps the column as text so the profile can flag it. Parquet keeps its stored
types. Duplicate column names are **de-duplicated** (``a``, ``a_2``) with a
note rather than refused, so the person still sees the data.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from core.data.convert import boolean_array, convert_strings, convert_text_columns, flatten_nested
from core.data.sniff import HEAD_BYTES, CsvLayout, check_text_head, sniff_csv
from core.errors import DataError, one_line

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

MB = 1024 * 1024
# Matches server.maxUploadSize = 200 in .streamlit/config.toml (a test keeps them equal).
DEFAULT_MAX_BYTES = 200 * MB

DEFAULT_MISSING_TOKENS: tuple[str, ...] = (
    "NA", "N/A", "n/a", "na", "NaN", "nan", "None", "none", "null", "Null", "NULL",
    "empty", "-", "--", "----", "?", "",
)  # fmt: skip
"""Strings that often mean "missing". A blank or whitespace-only cell counts as ``""``."""

FORMATS = ("csv", "parquet", "jsonl")
_EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".psv": "csv", ".dat": "csv",
    ".parquet": "parquet", ".pq": "parquet", ".parq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
}  # fmt: skip


@dataclass(frozen=True, eq=False)
class LoadedTable:
    """A table as read, plus how it was read.

    Attributes:
        frame: the data; text columns keep their raw strings (see the module docstring).
        name: the file name shown to the person.
        format: ``'csv'``, ``'parquet'`` or ``'jsonl'``.
        encoding: text encoding used (``None`` for Parquet).
        delimiter: CSV delimiter (``None`` for Parquet / JSON Lines).
        notes: one sentence per thing the reader decided on the person's behalf.
        size_bytes: size of the source in bytes.
    """

    frame: pd.DataFrame
    name: str
    format: str
    encoding: str | None
    delimiter: str | None
    notes: tuple[str, ...] = ()
    size_bytes: int = 0
    source: str | None = None


def read_table(source: str | Path | bytes, name: str | None = None, *, max_bytes: int | None = None) -> LoadedTable:
    """Read a CSV, Parquet or JSON Lines table from a path or from uploaded bytes.

    Args:
        source: a file path, or the bytes of an upload (``st.file_uploader(...).getvalue()``).
        name: the file name; for bytes it decides the format (content sniffing is the fallback).
        max_bytes: refuse larger sources; default :data:`DEFAULT_MAX_BYTES` (the upload limit).

    Returns:
        The table and how it was read.

    Raises:
        DataError: one sentence for every unreadable input — missing or unreadable file,
            over the limit, empty, header only, binary, UTF-16, unknown delimiter,
            ragged row, malformed Parquet / JSON.
    """
    limit = DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes)
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        label, size, path = (name or "upload"), len(data), None

        def open_binary() -> BinaryIO:
            return io.BytesIO(data)
    else:
        path = Path(source)
        label = name or path.name
        size = _file_size(path)

        def open_binary() -> BinaryIO:
            try:
                return path.open("rb")
            except OSError as err:
                raise DataError(f"Cannot read '{path}': {err.strerror or err}.") from None

    if size > limit:
        raise DataError(
            f"'{label}' is {size / MB:.1f} MB, over the upload limit of {limit / MB:.1f} MB. "
            "Use a smaller file (a sample, or Parquet) or raise the limit."
        )
    if size == 0:
        raise DataError(f"'{label}' is empty (0 bytes). Choose a file with a header row and at least one data row.")
    try:
        with open_binary() as fh:
            head = fh.read(HEAD_BYTES)
        fmt, notes = _detect_format(label, head)
        if fmt == "parquet":
            frame, more = _read_parquet(open_binary, label)
            encoding, delimiter = None, None
        elif fmt == "jsonl":
            check_text_head(head, label)
            frame, more = _read_json(open_binary, label, head)
            encoding, delimiter = "utf-8", None
        else:
            layout = sniff_csv(open_binary, size, label)
            frame = _read_csv(open_binary, layout, label)
            more = list(layout.notes)
            encoding, delimiter = layout.encoding, layout.delimiter
    except OSError as err:  # the file vanished or became unreadable while it was read
        raise DataError(f"Cannot read '{label}': {err.strerror or err}.") from None
    except MemoryError:
        raise DataError(f"'{label}' ({size / MB:.0f} MB) does not fit in memory here. Use a sample of it.") from None
    notes += more
    frame, name_notes = _clean_names(frame, label)
    notes += name_notes
    if frame.shape[1] == 0:
        raise DataError(f"'{label}' has no columns. Check that it is a table with a header row.")
    if len(frame) == 0:
        raise DataError(f"'{label}' has a header but no rows. Add at least one data row.")
    if fmt == "jsonl":
        frame = convert_text_columns(frame)
    return LoadedTable(frame, label, fmt, encoding, delimiter, tuple(notes), size, str(path) if path else None)


def _file_size(path: Path) -> int:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataError(f"File '{path}' does not exist. Check the path.") from None
    except OSError as err:
        raise DataError(f"Cannot read '{path}': {err.strerror or err}.") from None
    if path.is_dir():
        raise DataError(f"'{path}' is a folder, not a file. Give the path of a CSV, Parquet or JSON Lines file.")
    return stat.st_size


def _detect_format(label: str, head: bytes) -> tuple[str, list[str]]:
    by_name = _EXTENSIONS.get(Path(label).suffix.lower())
    if head.startswith(b"PAR1"):
        return "parquet", ([] if by_name in (None, "parquet") else [f"'{label}' is Parquet despite its name."])
    if by_name:
        return by_name, []
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return ("jsonl" if first in (b"{", b"[") else "csv"), []


def _read_csv(open_binary: Callable[[], BinaryIO], layout: CsvLayout, label: str) -> pd.DataFrame:
    """Parse every cell as text with pyarrow (blank → null), then convert column by column.

    pyarrow's reader is used rather than ``pandas.read_csv``: reading all columns
    as strings and casting in Arrow is faster than pandas' type inference and
    never mixes types within a column.
    """
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    width = len(layout.header)
    names = [f"c{i}" for i in range(width)]

    def parse(block_size: int | None = None) -> pa.Table:
        with open_binary() as fh:
            return pa_csv.read_csv(
                fh,
                read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, encoding=layout.encoding,
                                                **({"block_size": block_size} if block_size else {})),
                parse_options=pa_csv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=layout.quoted),
                convert_options=pa_csv.ConvertOptions(
                    column_types={n: pa.string() for n in names}, null_values=[""], strings_can_be_null=True
                ),
            )

    try:
        try:
            table = parse()
        except (pa.ArrowException, ValueError) as err:
            if not _block_too_small(err):
                raise
            # A row (or one cell) longer than pyarrow's 1 MB block: allowed up to MAX_LINE_BYTES, else one sentence.
            line, number, lines = _longest_line(open_binary)
            if line > MAX_LINE_BYTES:
                raise DataError(_long_line_message(label, line, number)) from None
            if lines <= 1:
                raise DataError(f"'{label}' is a single line ({line / MB:.1f} MB) with no data rows after the "
                                "header. Check that it is a table with one row per line.") from None
            try:
                table = parse(block_size=max(2 * line, 1 << 20) + 1024)
            except (pa.ArrowException, ValueError) as again:
                if _block_too_small(again) and layout.quoted:  # a quoted cell spanning lines, longer than any line
                    raise DataError(_long_line_message(label, 0, 0)) from None
                raise
    except (pa.ArrowException, ValueError, UnicodeDecodeError) as err:
        raise DataError(f"'{label}' could not be parsed as CSV: {one_line(err)[:200]}.") from None
    converted = pa.table([convert_strings(table.column(i), blank="") for i in range(width)], names=names)
    del table
    frame = _arrow_to_pandas(converted)
    frame.columns = list(layout.header)
    return frame


MAX_LINE_BYTES = 32 * MB  # one row or one cell longer than this is refused (pyarrow's block must hold it)
_BLOCK_ERRORS = ("straddl", "larger than block size", "block size")


def _block_too_small(err: BaseException) -> bool:
    return any(marker in str(err) for marker in _BLOCK_ERRORS)


def _longest_line(open_binary: Callable[[], BinaryIO], chunk: int = 8 * MB) -> tuple[int, int, int]:
    """(bytes, 1-based line number) of the longest line and the number of lines, streamed in chunks.

    Only runs after pyarrow refused a block, so its cost (numpy over the bytes) is paid by odd files alone.
    """
    import numpy as np

    longest, where, lines, offset, last_nl = 0, 1, 0, 0, -1
    with open_binary() as fh:
        while data := fh.read(chunk):
            newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + offset
            if newlines.size:
                lengths = newlines - np.concatenate(([last_nl], newlines[:-1])) - 1
                i = int(np.argmax(lengths))
                if lengths[i] > longest:
                    longest, where = int(lengths[i]), lines + i + 1
                lines += int(newlines.size)
                last_nl = int(newlines[-1])
            offset += len(data)
    tail = offset - last_nl - 1
    if tail > longest:
        longest, where = tail, lines + 1
    return longest, where, lines + (1 if tail > 0 else 0)


def _long_line_message(label: str, size: int, line: int) -> str:
    what = (f"a line of {size / MB:.1f} MB (line {line:,})" if size else
            f"a quoted cell longer than {MAX_LINE_BYTES / MB:.0f} MB")
    return (f"'{label}' has {what}; the workbench reads rows and cells of up to {MAX_LINE_BYTES / MB:.0f} MB. "
            "Check that it is a table with one row per line (a file of one huge line is usually another format "
            "or a broken export), or split the long cells out of it.")


def _arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """One Arrow → pandas conversion: no block consolidation, repeated strings shared (deduplicated)."""
    import pyarrow as pa

    nullable = {i: boolean_array(c) for i, c in enumerate(table.columns) if c.type == pa.bool_() and c.null_count}
    frame = table.to_pandas(split_blocks=True, self_destruct=True, deduplicate_objects=True)
    del table  # self_destruct: the Arrow buffers are released as pandas takes over; never touch them again
    for i, values in nullable.items():
        frame.isetitem(i, values)
    return frame


def _read_parquet(open_binary: Callable[[], BinaryIO], label: str) -> tuple[pd.DataFrame, list[str]]:
    import pandas as pd

    try:
        with open_binary() as fh:
            frame = pd.read_parquet(fh)
    except Exception as err:  # noqa: BLE001 - pyarrow raises many types (ArrowInvalid, OSError, …) for bad files
        raise DataError(f"'{label}' could not be read as Parquet: {one_line(err)}.") from None
    notes: list[str] = []
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
        notes.append("The stored index became ordinary columns.")
    return flatten_nested(frame, notes), notes


def _read_json(open_binary: Callable[[], BinaryIO], label: str, head: bytes) -> tuple[pd.DataFrame, list[str]]:
    import pandas as pd

    is_array = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["
    try:
        with open_binary() as fh:
            frame = pd.read_json(
                fh, lines=not is_array, orient="records", dtype=False, convert_dates=False, encoding="utf-8-sig"
            )
    except UnicodeDecodeError:
        raise DataError(
            f"'{label}' is not UTF-8; JSON files must be UTF-8. Save it as UTF-8 and load it again."
        ) from None
    except ValueError as err:
        line = None if is_array else _first_bad_json_line(open_binary)
        where = f" at line {line}" if line else ""
        raise DataError(
            f"'{label}' is not valid JSON Lines{where}: {one_line(err)}. Each line must be one JSON object."
        ) from None
    notes = ["Read a JSON array of records."] if is_array else []
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"'{label}' does not hold records. Each line must be one JSON object.")
    frame.columns = [str(c) for c in frame.columns]
    return flatten_nested(frame, notes), notes


def _first_bad_json_line(open_binary: Callable[[], BinaryIO]) -> int | None:
    with open_binary() as fh:
        for number, raw in enumerate(fh, start=1):
            text = raw.decode("utf-8-sig", errors="replace").strip()
            if not text:
                continue
            try:
                if not isinstance(json.loads(text), dict):
                    return number
            except ValueError:
                return number
    return None


def _clean_names(frame: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[str]]:
    """Strip BOMs and whitespace from column names, name blank ones, de-duplicate the rest."""
    names = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    notes: list[str] = []
    blank = [i for i, n in enumerate(names) if not n or n.startswith("Unnamed: ")]
    for i in blank:
        names[i] = f"column_{i + 1}"
    if blank:
        notes.append(f"{len(blank)} column(s) had no name and were named column_N by position.")
    seen: dict[str, int] = {}
    taken = set(names)
    renamed: list[str] = []
    for i, n in enumerate(names):
        if n in seen:
            k = seen[n] + 1
            while f"{n}_{k}" in taken:
                k += 1
            seen[n] = k
            names[i] = f"{n}_{k}"
            taken.add(names[i])
            renamed.append(f"'{n}' → '{names[i]}'")
        else:
            seen[n] = 1
    if renamed:
        more = " …" if len(renamed) > 5 else ""
        notes.append(f"Duplicate column names were made unique: {', '.join(renamed[:5])}{more}.")
    frame.columns = names
    return frame, notes
