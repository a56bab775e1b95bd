"""The parts of an XLSX workbook around its rows, read with bounded memory (`read.xlsx`).

The limits, what a damaged part raises, the list of sheets, the styles that make a number a
date, and the shared-string table, held compactly. Every part is parsed by lxml's streaming
parser without entities, DTDs or `huge_tree`, each element dropped once read.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import posixpath
import sys
import zipfile
import zlib
from array import array
from dataclasses import dataclass
from typing import IO, Any

from gateway.roster.read.errors import RosterFileError

# Uncompressed size of sharedStrings.xml; larger is refused before parsing.
MAX_SHARED_STRINGS_BYTES = 256 * 2**20
MAX_SHARED_STRINGS = 4_000_000  # a million-row roster of unique names and NIKs needs ~3 M
MAX_SHARED_TEXT_BYTES = 128 * 2**20  # their text, UTF-8, as held
MAX_SHEET_BYTES = 2 * 2**30  # one worksheet's XML: time, not memory (it streams)
MAX_PART_BYTES = 32 * 2**20  # workbook.xml, its relationships, styles.xml
MAX_DIRECTORY_BYTES = 4 * 2**20  # the zip's list of parts (a workbook has tens)
MAX_CELL_CHARS = 32_767  # Excel's own limit on a cell's text
MAX_CELL_ELEMENTS = 20_000  # elements in one cell or string item (rich-text runs and theirs)
MAX_ROW_CHARS = 2**20  # one row's text (a roster's row is well under a thousand)
MAX_ROWS = 1_048_576  # Excel's own limit on a sheet's rows
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
TAG_C, TAG_ROW, TAG_V, TAG_F = f"{_MAIN}c", f"{_MAIN}row", f"{_MAIN}v", f"{_MAIN}f"
TAG_IS, TAG_T, TAG_R, TAG_SI = f"{_MAIN}is", f"{_MAIN}t", f"{_MAIN}r", f"{_MAIN}si"
TAG_SHEET_DATA, TAG_DIMENSION = f"{_MAIN}sheetData", f"{_MAIN}dimension"
TAG_SST = f"{_MAIN}sst"
# What a damaged or hostile workbook makes zipfile or lxml raise, at open or mid-sheet.
XLSX_FAILURES = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    OverflowError,
    SyntaxError,  # lxml.etree.XMLSyntaxError
    OSError,
    NotImplementedError,  # a compression method zipfile lacks
    RuntimeError,  # an encrypted part
)


def too_large() -> RosterFileError:
    return RosterFileError.from_catalog("xlsx_too_large", limit=MAX_SHARED_STRINGS_BYTES // 2**20)


def failure(exc: BaseException) -> RosterFileError:
    # libxml2 stops a text node over 10 MB ("huge text node"): too large, not damaged. The
    # exception's text may quote a cell (a NIK): only its type is named.
    if isinstance(exc, SyntaxError) and "huge" in str(exc).casefold():
        return too_large()
    return RosterFileError.from_catalog("corrupt_xlsx", detail=type(exc).__name__)


def iterparse(source: IO[bytes], **kwargs: Any) -> Any:
    from lxml import etree  # only XLSX uploads pay for the import

    # No entities, no DTD, no network, and libxml2's default limits (huge_tree off).
    return etree.iterparse(
        source, resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
        **kwargs,
    )  # fmt: skip


def drop(element: Any) -> None:
    element.clear()
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)


def text_of(element: Any) -> str:
    """A string item's text (<si> or <is>): its <t>, or its rich-text runs' <t>s joined;
    phonetic guides (<rPh>) are not text."""
    plain = element.find(TAG_T)
    parts = [plain.text or ""] if plain is not None else []
    parts += [run.findtext(TAG_T) or "" for run in element.iterfind(TAG_R)]
    text = "".join(parts)
    if len(text) > MAX_CELL_CHARS:
        raise too_large()
    return text


class Inside:
    """What one cell or string item holds while it is parsed: lxml builds it whole before its
    end, so 400 runs of 1 MiB each (every text node under libxml2's 10 MB) would all be held.
    Counted as each part ends: too much text, or too many elements, is too large."""

    __slots__ = ("chars", "elements")

    def __init__(self) -> None:
        self.chars = 0
        self.elements = 0

    def add(self, el: Any) -> None:
        self.elements += 1
        if el.tag == TAG_T or el.tag == TAG_V:
            self.chars += len(el.text or "")
        if self.chars > MAX_CELL_CHARS or self.elements > MAX_CELL_ELEMENTS:
            raise too_large()

    def reset(self) -> None:
        self.chars = self.elements = 0


class SharedStrings:
    """The shared-string table, compactly: blocks of up to `BLOCK` strings joined into one str,
    with each string's end in its block (an array), instead of one str object each."""

    BLOCK = 4096

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._ends: list[array] = []
        self._firsts = array("Q")  # the index of each block's first string
        self.count = 0
        self.held = 0  # bytes of text held

    def load(self, source: IO[bytes]) -> None:
        pending: list[str] = []
        size = 0  # characters pending: a block is sealed at BLOCK strings or ~1 M characters
        inside = Inside()
        table = None
        for _, el in iterparse(source, events=("end",)):
            if el.tag != TAG_SI:
                parent = el.getparent()
                if parent is None or parent.tag == TAG_SST:
                    drop(el)  # not in an item: nothing to keep
                else:
                    inside.add(el)  # a run, its <t>: held until its item ends, so counted
                continue
            inside.reset()
            si = el
            if table is None:
                table = si.getparent()
            # The usual item is one plain <t>: read it without the general walk.
            only = si[0] if len(si) == 1 else None
            text = (only.text or "") if only is not None and only.tag == TAG_T else text_of(si)
            pending.append(text)
            size += len(text)
            if len(pending) == self.BLOCK or size > 2**20:
                self._seal(pending)
                pending, size = [], 0
                if table is not None:
                    # The items read, emptied, still hang on the table. (lxml may show a
                    # fresh item without its parent for a while after this: `table` is kept.)
                    del table[:-1]
            si.clear()
        self._seal(pending)

    def _seal(self, pending: list[str]) -> None:
        if not pending:
            return
        block = "".join(pending)
        if "x005F_" in block:  # as openpyxl: an escaped underscore
            pending = [text.replace("x005F_", "") for text in pending]
            block = "".join(pending)
        self._blocks.append(block)
        self._firsts.append(self.count)
        self._ends.append(array("L", itertools.accumulate(map(len, pending))))
        self.count += len(pending)
        self.held += sys.getsizeof(block)
        if self.count > MAX_SHARED_STRINGS or self.held > MAX_SHARED_TEXT_BYTES:
            raise too_large()

    def __getitem__(self, i: int) -> str:
        if i < 0:
            raise IndexError(i)
        block = bisect.bisect_right(self._firsts, i) - 1
        j = i - self._firsts[block]
        ends = self._ends[block]
        return self._blocks[block][ends[j - 1] if j else 0 : ends[j]]


@dataclass(frozen=True, slots=True)
class Sheet:
    title: str
    path: str  # the part inside the archive
    visible: bool


@dataclass(slots=True)
class Book:
    """What reading any sheet needs: the archive, the strings, dates and sheets."""

    archive: zipfile.ZipFile
    sheets: list[Sheet]
    strings: SharedStrings
    date_styles: frozenset[int]
    timedelta_styles: frozenset[int]
    epoch: dt.datetime

    def open_part(self, name: str, limit: int) -> IO[bytes]:
        info = self.archive.getinfo(name)
        if info.file_size > limit:
            raise too_large()
        return self.archive.open(info)


def in_cell(el: Any) -> bool:
    for ancestor in el.iterancestors():
        tag = ancestor.tag
        if tag == TAG_C:
            return True
        if tag in (TAG_ROW, TAG_SHEET_DATA):
            return False
    return False


def _check_directory(book_file: IO[bytes]) -> None:
    """zipfile holds an object of ~500 bytes per entry of the central directory, and reads
    the directory by its size, not its count: 64 MB of tiny entries would be a million."""
    start = book_file.tell()
    try:
        end = zipfile._EndRecData(book_file)  # the record zipfile itself reads first
    finally:
        book_file.seek(start)
    if end and end[zipfile._ECD_SIZE] > MAX_DIRECTORY_BYTES:
        raise too_large()


def open_book(book_file: IO[bytes]) -> Book:
    """The workbook in `book_file`: its sheets, shared strings and date styles, checked."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH

    try:
        _check_directory(book_file)
        archive = zipfile.ZipFile(book_file)
    except RosterFileError:
        raise
    except XLSX_FAILURES as exc:
        raise RosterFileError.from_catalog("corrupt_xlsx", detail=type(exc).__name__) from None
    try:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            # A ZIP but not a workbook: .ods, .docx, a zipped folder.
            raise RosterFileError.from_catalog("unsupported_format")
        book = Book(archive, [], SharedStrings(), frozenset(), frozenset(), WINDOWS_EPOCH)
        date1904 = _read_workbook(book, names)
        book.epoch = CALENDAR_MAC_1904 if date1904 else WINDOWS_EPOCH
        if "xl/styles.xml" in names:
            _read_styles(book)
        if "xl/sharedStrings.xml" in names:
            with book.open_part("xl/sharedStrings.xml", MAX_SHARED_STRINGS_BYTES) as part:
                book.strings.load(part)
    except BaseException as exc:
        archive.close()
        if isinstance(exc, XLSX_FAILURES) and not isinstance(exc, RosterFileError):
            raise failure(exc) from None
        raise
    return book


def _read_workbook(book: Book, names: set[str]) -> bool:
    """Fills `book.sheets` (worksheets in order, chart sheets left out); True for the 1904
    date system."""
    targets: dict[str, str] = {}
    if "xl/_rels/workbook.xml.rels" in names:
        with book.open_part("xl/_rels/workbook.xml.rels", MAX_PART_BYTES) as part:
            for _, rel in iterparse(part, events=("end",), tag=f"{_PKG_REL}Relationship"):
                if (rel.get("Type") or "").endswith("/worksheet"):
                    target = rel.get("Target") or ""
                    path = target[1:] if target.startswith("/") else f"xl/{target}"
                    targets[rel.get("Id") or ""] = posixpath.normpath(path)
                drop(rel)
    date1904 = False
    with book.open_part("xl/workbook.xml", MAX_PART_BYTES) as part:
        for _, el in iterparse(part, events=("end",)):
            if el.tag == f"{_MAIN}sheet":
                path = targets.get(el.get(f"{_REL}id") or "")
                if path is not None and path in names:
                    state = el.get("state") or "visible"
                    book.sheets.append(Sheet(el.get("name") or "", path, state == "visible"))
            elif el.tag == f"{_MAIN}workbookPr":
                date1904 = (el.get("date1904") or "").lower() in ("1", "true")
            drop(el)
    return date1904


def _read_styles(book: Book) -> None:
    """Which cell styles show a number as a date (or a duration), as openpyxl decides it."""
    from openpyxl.styles.numbers import (
        builtin_format_code,
        is_date_format,
        is_timedelta_format,
    )

    custom: dict[int, str] = {}
    dates: set[int] = set()
    durations: set[int] = set()
    index = 0
    with book.open_part("xl/styles.xml", MAX_PART_BYTES) as part:
        for _, el in iterparse(part, events=("end",)):
            if el.tag == f"{_MAIN}numFmt":
                custom[int(el.get("numFmtId") or 0)] = el.get("formatCode") or ""
            elif el.tag == f"{_MAIN}xf" and el.getparent().tag == f"{_MAIN}cellXfs":
                number_format = int(el.get("numFmtId") or 0)
                fmt = custom.get(number_format) or builtin_format_code(number_format)
                if fmt and is_date_format(fmt):
                    dates.add(index)
                if fmt and is_timedelta_format(fmt):
                    durations.add(index)
                index += 1
            if not in_cell(el):
                drop(el)
    book.date_styles, book.timedelta_styles = frozenset(dates), frozenset(durations)
