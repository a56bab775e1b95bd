"""Turning a CSV or XLSX byte stream into numbered rows of cell texts, lazily.

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
import shutil
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal
from xml.etree.ElementTree import ParseError

from gateway.roster.read.errors import RosterFileError
from gateway.roster.read.headers import build_alias_index, match_header

SAMPLE_BYTES = 64 * 1024
MAX_SHARED_STRINGS_BYTES = 512 * 1024 * 1024
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


# --------------------------------------------------------------------------------------- XLSX

# What a damaged or hostile workbook makes zipfile / openpyxl raise, at open or mid-sheet.
_XLSX_FAILURES = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    ParseError,
    SyntaxError,  # lxml.etree.XMLSyntaxError: openpyxl parses with lxml when installed
    OSError,
)


def xlsx_source(
    stream: IO[bytes],
    sample: bytes,
    start: int | None,
    total: int | None,
    *,
    key_field: str = "nik",
    aliases: Mapping[str, Iterable[str]] | None = None,
) -> FileRows:
    """Rows of the roster's worksheet of an XLSX (`_roster_sheet`: the one naming
    `key_field`, by the built-in and `aliases` spellings); `start` is None when `stream`
    cannot seek."""
    from openpyxl import load_workbook  # only XLSX uploads pay for the import

    closers: list[Any] = []
    if start is not None:
        stream.seek(start)
        book_file = stream
    else:
        # zipfile must seek: an upload stream that cannot is spooled to disk, not to memory.
        book_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the reader
        closers.append(book_file)
        book_file.write(sample)
        shutil.copyfileobj(stream, book_file, SAMPLE_BYTES)
        total = book_file.tell()
        book_file.seek(0)
    try:
        _check_archive(book_file)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl's chatter about styles, extensions
                book = load_workbook(book_file, read_only=True, data_only=True, keep_links=False)
        except _XLSX_FAILURES as exc:
            # The exception's text may quote a cell (a NIK): name its type only.
            raise RosterFileError.from_catalog("corrupt_xlsx", detail=type(exc).__name__) from None
        closers.append(book)
        if not book.worksheets:
            raise RosterFileError.from_catalog("empty_file")
    except BaseException:
        for closer in closers:
            closer.close()
        raise
    sheet = _roster_sheet(book.worksheets, key_field, aliases)
    declared_rows = sheet.max_row
    # The declared dimension can be wrong; trusting it would silently drop rows beyond it.
    sheet.reset_dimensions()
    return FileRows(
        rows=_xlsx_rows(sheet),
        format="xlsx",
        total_bytes=total,
        total_rows=declared_rows,
        closers=closers,
    )


# How far down a sheet a NIK column heading is looked for, to tell roster sheets from notes:
# deeper than the reader's own rule (the first row with a cell is the header), so a second
# sheet of workers under a title block still counts as one.
HEADER_SEARCH_ROWS = 20


def _roster_sheet(
    sheets: Sequence[Any],
    key_field: str = "nik",
    aliases: Mapping[str, Iterable[str]] | None = None,
) -> Any:
    """The sheet that holds the roster: the visible one whose first rows name a NIK column
    (`key_field`; a budget export's is its government column), else the first visible sheet
    with any cell (a hidden or empty first sheet was read before, and its header reported
    missing). A roster is complete: workers listed on several sheets (one per OPD, say) are
    refused, as reading one sheet would end everyone on the others; a budget export's lines on
    several sheets likewise (only the first was read, without a word)."""
    visible = [s for s in sheets if getattr(s, "sheet_state", "visible") == "visible"] or list(
        sheets
    )
    index = build_alias_index(aliases)
    naming = [s for s in visible if _names(s, key_field, index)]
    if len(naming) > 1:
        titles = ", ".join(s.title for s in naming)
        code = "several_roster_sheets" if key_field == "nik" else "several_data_sheets"
        raise RosterFileError.from_catalog(code, sheets=titles)
    if naming:
        return naming[0]
    return next((s for s in visible if _first_rows(s, HEADER_SEARCH_ROWS)), visible[0])


def _first_rows(sheet: Any, n: int) -> list[tuple]:
    try:
        return [r for r in sheet.iter_rows(max_row=n, values_only=True) if any(
            v is not None and str(v).strip() for v in r)]  # fmt: skip
    except _XLSX_FAILURES as exc:
        raise RosterFileError.from_catalog("corrupt_xlsx", detail=type(exc).__name__) from None


def _names(sheet: Any, field: str, index: dict[str, str]) -> bool:
    return any(
        isinstance(value, str) and match_header(value, index) == field
        for row in _first_rows(sheet, HEADER_SEARCH_ROWS)
        for value in row
    )


def _check_archive(book_file: IO[bytes]) -> None:
    try:
        with zipfile.ZipFile(book_file) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names:
                # A ZIP but not a workbook: .ods, .docx, a zipped folder.
                raise RosterFileError.from_catalog("unsupported_format")
            # openpyxl holds the shared strings in memory: refuse a zip bomb before it does.
            if "xl/sharedStrings.xml" in names:
                size = archive.getinfo("xl/sharedStrings.xml").file_size
                if size > MAX_SHARED_STRINGS_BYTES:
                    raise RosterFileError.from_catalog(
                        "xlsx_too_large", limit=MAX_SHARED_STRINGS_BYTES // 2**20
                    )
    except zipfile.BadZipFile:
        raise RosterFileError.from_catalog("corrupt_xlsx", detail="BadZipFile") from None
    finally:
        book_file.seek(0)


def _xlsx_rows(sheet: Any) -> Iterator[Cells]:
    # values_only rows start at row 1 and openpyxl fills gaps with empty rows, so counting
    # them gives the sheet's own row numbers.
    rows = sheet.iter_rows(values_only=True)
    number = 0
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except _XLSX_FAILURES as exc:
            raise RosterFileError.from_catalog("corrupt_xlsx", detail=type(exc).__name__) from None
        number += 1
        texts: list[str | None] = []
        numeric: list[int] = []
        for i, value in enumerate(values):
            text, is_number = cell_text(value)
            texts.append(text)
            if is_number:
                numeric.append(i)
        yield number, texts, frozenset(numeric) if numeric else NO_NUMBERS
