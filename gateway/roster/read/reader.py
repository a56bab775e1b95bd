"""Streaming reader for the rosters regional governments upload: CSV or XLSX.

    with open_roster(upload.stream, filename=upload.filename) as roster:
        roster.columns          # {"No. KTP": "nik", "Nama Lengkap": "name", ...}
        for raw in roster:      # records.RawRow, one at a time, never the whole file
            ...

Choices, documented once here (docs/domain.md §4):

* **Row numbers** are the ones a spreadsheet shows: the header is row 1 when it is the first
  row, blank rows count, and a CSV record with a quoted line break inside a cell counts as ONE
  row, because that is how Excel displays it (one row, a cell with two lines of text). Excel's
  `sep=;` hint line is not a row (Excel hides it). XLSX rows keep the sheet's own numbers. The
  header is the first non-blank row.
* **Blank rows** (every cell empty or whitespace) are skipped silently.
* **Totals rows** (an empty NIK and a cell starting with JUMLAH or TOTAL, any case) are never
  yielded; their numbers go to `skipped_totals` and `notices()` reports each as a warning.
* **Cells** are stripped of surrounding whitespace (non-breaking spaces too); an empty cell is
  None. `RawRow.values` has a key for each recognised column only: use `.get()`. XLSX cells:
  dates become "YYYY-MM-DD", integral numbers their digits, and the fields of number cells are
  listed in `RawRow.numeric_fields` (a NIK stored as a number has lost digits).
* **Encodings** (CSV), decided from the first 64 KiB: a UTF-8 BOM means UTF-8, a UTF-16 BOM
  UTF-16 (Excel's "Unicode Text"); otherwise bytes that are not valid UTF-8 mean Windows-1252.
  When that sample is pure ASCII nothing is known yet, so the file is read as UTF-8 and a later
  byte sequence that is not UTF-8 is decoded as Windows-1252 (a cp1252 "é" is never valid
  UTF-8, so both kinds of file come out right). When the sample already proved the encoding
  (BOM, non-ASCII UTF-8, or cp1252), a later byte that does not fit raises
  `RosterFileError("undecodable")` while iterating: a mixed file is broken, and guessing would
  store garbage names. A run must discard the rows it read before any RosterFileError.
* **Delimiter** (CSV): comma, semicolon or tab, whichever occurs most (outside quotes) in the
  header line; an Excel `sep=` line decides it outright.
* **XLSX memory** is bounded whatever the workbook (`read.xlsx`): rows stream, the shared
  strings are held compactly and capped, and a cell, a row count or a part past its limit is
  `xlsx_too_large`.
* **Columns**: the first `MAX_COLUMNS` (16,384, Excel's own width) are read; the first
  `UNKNOWN_SHOWN` unknown ones are listed and noticed one by one, the rest counted in one
  notice.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO

from gateway.domain.records import Problem, RawRow
from gateway.roster.read.errors import MESSAGES, RosterFileError, notice
from gateway.roster.read.formats import (
    NO_NUMBERS,
    SAMPLE_BYTES,
    Cells,
    FileRows,
    cell_text,
    csv_source,
)
from gateway.roster.read.headers import (
    HEADER_ALIASES,
    REQUIRED_FIELDS,
    build_alias_index,
    column_names,
    read_header,
)
from gateway.roster.read.xlsx import MAX_SHARED_STRINGS_BYTES, xlsx_source

__all__ = [
    "HEADER_ALIASES",
    "MAX_SHARED_STRINGS_BYTES",
    "MESSAGES",
    "REQUIRED_FIELDS",
    "TOTALS_PREFIXES",
    "RosterFileError",
    "RosterReader",
    "cell_text",
    "open_roster",
]

TOTALS_PREFIXES = ("jumlah", "total")
UNKNOWN_SHOWN = 50  # unknown columns listed (and noticed) one by one; the rest counted
HEADER_SHOWN_CHARS = 100  # an unknown header's text as listed
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc)


class RosterReader:
    """A roster being read: header already checked. Iterate once for its rows; then close."""

    def __init__(
        self,
        source: FileRows,
        *,
        aliases: Mapping[str, Iterable[str]] | None = None,
        required: Iterable[str] = REQUIRED_FIELDS,
    ) -> None:
        self.format = source.format
        self.encoding = source.encoding  # None for XLSX
        self.delimiter = source.delimiter  # None for XLSX
        self.total_bytes = source.total_bytes  # None when the stream's size is unknown
        self.path: str | None = None  # the file, when opened from a path (chunks.py)
        self.errors = source.errors
        self.hint_line = source.hint_line
        self.skipped_totals: list[int] = []
        self.rows_read = 0  # data rows yielded so far
        self._source = source
        self._last_row = 0
        self._aliases = aliases  # a refusal names the columns by the plugin's spellings too
        try:
            self._read_header(build_alias_index(aliases), tuple(required))
        except BaseException:
            self.close()
            raise

    def _read_header(self, index: Mapping[str, str], required: tuple[str, ...]) -> None:
        for number, cells, _ in self._source.rows:
            self._last_row = number
            if any(cell is not None for cell in cells):
                break
        else:
            raise RosterFileError.from_catalog("empty_file")
        header = read_header(cells, index)
        self.header_row: int = number
        self.columns: dict[str, str] = header.columns
        # Listed, each shortened, up to UNKNOWN_SHOWN; the rest only counted: a million
        # unknown columns made a million notices and an 11.8 MB answer (issue 16, item 10).
        self.unknown_columns: list[str] = [
            _shortened(text) for text in header.unknown[:UNKNOWN_SHOWN]
        ]
        self.unknown_not_shown: int = max(0, len(header.unknown) - UNKNOWN_SHOWN)
        self._positions = header.positions
        if not header.positions:
            raise RosterFileError.from_catalog("no_header",
                                               required=column_names(required, self._aliases))
        if header.duplicates:
            field, texts = next(iter(header.duplicates.items()))
            raise RosterFileError.from_catalog(
                "duplicate_column", field=column_names([field], self._aliases),
                headers=", ".join(texts)
            )
        missing = header.missing(required)
        if missing:
            raise RosterFileError.from_catalog("missing_columns",
                                               columns=column_names(missing, self._aliases))

    def __iter__(self) -> Iterator[RawRow]:
        for raw in data_rows(self._numbered(), self._positions, self.skipped_totals):
            self.rows_read += 1
            yield raw

    def _numbered(self) -> Iterator[Cells]:
        for item in self._source.rows:
            self._last_row = item[0]
            yield item

    @property
    def positions(self) -> Sequence[tuple[int, str]]:
        """(column index, field) of each recognised column."""
        return self._positions

    def notices(self) -> list[Problem]:
        """Warnings about the file: ignored columns, totals rows skipped so far."""
        found = [notice("unknown_column", self.header_row, header=h) for h in self.unknown_columns]
        if self.unknown_not_shown:
            found.append(
                notice("unknown_columns_more", self.header_row, count=self.unknown_not_shown)
            )
        return found + [
            notice("totals_row_skipped", row, number=row) for row in self.skipped_totals
        ]

    @property
    def progress(self) -> float | None:
        """Fraction of the file read, 0.0 - 1.0, for a progress bar; None when unknown."""
        if self._source.total_rows:
            return min(1.0, self._last_row / self._source.total_rows)
        if self.total_bytes and self._source.bytes_read is not None:
            return min(1.0, self._source.bytes_read() / self.total_bytes)
        return None

    @property
    def bytes_read(self) -> int | None:
        """Bytes consumed so far; for XLSX an estimate from the row reached in the sheet."""
        if self._source.bytes_read is not None:
            return self._source.bytes_read()
        fraction = self.progress
        if fraction is None or self.total_bytes is None:
            return None
        return int(fraction * self.total_bytes)

    def close(self) -> None:
        """Release the file (idempotent). A file object the caller passed in stays open."""
        close_rows = getattr(self._source.rows, "close", None)
        if close_rows is not None:
            close_rows()
        while self._source.closers:
            self._source.closers.pop().close()

    def __enter__(self) -> RosterReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def data_rows(
    records: Iterable[Cells], positions: Sequence[tuple[int, str]], skipped_totals: list[int]
) -> Iterator[RawRow]:
    """The data rows among numbered records: blank rows skipped, totals rows noted in
    `skipped_totals` and skipped, cells mapped to fields by column `positions`."""
    for number, cells, numeric in records:
        if all(cell is None for cell in cells):
            continue
        width = len(cells)
        values = {field: cells[i] if i < width else None for i, field in positions}
        if values.get("nik") is None and _says_total(cells):
            skipped_totals.append(number)
            continue
        flagged = (
            frozenset(field for i, field in positions if i in numeric) if numeric else NO_NUMBERS
        )
        yield RawRow(row=number, values=values, numeric_fields=flagged)


def _shortened(header: str) -> str:
    return header if len(header) <= HEADER_SHOWN_CHARS else header[: HEADER_SHOWN_CHARS - 1] + "…"


def _says_total(cells: Iterable[str | None]) -> bool:
    return any(cell is not None and cell.casefold().startswith(TOTALS_PREFIXES) for cell in cells)


def open_roster(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    filename: str | None = None,
    aliases: Mapping[str, Iterable[str]] | None = None,
    required: Iterable[str] = REQUIRED_FIELDS,
) -> RosterReader:
    """Open a roster (a path or a binary file object) and check its header.

    The bytes decide the format; `filename` (default: the path) only tells a damaged .xlsx or a
    legacy .xls apart from text. `aliases` adds a feed's own header spellings (field ->
    spellings) to HEADER_ALIASES, winning over them. `required`: the fields that must have a
    column. A file object passed in is left open; a path opened here is closed with the reader.
    Raises RosterFileError for a file that cannot be a roster.
    """
    owned: list[IO[bytes]] = []
    if isinstance(source, (str, os.PathLike)):
        filename = filename or os.fspath(source)
        stream: IO[bytes] = open(source, "rb")  # noqa: SIM115 - closed with the reader
        owned.append(stream)
    else:
        stream = source
    try:
        start, total = _position_and_size(stream)
        sample = _read_sample(stream)
        if _detect_format(sample, filename) == "xlsx":
            # The data sheet is the one naming the first required field (a NIK for a roster,
            # the government for a budget export).
            key = next(iter(required), "nik")
            rows = xlsx_source(stream, sample, start, total, key_field=key, aliases=aliases)
        else:
            rows = csv_source(stream, sample, total)
    except BaseException:
        for f in owned:
            f.close()
        raise
    rows.closers[:0] = owned  # closed last, after the text wrapper or workbook on top of it
    reader = RosterReader(rows, aliases=aliases, required=required)
    if owned and rows.format == "csv":
        reader.path = os.fspath(source)  # type: ignore[arg-type]
    return reader


def _position_and_size(stream: IO[bytes]) -> tuple[int | None, int | None]:
    try:
        if not stream.seekable():
            return None, None
        start = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(start)
        return start, end - start
    except (AttributeError, OSError):
        return None, None


def _read_sample(stream: IO[bytes]) -> bytes:
    # Some streams (sockets, WSGI input) return short reads: loop until the sample is full.
    parts: list[bytes] = []
    size = 0
    while size < SAMPLE_BYTES:
        chunk = stream.read(SAMPLE_BYTES - size)
        if not chunk:
            break
        if not isinstance(chunk, bytes):
            raise TypeError("open_roster needs a binary file, not a text file")
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _detect_format(sample: bytes, filename: str | None) -> str:
    suffix = os.path.splitext(filename or "")[1].casefold()
    if not sample:
        raise RosterFileError.from_catalog("empty_file")
    if sample.startswith(_ZIP_MAGIC):
        return "xlsx"
    if sample.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise RosterFileError.from_catalog("legacy_xls")
    if suffix in (".xlsx", ".xlsm"):
        raise RosterFileError.from_catalog("corrupt_xlsx", detail="BadZipFile")
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"  # UTF-16 text is full of NUL bytes: decide before the NUL check
    if b"\x00" in sample or sample.startswith(b"%PDF"):
        raise RosterFileError.from_catalog("unsupported_format")
    return "csv"
