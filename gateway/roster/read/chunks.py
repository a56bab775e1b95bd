"""Cutting a large CSV roster into byte ranges that worker processes read on their own.

Reading a row (decoding, the csv module, stripping cells) costs about as much as encrypting
it: when one process reads and hands rows to the workers, that process is the bottleneck. So
the workers read too: the calling process only plans where each chunk starts and ends, and
which spreadsheet row number its first record has.

A cut is only safe where a record ends, and each chunk must know the spreadsheet row number
of its first record. With no quote character in the file a line is a record: cuts and row
numbers come from counting line ends, in C. With quotes (a quoted cell may hold the delimiter
or a line break) the planner runs the csv module over the lines with a quote to find record
ends; a line with none that starts a record is that record. Files in UTF-8 or
Windows-1252 are planned; UTF-16, a bare carriage return (the csv module ends a record there
too), XLSX or a stream with no path are read the ordinary way, in one process (`roster.py`).
The same rules apply to both: `roster.data_rows` turns numbered cells into rows for either.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from gateway.domain.records import RawRow
from gateway.roster.read.errors import RosterFileError
from gateway.roster.read.formats import END_OF_FILE, _csv_rows
from gateway.roster.read.reader import RosterReader, data_rows

CHUNK_BYTES = 1 << 19  # ~4,000 rows: small enough to keep memory flat, big enough to pay
_SCAN_BYTES = 1 << 22


@dataclass(frozen=True, slots=True)
class CsvChunk:
    """Lines [start, end) of a roster file, whose first line is spreadsheet row `first_row`."""

    path: str
    start: int
    end: int
    first_row: int
    encoding: str
    errors: str
    delimiter: str
    positions: tuple[tuple[int, str], ...]


def plan_chunks(reader: RosterReader, chunk_bytes: int | None = None) -> Iterator[CsvChunk] | None:
    """The data lines of `reader`'s file cut into chunks of about `chunk_bytes` (default
    CHUNK_BYTES, read when called), lazily; None when it cannot be cut here (see the module's
    text)."""
    if reader.path is None or reader.format != "csv" or reader.delimiter is None:
        return None
    if not (reader.encoding or "").startswith(("utf-8", "cp1252")):
        return None
    quoted = False
    with open(reader.path, "rb") as fh:
        while block := fh.read(_SCAN_BYTES):
            if block.endswith(b"\r"):  # a CRLF cut by the block boundary: take one more byte
                block += fh.read(1)
            if block.count(b"\r") != block.count(b"\r\n"):
                return None  # a bare carriage return ends a record too: not worth the care
            quoted = quoted or b'"' in block
    return _cuts(reader, chunk_bytes or CHUNK_BYTES, quoted)


def _cuts(reader: RosterReader, chunk_bytes: int, quoted: bool) -> Iterator[CsvChunk]:
    encoding = "utf-8" if reader.encoding == "utf-8-sig" else reader.encoding
    assert encoding is not None and reader.path is not None and reader.delimiter is not None
    shown = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
    # Before the data: Excel's sep= hint (a record, not a row), then rows 1 .. header.
    before = reader.header_row + (1 if reader.hint_line else 0)
    with open(reader.path, "rb") as fh:
        if reader.encoding == "utf-8-sig":  # after the BOM, a quote opens the first field
            fh.seek(len(codecs.BOM_UTF8))
        if quoted:
            start, _ = _parse_to(fh, None, encoding, reader, 1, shown, limit=before)
        else:
            for _ in range(before):
                fh.readline()
            start = fh.tell()
        row = reader.header_row + 1  # the spreadsheet row of the next record
        while True:
            fh.seek(start)
            if quoted:
                end, records = _parse_to(fh, start + chunk_bytes, encoding, reader, row, shown)
            else:
                end, records = _lines_to(fh, start + chunk_bytes)
            if end <= start:
                return
            yield CsvChunk(reader.path, start, end, row, encoding, reader.errors,
                           reader.delimiter, tuple(reader.positions))  # fmt: skip
            start, row = end, row + records


def _lines_to(fh: BinaryIO, target: int) -> tuple[int, int]:
    """No quotes in the file: a line is a record. (end offset, lines) of the lines from the
    current position up to the first line end at or after `target`."""
    data = fh.read(max(0, target - fh.tell()))
    data += fh.readline()
    return fh.tell(), data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


def _parse_to(
    fh: BinaryIO,
    target: int | None,
    encoding: str,
    reader: RosterReader,
    row: int,
    shown: str,
    limit: int | None = None,
) -> tuple[int, int]:
    """Quotes in the file: a record may span lines. Read records until one ends at or after
    `target`, or `limit` records were read; (end offset, records).

    A line that starts a record and holds no quote character is that whole record, as the
    csv module would read it: only a line with a quote is parsed, by the csv module, which
    pulls exactly the lines its record needs. (Most lines of a quoted file hold none, and
    parsing every line was a quarter of a re-send of unchanged rows: docs/benchmarks.md.)
    """
    position = fh.tell()
    records = 0
    delimiter = reader.delimiter or ","

    def decoded(line: bytes) -> str:
        try:
            return line.decode(encoding, reader.errors)
        except UnicodeDecodeError:
            raise RosterFileError.from_catalog("undecodable", encoding=shown, row=row) from None

    def more() -> Iterator[str]:  # the lines after a record's first, as the csv module asks
        nonlocal position
        for line in fh:
            position += len(line)
            yield decoded(line)

    while (target is None or position < target) and (limit is None or records < limit):
        line = fh.readline()
        if not line:
            break
        position += len(line)
        text = decoded(line)
        if b'"' in line:
            lines = itertools.chain((text,), more(), (END_OF_FILE,))
            try:
                record = next(csv.reader(lines, delimiter=delimiter))
            except csv.Error:  # an unclosed quote runs into the field size limit, NUL bytes
                raise RosterFileError.from_catalog("malformed_csv", row=row) from None
            if record and END_OF_FILE in record[-1]:  # a quote never closed: to the end
                raise RosterFileError.from_catalog("malformed_csv", row=row)
        records += 1
        row += 1
    return position, records


def chunk_rows(chunk: CsvChunk, skipped_totals: list[int]) -> Iterator[RawRow]:
    """The data rows of one chunk, numbered as the whole file's reader would number them."""
    with open(chunk.path, "rb") as fh:
        fh.seek(chunk.start)
        data = fh.read(chunk.end - chunk.start)
    shown = "UTF-8" if chunk.encoding.startswith("utf-8") else chunk.encoding.upper()
    try:
        text = data.decode(chunk.encoding, chunk.errors)
    except UnicodeDecodeError as exc:
        row = chunk.first_row + data.count(b"\n", 0, exc.start)
        raise RosterFileError.from_catalog("undecodable", encoding=shown, row=row) from None
    records = csv.reader(io.StringIO(text, newline=""), delimiter=chunk.delimiter)
    numbered = _csv_rows(records, False, shown, start=chunk.first_row - 1)
    yield from data_rows(numbered, chunk.positions, skipped_totals)
