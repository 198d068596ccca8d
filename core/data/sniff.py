"""Byte-level checks before a CSV is parsed: binary content, encoding, delimiter, ragged rows.

Everything here reads the file as a stream of bytes (never all of it at once),
so a 200 MB upload costs one extra sequential pass of simple byte counts.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from core.errors import DataError

DELIMITERS = (",", ";", "\t", "|")
HEAD_BYTES = 64 * 1024
_MAX_HEAD_BYTES = 32 * 1024 * 1024
_CHUNK = 8 * 1024 * 1024
_FULL_CSV_SCAN_BYTES = 64 * 1024 * 1024  # files with quotes up to this size get an exact row-length scan
_OTHER_SEPARATORS = (":", "~", "^", "#", "!")

_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx file is one); save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.xls); save the sheet as CSV"),
    (b"%PDF", "a PDF document; export the table as CSV"),
    (b"\x89PNG", "a PNG image, not a table"),
    (b"\xff\xd8\xff", "a JPEG image, not a table"),
    (b"GIF8", "a GIF image, not a table"),
    (b"\x1f\x8b", "a gzip archive; unpack it first"),
    (b"BZh", "a bzip2 archive; unpack it first"),
    (b"7z\xbc\xaf", "a 7-Zip archive; unpack it first"),
)

Opener = Callable[[], BinaryIO]


@dataclass(frozen=True)
class CsvLayout:
    """What the sniffer decided about a delimited text file."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]
    notes: tuple[str, ...] = ()
    quoted: bool = True  # the file has quote characters (quoted fields may hold newlines)


def display_delimiter(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delimiter, repr(delimiter))


def check_text_head(head: bytes, label: str) -> None:
    """Refuse content that is clearly not a text table (binary, archives, UTF-16)."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise DataError(f"'{label}' looks like {what}.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"'{label}' is encoded as UTF-16; save it as UTF-8 (or cp1252) CSV and upload it again.")
    if b"\x00" in head[:8192]:
        raise DataError(f"'{label}' looks like a binary file, not CSV text (it contains NUL bytes).")
    controls = sum(head[:8192].count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    if controls > max(8, len(head[:8192]) // 100):
        raise DataError(
            f"'{label}' does not look like text: too many control characters. "
            "Upload a CSV, Parquet or JSON Lines file."
        )


@dataclass
class _Counts:
    newlines: int = 0
    quotes: int = 0
    delimiters: int = 0
    last: bytes = b""
    utf8_ok: bool = True


def _count(open_binary: Opener, delimiter: str, bom: bool) -> _Counts:
    """One pass of byte counts plus a streaming UTF-8 validity check."""
    counts = _Counts()
    decoder = codecs.getincrementaldecoder("utf-8-sig" if bom else "utf-8")()
    needle = delimiter.encode()
    with open_binary() as fh:
        while chunk := fh.read(_CHUNK):
            counts.newlines += chunk.count(b"\n")
            counts.quotes += chunk.count(b'"')
            counts.delimiters += chunk.count(needle)
            counts.last = chunk[-1:]
            if counts.utf8_ok:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    counts.utf8_ok = False
        if counts.utf8_ok:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                counts.utf8_ok = False
    return counts


def _decodes(open_binary: Opener, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open_binary() as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Parse a text sample into (line number, fields), skipping blank lines as pandas does."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if row:  # csv gives [] for a blank line, which pandas skips too
                out.append((reader.line_num, row))
    except csv.Error:
        pass  # an unterminated quote at the cut of the sample: keep what parsed
    return out


def _choose_delimiter(text: str, label: str) -> tuple[str, list[tuple[int, list[str]]]]:
    best: tuple[float, int, str, list[tuple[int, list[str]]]] | None = None
    for d in DELIMITERS:
        rows = _rows(text, d)
        if not rows or len(rows[0][1]) < 2:
            continue
        width = len(rows[0][1])
        consistent = sum(len(r) == width for _, r in rows) / len(rows)
        score = (consistent, width, d, rows)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is not None:
        return best[2], best[3]
    lines = [line for line in text.splitlines() if line.strip()][:200]
    for sep in (*_OTHER_SEPARATORS, " "):
        need = 2 if sep == " " else 1
        per_line = [line.count(sep) for line in lines]
        if len(lines) >= 2 and per_line[0] >= need and len(set(per_line)) == 1:
            name = "space" if sep == " " else repr(sep)
            raise DataError(
                f"Could not detect the column delimiter of '{label}': it seems separated by {name}, but the workbench "
                "reads comma, semicolon, tab or pipe. Save it with one of those delimiters."
            )
    return ",", _rows(text, ",")  # a genuine one-column table


def _ragged_error(label: str, line: int, got: int, want: int, delimiter: str) -> DataError:
    return DataError(
        f"Line {line} of '{label}' has {got} fields but the header has {want} "
        f"({display_delimiter(delimiter)}-separated). "
        "Fix that row (a stray or missing delimiter, or an unclosed quote) and load the file again."
    )


def _scan_rows(open_binary: Opener, encoding: str, delimiter: str, width: int, label: str) -> None:
    """Exact check of every row's field count with the csv module (slower; used when the counts disagree)."""
    csv.field_size_limit(2**31 - 1)
    with open_binary() as raw, io.TextIOWrapper(raw, encoding=encoding, newline="", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            next(reader, None)
            for row in reader:
                if row and len(row) != width:
                    raise _ragged_error(label, reader.line_num, len(row), width, delimiter)
        except csv.Error as err:
            raise DataError(
                f"'{label}' is not valid CSV near line {reader.line_num}: {err}. Check the quoting."
            ) from None


def sniff_csv(open_binary: Opener, size: int, label: str) -> CsvLayout:
    """Decide encoding and delimiter, read the header, and refuse ragged rows.

    Ragged rows are found exactly: for files without quote characters the
    delimiter count of the whole file must equal ``(fields - 1) × lines``
    (checked while counting bytes); when it does not — or the file has quotes
    and is at most 64 MB — every row is parsed with the ``csv`` module to name
    the first bad line. Larger quoted files rely on pyarrow's parser, which
    refuses any ragged row too, but quotes the row instead of its line number.

    Raises:
        DataError: binary content, UTF-16, an unknown delimiter or a ragged row.
    """
    with open_binary() as fh:
        head = fh.read(HEAD_BYTES)
        while head.count(b"\n") < 2 and len(head) < min(size, _MAX_HEAD_BYTES):  # very wide header: read on
            more = fh.read(len(head))
            if not more:
                break
            head += more
    check_text_head(head, label)
    bom = head.startswith(codecs.BOM_UTF8)

    def head_text(encoding: str) -> str:
        text = head.decode(encoding, errors="replace").lstrip("\ufeff")
        if size > len(head) and "\n" in text:
            text = text[: text.rindex("\n") + 1]  # drop the line cut by the sample
        return text

    delimiter, rows = _choose_delimiter(head_text("utf-8"), label)
    if not rows:
        raise DataError(f"'{label}' has no header row. Add a first line with the column names.")
    width = len(rows[0][1])
    for line, row in rows[1:]:
        if len(row) != width:
            raise _ragged_error(label, line, len(row), width, delimiter)
    counts = _count(open_binary, delimiter, bom)
    notes: list[str] = []
    if bom:
        encoding = "utf-8-sig"
    elif counts.utf8_ok:
        encoding = "utf-8"
    else:
        encoding = "cp1252" if _decodes(open_binary, "cp1252") else "latin-1"
        notes.append(f"Not valid UTF-8: read as {encoding}.")
        rows = _rows(head_text(encoding), delimiter)
    header = tuple(rows[0][1])
    lines = counts.newlines + (counts.last not in (b"\n", b""))
    if counts.quotes == 0:
        if counts.delimiters != (width - 1) * lines:
            _scan_rows(open_binary, encoding, delimiter, width, label)
    elif size <= _FULL_CSV_SCAN_BYTES:
        _scan_rows(open_binary, encoding, delimiter, width, label)
    return CsvLayout(encoding, delimiter, header, tuple(notes), counts.quotes > 0)
