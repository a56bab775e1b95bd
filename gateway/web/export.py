"""Any dashboard list as an `.xlsx` workbook: one module every list page uses (issue 21).

A page describes its columns (`Column`: a header in the page's language, how to get the value
from a row, and what kind of value it is) and hands `xlsx_response` the rows, usually a
walk over its own keyset page query (store/exports.py), so an export holds one page in
memory. The workbook is written by openpyxl in write-only mode into a temporary file (on
disk past SPOOL_BYTES) and sent as an attachment.

What every export guarantees, whatever the page:

* **No formula injection.** A text cell beginning with `=`, `+`, `-`, `@`, a tab or a
  carriage return (a name or a job title typed into a roster as `=HYPERLINK(...)`) is
  written as text, never as a formula, and marked with Excel's quote prefix so it stays text
  when someone edits it. Characters XML cannot hold are dropped.
* **NIK masked.** A `nik` column shows `150501******0001` unless the reader's role may see
  whole NIKs (`NIK_WHOLE_ROLES`; none of the dashboard's roles may, docs/design.md §7).
* **Numbers are numbers**: counts, rupiah and percentages are numeric cells (rupiah and
  percentages with a number format), so a clerk can sum them; dates are dates. Cells that
  need no format or guard are appended as plain values: openpyxl writes them a third faster.
* A second sheet, "Keterangan", says what the list is, its filters, when and by whom it was
  exported; past Excel's row limit the list is cut and the sheet says so.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import Response, send_file
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from gateway import clock
from gateway.domain.nik import mask_nik
from gateway.web.auth import current_user
from gateway.web.i18n import fmt_dt, tr

SPOOL_BYTES = 8 * 1024 * 1024
MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows, less the header
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Roles that may read whole NIKs in an export. None of today's (docs/design.md §7): compliance
# viewers and operators read masked PII. A role added later is named here, nowhere else.
NIK_WHOLE_ROLES: frozenset[str] = frozenset()
# What a spreadsheet reads as the start of a formula (or, after a tab or CR, may in CSV).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMATS = {"money": '"Rp" #,##0', "percent": "0.0", "date": "yyyy-mm-dd"}
_WIDTHS = {"nik": 20, "int": 12, "money": 18, "percent": 10, "date": 12, "text": 24}


@dataclass(frozen=True)
class Column:
    """One column: its header (already in the page's language), the value of a row, and its
    kind: text, int, money, percent (a number, 57.3 for 57.3 %), date, or nik (masked)."""

    header: str
    value: Callable[[Any], Any]
    kind: str = "text"
    width: int | None = None


def key(name: str) -> Callable[[Any], Any]:
    """The value `row[name]` (for rows that are dicts)."""
    return lambda row: row.get(name)


def attr(name: str) -> Callable[[Any], Any]:
    """The value `row.name` (for rows that are objects)."""
    return lambda row: getattr(row, name, None)


def whole_niks_allowed() -> bool:
    user = current_user()
    return user is not None and user.role in NIK_WHOLE_ROLES


def safe_text(value: str) -> tuple[str, bool]:
    """The text as a cell may hold it, and whether it must be forced to text (it would
    start a formula)."""
    text = _ILLEGAL.sub("", value)
    return text, text.startswith(FORMULA_START)


def _cell(sheet: Any, value: Any, kind: str, whole_niks: bool) -> Any:
    if value is None or value == "":
        return None
    if kind == "nik":
        value = str(value) if whole_niks else mask_nik(str(value))
    elif kind == "int" and isinstance(value, int | float):
        return value  # a plain value: a styled cell costs a third more time per cell
    elif kind == "money" and isinstance(value, int | float):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = _FORMATS[kind]
        return cell
    elif kind == "percent" and isinstance(value, int | float):
        cell = WriteOnlyCell(sheet, value=round(float(value), 3))
        cell.number_format = _FORMATS[kind]
        return cell
    elif kind == "date" and isinstance(value, datetime):
        # Excel has no time zones: the moment as the dashboard shows it, in WIB.
        cell = WriteOnlyCell(sheet, value=_wib(value))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    elif kind == "date" and isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = _FORMATS["date"]
        return cell
    text, forced = safe_text(str(value))
    if not forced:
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # a string cell, never a formula (openpyxl reads "=" as one)
    cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    return cell


def write_xlsx(out: Any, columns: Sequence[Column], rows: Iterable[Any], *, sheet: str,
               about: Sequence[tuple[str, str]] = ()) -> int:
    """Write the workbook to the binary file `out`; the number of rows written."""
    book = Workbook(write_only=True)
    data = book.create_sheet(_sheet_name(sheet))
    bold = Font(bold=True)
    for i, column in enumerate(columns):
        letter = _letter(i)
        data.column_dimensions[letter].width = column.width or _WIDTHS.get(column.kind, 24)
    data.freeze_panes = "A2"
    header = []
    for column in columns:
        text, _ = safe_text(column.header)
        cell = WriteOnlyCell(data, value=text)
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    data.append(header)
    whole = whole_niks_allowed()
    written = 0
    cut = False
    for row in rows:
        if written >= MAX_ROWS:
            cut = True
            break
        data.append([_cell(data, c.value(row), c.kind, whole) for c in columns])
        written += 1
    data.auto_filter.ref = f"A1:{_letter(len(columns) - 1)}{written + 1}"
    notes = book.create_sheet("Keterangan")
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 70
    user = current_user()
    lines = [
        *about,
        (tr("Diekspor", "Exported"), fmt_dt(datetime.now(UTC))),
        (tr("Oleh", "By"), user.username if user else "–"),
        (tr("Baris", "Rows"), str(written)),
        ("NIK", tr("lengkap", "whole") if whole else tr("tersamar (6 digit awal, 4 digit akhir)",
                                                     "masked (first 6, last 4 digits)")),
    ]
    if cut:
        lines.append((tr("Dipotong", "Cut"), tr(
            f"Hanya {MAX_ROWS:,} baris pertama: batas baris Excel.".replace(",", "."),
            f"Only the first {MAX_ROWS:,} rows: Excel's row limit.")))
    for label, value in lines:
        notes.append([_cell(notes, label, "text", False), _cell(notes, value, "text", False)])
    book.save(out)
    return written


def xlsx_response(filename: str, columns: Sequence[Column], rows: Iterable[Any], *,
                  sheet: str, about: Sequence[tuple[str, str]] = ()) -> Response:
    """The rows as an attachment `filename` (.xlsx). `about`: (label, value) lines for the
    "Keterangan" sheet, e.g. the page's filters."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (sent, then closed)
    write_xlsx(spool, columns, rows, sheet=sheet, about=about)
    spool.seek(0)
    response = send_file(spool, mimetype=XLSX, as_attachment=True, download_name=filename,
                         max_age=0)
    response.call_on_close(spool.close)
    # Masked PII all the same: never kept by a shared browser or a proxy (send_file says
    # "no-cache", which allows keeping it).
    response.headers["Cache-Control"] = "no-store"
    return response


def _wib(moment: datetime) -> datetime:
    return clock.aware(moment).astimezone(clock.WIB).replace(tzinfo=None)  # type: ignore[union-attr]


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", " ", name)[:31] or "Data"
