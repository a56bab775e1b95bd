"""Writing the SIPP upload workbooks: one .xlsx per kind of mutation for one employer and
month, in openpyxl's write-only mode (rows streamed to disk, memory flat however many).

NIK, KPJ and every `text` column are string cells with number format "@" (the column's
format too, for what staff type into it): Excel would turn a 16-digit NIK into 3.17E+15 and
lose its last digit. Dates are text in the layout's pattern
(or real date cells with `excel-date`), money whole Rupiah without separators."""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook as XlsxWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

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
    formats = [_number_format(layout, col) for col in book.columns]
    for n, (col, fmt) in enumerate(zip(book.columns, formats, strict=True), start=1):
        # The column's own format too: what staff type into an empty cell stays text.
        dim = ws.column_dimensions[get_column_letter(n)]
        dim.number_format = fmt
        dim.width = max(12, len(col.header) + 2)
    bold = Font(bold=True)
    header = []
    for col in book.columns:
        cell = WriteOnlyCell(ws, value=col.header)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    styles = []  # one style per column, copied onto each cell (setting it anew is slow)
    for fmt in formats:
        template = WriteOnlyCell(ws)
        template.number_format = fmt
        styles.append(template._style)
    plan = list(zip(book.columns, styles, strict=True))
    for m in rows:
        ws.append([_cell(ws, layout, col, style, layout.cell_value(col, m))
                   for col, style in plan])  # fmt: skip
    wb.save(path)


def _number_format(layout: Layout, col: Column) -> str:
    if col.format == "money":
        return "0"
    if col.format == "excel-date":
        return layout.excel_date_format
    return TEXT


def _cell(ws: Any, layout: Layout, col: Column, style: Any, value: Any) -> WriteOnlyCell | None:
    if value is None or value == "":
        return None  # empty: the column's format applies
    fmt = col.format
    if fmt == "money":
        value = int(value)
    elif not (fmt == "excel-date" and isinstance(value, date)):
        value = _text(layout, fmt, value)
    cell = WriteOnlyCell(ws, value=value)
    cell._style = copy(style)
    return cell


def _text(layout: Layout, fmt: str, value: Any) -> str:
    if fmt == "month":
        if isinstance(value, str):
            value = datetime.strptime(value, "%Y-%m").date()
        return value.strftime(layout.month_pattern)
    if isinstance(value, (date, datetime)):
        return value.strftime(layout.date_pattern)
    return str(value)
