"""Writing the SIPP upload workbooks: one .xlsx per kind of mutation for one employer and
month, in openpyxl's write-only mode (rows streamed to disk, memory flat however many).

NIK, KPJ and every `text` column are string cells with number format "@": Excel would turn
a 16-digit NIK into 3.17E+15 and lose its last digit. Dates are text in the layout's pattern
(or real date cells with `excel-date`), money whole Rupiah without separators."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook as XlsxWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from gateway import Employer, OutgoingMutation
from jamsos_bpjs_sipp.layout import KINDS, Column, Layout, Workbook

TEXT = "@"


def file_name(book: Workbook, employer: Employer, month: str) -> str:
    name = book.file.format(npp=employer.npp, division=employer.division or "000", month=month,
                            kind=book.kind)  # fmt: skip
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def write_workbooks(layout: Layout, employer: Employer, month: str,
                    mutations: Sequence[OutgoingMutation], folder: Path) -> list[Path]:  # fmt: skip
    """One workbook per kind that has mutations, rows in the order given; the paths."""
    written = []
    for kind in KINDS:
        rows = [m for m in mutations if m.kind == kind]
        if not rows:
            continue
        book = layout.workbooks[kind]
        path = folder / file_name(book, employer, month)
        _write(layout, book, rows, path)
        written.append(path)
    return written


def _write(layout: Layout, book: Workbook, rows: Sequence[OutgoingMutation], path: Path) -> None:
    wb = XlsxWorkbook(write_only=True)
    ws = wb.create_sheet(book.sheet)
    bold = Font(bold=True)
    header = []
    for col in book.columns:
        cell = WriteOnlyCell(ws, value=col.header)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for m in rows:
        ws.append([_cell(ws, layout, col, layout.cell_value(col, m)) for col in book.columns])
    wb.save(path)


def _cell(ws: Any, layout: Layout, col: Column, value: Any) -> WriteOnlyCell:
    fmt = col.format
    if value is None or value == "":
        cell = WriteOnlyCell(ws, value=None)
        if fmt in ("text", "date", "month", "money-text"):
            cell.number_format = TEXT  # what staff type into it later stays text too
        return cell
    if fmt == "money":
        cell = WriteOnlyCell(ws, value=int(value))
        cell.number_format = "0"
        return cell
    if fmt == "excel-date" and isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = layout.excel_date_format
        return cell
    cell = WriteOnlyCell(ws, value=_text(layout, fmt, value))
    cell.number_format = TEXT
    return cell


def _text(layout: Layout, fmt: str, value: Any) -> str:
    if fmt == "month":
        if isinstance(value, str):
            value = datetime.strptime(value, "%Y-%m").date()
        return value.strftime(layout.month_pattern)
    if isinstance(value, (date, datetime)):
        return value.strftime(layout.date_pattern)
    return str(value)
