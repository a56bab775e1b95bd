"""Reading the roster sheet of an XLSX workbook with bounded memory, whatever the workbook.

openpyxl (even read-only) held the whole shared-string table as Python strings (a 1.27 MB
workbook of tiny strings took 2.5 GB), built any one cell's text in full (one 400 MiB inline
string: 919 MB) and kept an emptied element per row read (about 100 bytes a row: 10.3 million
tiny rows took 1.0 GB and 255 s). So the workbook is read here, with lxml's streaming parser
and limits on everything a small file can make large (issue 16, finding 5):

* the zip's directory, and each XML part's uncompressed size (its declared size: zipfile
  refuses a part whose data runs past it), before a byte of it is parsed;
* the shared strings, kept as blocks of joined text plus arrays of offsets (a few bytes per
  string, not ~60), capped in number and in total text;
* one cell's text: Excel's own 32,767 characters (libxml2, without `huge_tree`, stops any
  text node at 10 MB before that is even checked);
* rows: Excel's own 1,048,576 per sheet, each of at most 1 M characters of text; columns:
  the first `MAX_COLUMNS` are read; a cell or string item's runs and elements, counted;
* every element is dropped once read: a cell as soon as it ends (a row of a million cells
  holds one at a time), a row when it is yielded, anything outside the sheet's data at once,
  and parsing stops where the sheet's data ends.

The limits, the shared strings and the workbook's other parts are `read.xlsx_parts`; this
module reads the sheet. What exceeds a limit is `xlsx_too_large` (send CSV); a damaged part
is `corrupt_xlsx`.
Cell values follow what openpyxl gave (data_only): dates by the cell's number format, numbers
as int or float, booleans, error texts (`#N/A`), the cached result of a formula.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from gateway.roster.read.errors import RosterFileError
from gateway.roster.read.formats import NO_NUMBERS, SAMPLE_BYTES, Cells, FileRows, cell_text
from gateway.roster.read.headers import MAX_COLUMNS, build_alias_index, match_header
from gateway.roster.read.xlsx_parts import (
    MAX_CELL_CHARS,
    MAX_ROW_CHARS,
    MAX_ROWS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_SHEET_BYTES,
    TAG_C,
    TAG_DIMENSION,
    TAG_IS,
    TAG_ROW,
    TAG_SHEET_DATA,
    TAG_V,
    XLSX_FAILURES,
    Book,
    Inside,
    Sheet,
    drop,
    failure,
    in_cell,
    iterparse,
    open_book,
    text_of,
    too_large,
)

__all__ = ["MAX_SHARED_STRINGS_BYTES", "open_book", "roster_sheet", "sheet_rows", "xlsx_source"]

# How far down a sheet a NIK column heading is looked for, to tell roster sheets from notes:
# deeper than the reader's own rule (the first row with a cell is the header), so a second
# sheet of workers under a title block still counts as one.
HEADER_SEARCH_ROWS = 20

_REF = re.compile(r"([A-Za-z]{1,3})(\d*)")


def sheet_rows(book: Book, sheet: Sheet, found: FileRows | None = None) -> Iterator[Cells]:
    """The sheet's non-empty rows, numbered as the sheet numbers them; `found` gets the
    sheet's declared size (`total_rows`, for progress)."""
    try:
        with book.open_part(sheet.path, MAX_SHEET_BYTES) as part:
            yield from _parse(book, part, found)
    except RosterFileError:
        raise
    except XLSX_FAILURES as exc:
        raise failure(exc) from None


def _parse(book: Book, part: IO[bytes], found: FileRows | None) -> Iterator[Cells]:
    number = 0
    column = 0
    texts: list[str | None] = []
    numeric: list[int] = []
    inside = Inside()
    row_chars = 0
    for _, el in iterparse(part, events=("end",)):
        tag = el.tag
        if tag == TAG_C:
            ref = el.get("r")
            match = _REF.match(ref) if ref else None
            column = _column(match.group(1)) if match else column + 1
            if column <= MAX_COLUMNS:
                text, is_number = cell_text(_value(book, el))
                if text is not None:
                    row_chars += len(text)
                    if row_chars > MAX_ROW_CHARS:
                        raise too_large()  # 16,384 cells of one long shared string: 512 MB
                    if len(texts) < column:
                        texts.extend([None] * (column - len(texts)))
                    texts[column - 1] = text
                    if is_number:
                        numeric.append(column - 1)
            drop(el)  # and what it held: a long row holds one cell at a time
            inside.reset()
        elif tag == TAG_ROW:
            declared = el.get("r")
            number = int(declared) if declared else number + 1
            if number > MAX_ROWS:
                raise too_large()
            if texts:
                yield number, texts, frozenset(numeric) if numeric else NO_NUMBERS
                texts, numeric = [], []
            column = row_chars = 0
            drop(el)
        elif tag == TAG_SHEET_DATA:
            return  # nothing after the data is needed (nor held)
        elif tag == TAG_DIMENSION:
            if found is not None:
                last = (el.get("ref") or "").rpartition(":")[2]
                match = _REF.fullmatch(last)
                found.total_rows = int(match.group(2)) if match and match.group(2) else None
            drop(el)
        elif in_cell(el):
            inside.add(el)  # held until its cell ends: counted
        else:
            drop(el)  # <cols>, <sheetViews>, ...: dropped as soon as read


def _value(book: Book, c: Any) -> object:
    kind = c.get("t", "n")
    if kind == "inlineStr":
        inline = c.find(TAG_IS)
        return text_of(inline) if inline is not None else None
    value = c.findtext(TAG_V) or None
    if value is None:
        return None
    if len(value) > MAX_CELL_CHARS:
        raise too_large()
    if kind == "n":
        number: int | float = (
            float(value) if "." in value or "e" in value or "E" in value else int(value)
        )
        style = int(c.get("s") or 0)
        if style in book.date_styles:
            return _from_excel(number, book.epoch, style in book.timedelta_styles)
        return number
    if kind == "s":
        return book.strings[int(value)]
    if kind == "b":
        return bool(int(value))
    if kind == "d":
        from openpyxl.utils.datetime import from_ISO8601

        return from_ISO8601(value)
    return value  # "str" (a formula's cached text), "e" (an error: #N/A)


_COLUMNS: dict[str, int] = {}


def _column(letters: str) -> int:
    found = _COLUMNS.get(letters)
    if found is None:
        found = 0
        for ch in letters.upper():
            found = found * 26 + ord(ch) - 64
        if len(_COLUMNS) < 20_000:
            _COLUMNS[letters] = found
    return found


def _from_excel(number: float, epoch: dt.datetime, timedelta: bool) -> object:
    from openpyxl.utils.datetime import from_excel

    try:
        return from_excel(number, epoch, timedelta=timedelta)
    except (OverflowError, ValueError):
        return "#VALUE!"  # as openpyxl: a serial outside the dates is an error cell


def xlsx_source(
    stream: IO[bytes],
    sample: bytes,
    start: int | None,
    total: int | None,
    *,
    key_field: str = "nik",
    aliases: Mapping[str, Iterable[str]] | None = None,
) -> FileRows:
    """Rows of the roster's worksheet of an XLSX (`roster_sheet`: the one naming
    `key_field`, by the built-in and `aliases` spellings); `start` is None when `stream`
    cannot seek."""
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
        book = open_book(book_file)
        closers.append(book.archive)
        if not book.sheets:
            raise RosterFileError.from_catalog("empty_file")
        sheet = roster_sheet(book, key_field, aliases)
    except BaseException:
        for closer in closers:
            closer.close()
        raise
    found = FileRows(rows=iter(()), format="xlsx", total_bytes=total, closers=closers)
    # The declared dimension only measures progress: rows beyond it are read all the same.
    found.rows = sheet_rows(book, sheet, found)
    return found


def roster_sheet(
    book: Book, key_field: str = "nik", aliases: Mapping[str, Iterable[str]] | None = None
) -> Sheet:
    """The sheet that holds the roster: the visible one whose first rows name a NIK column
    (`key_field`; a budget export's is its government column), else the first visible sheet
    with any cell (a hidden or empty first sheet was read before, and its header reported
    missing). A roster is complete: workers listed on several sheets (one per OPD, say) are
    refused, as reading one sheet would end everyone on the others; a budget export's lines on
    several sheets likewise (only the first was read, without a word)."""
    visible = [s for s in book.sheets if s.visible] or list(book.sheets)
    index = build_alias_index(aliases)
    first = {s.path: _first_rows(book, s) for s in visible}
    naming = [
        s
        for s in visible
        if any(
            text is not None and match_header(text, index) == key_field
            for _, cells, _ in first[s.path]
            for text in cells
        )
    ]
    if len(naming) > 1:
        titles = ", ".join(s.title for s in naming)
        code = "several_roster_sheets" if key_field == "nik" else "several_data_sheets"
        raise RosterFileError.from_catalog(code, sheets=titles)
    if naming:
        return naming[0]
    return next((s for s in visible if first[s.path]), visible[0])


def _first_rows(book: Book, sheet: Sheet) -> list[Cells]:
    found: list[Cells] = []
    rows = sheet_rows(book, sheet)
    try:
        for row in rows:
            if row[0] > HEADER_SEARCH_ROWS:
                break
            found.append(row)
    finally:
        rows.close()
    return found
