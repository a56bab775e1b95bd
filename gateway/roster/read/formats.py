"""Turning a CSV byte stream into numbered rows of cell texts, lazily (XLSX: `read.xlsx`).

The format-neutral half (header, totals rows, RawRow) is `gateway.roster.read.reader`; the choices
about encodings and row numbers are documented there.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from gateway.roster.read.errors import RosterFileError

SAMPLE_BYTES = 64 * 1024
_FALLBACK = "jamsos-cp1252-fallback"
_SEP_HINT = re.compile(r'\s*"?sep=(.)"?\s*')

# (row number as a spreadsheet shows it, cell texts, indexes of cells that held numbers)
Cells = tuple[int, Sequence[str | None], frozenset[int]]
NO_NUMBERS: frozenset[int] = frozenset()


@dataclass(slots=True)
class FileRows:
    """Rows of one file plus what a progress bar and the caller want to know about it."""

    rows: Iterator[Cells]
    format: Literal["csv", "xlsx"]
    encoding: str | None = None
    delimiter: str | None = None
    total_bytes: int | None = None
    bytes_read: Callable[[], int] | None = None  # CSV: bytes pulled from the stream so far
    total_rows: int | None = None  # XLSX: the sheet's declared size
    errors: str = "strict"  # CSV: the decoding error handler (see detect_encoding)
    hint_line: bool = False  # CSV: line 1 is Excel's sep= hint, not a row
    closers: list[Any] = field(default_factory=list)


def cell_text(value: object) -> tuple[str | None, bool]:
    """A spreadsheet cell as text, and whether the cell held a number."""
    if value is None:
        return None, False
    if isinstance(value, str):
        return value.strip() or None, False
    if isinstance(value, bool):  # before int: bool is an int subclass
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), False
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat(), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() else repr(value)), True
    return str(value), False


# ---------------------------------------------------------------------------------------- CSV


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return bad.decode("cp1252"), exc.end  # strict: cp1252's five unused bytes still fail


codecs.register_error(_FALLBACK, _cp1252_fallback)


class _SampleThenRest(io.RawIOBase):
    """Replays the sample already read, then the rest of the stream; counts bytes."""

    def __init__(self, prefix: bytes, stream: IO[bytes]) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if len(self._prefix):
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
        else:
            data = self._stream.read(len(buffer)) or b""
            n = len(data)
            buffer[:n] = data
        self.count += n
        return n


def detect_encoding(sample: bytes, complete: bool) -> tuple[str, str]:
    """(encoding, error handler) for a CSV, from its first bytes (see `read.reader`)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "strict"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "strict"
    try:
        # Incremental, so a character cut at the sample's end is not mistaken for an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        return "cp1252", "strict"
    if sample.isascii():
        return "utf-8", _FALLBACK
    return "utf-8", "strict"


def sniff_delimiter(text: str) -> tuple[str, bool]:
    """(delimiter, whether line 1 is Excel's `sep=` hint), counted on the header line."""
    lines = text.splitlines()
    hint = _SEP_HINT.fullmatch(lines[0]) if lines else None
    if hint:
        return hint.group(1), True
    # The header is the first line with text; a file of nothing but separators still tells.
    header = next((line for line in lines if line.strip(" \t;,\"'")), None)
    if header is None:
        header = next((line for line in lines if line.strip(" ")), "")
    counts = dict.fromkeys((",", ";", "\t"), 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: counts[d])  # a tie keeps the first: comma
    return (best if counts[best] else ","), False


def csv_source(stream: IO[bytes], sample: bytes, total: int | None) -> FileRows:
    """Rows of a CSV whose first `sample` bytes were already read from `stream`."""
    complete = len(sample) < SAMPLE_BYTES
    encoding, errors = detect_encoding(sample, complete)
    sample_text = codecs.getincrementaldecoder(encoding)("replace").decode(sample, complete)
    delimiter, hint_line = sniff_delimiter(sample_text)
    replay = _SampleThenRest(sample, stream)
    text = io.TextIOWrapper(
        io.BufferedReader(replay, buffer_size=SAMPLE_BYTES),
        encoding=encoding,
        errors=errors,
        newline="",  # the csv module handles CRLF and line breaks inside quotes itself
    )
    shown = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
    return FileRows(
        rows=_csv_rows(closed_records(text, delimiter), hint_line, shown),
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        total_bytes=total,
        bytes_read=lambda: replay.count,
        errors=errors,
        hint_line=hint_line,
        closers=[text],
    )


# A line no roster holds, read after the file's last: it comes back as a record of its own
# unless a quote left open swallowed it. In that case the csv module (lenient, as Excel's
# files need) would return everything from the quote to the end of the file as one cell: the
# rows after it silently gone, and a snapshot would end those workers' enrollments.
END_OF_FILE = "\u2063jamsos:end-of-file\u2063"


def closed_records(lines: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    """The csv module's records of `lines`; csv.Error if a quote is never closed."""
    records = csv.reader(itertools.chain(lines, (END_OF_FILE,)), delimiter=delimiter)
    previous: list[str] | None = None
    try:
        for record in records:
            if record == [END_OF_FILE]:
                if previous is not None:
                    yield previous
                return
            if previous is not None:
                yield previous
            previous = record
    except (csv.Error, UnicodeDecodeError):  # at the record after `previous`: count it first
        if previous is not None:
            yield previous
        raise
    raise csv.Error("a quote is never closed")  # the record that swallowed the end


def _csv_rows(
    records: Iterator[list[str]], hint_line: bool, encoding: str, start: int = 0
) -> Iterator[Cells]:
    """Numbered, stripped records; `start`: the row number before the first record."""
    number = start
    skip = hint_line
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise RosterFileError.from_catalog(
                "undecodable", encoding=encoding, row=number + 1
            ) from None
        except csv.Error:  # an unclosed quote runs into the field size limit, NUL bytes
            raise RosterFileError.from_catalog("malformed_csv", row=number + 1) from None
        if skip:  # Excel hides its sep= hint line: it is not a row
            skip = False
            continue
        number += 1
        yield number, [cell.strip() or None for cell in record], NO_NUMBERS
