"""Budget checks to CSV and XLSX, safe to open in a spreadsheet.

Text that starts with = + - @ (or a tab / carriage return) would be run as a formula by
Excel or LibreOffice: such cells get a leading apostrophe. Money stays numeric.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from gateway.domain.budget import BudgetCheck

HEADER = [
    "Pemerintah / Government",
    "Nama / Name",
    "Tahun / Year",
    "Status",
    "Program",
    "Kode Rekening / Account",
    "Alokasi / Allocated (Rp)",
    "Kewajiban / Obligation (Rp)",
    "Kekurangan / Gap (Rp)",
    "Pekerja / Workers",
    "Pekerja Tertanggung / Workers covered",
    "Bulan Tertanggung / Months covered",
    "Sumber Alokasi / Allocation source",
    "Beda APBD vs Deklarasi / APBD vs declared differ",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A spreadsheet cell value that cannot be executed as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def rows(checks: Iterable[tuple[BudgetCheck, str]]) -> Iterable[list[object]]:
    """One row per program line of each check (`(check, government name)` pairs)."""
    for check, name in checks:
        lines = check.lines or ()
        for line in lines or [None]:
            yield [
                neutralise(v)
                for v in (
                    check.government,
                    name,
                    check.fiscal_year,
                    check.status,
                    line.program if line else "",
                    line.account_code or "" if line else "",
                    line.allocated if line and line.allocated is not None else "",
                    line.obligation if line else 0,
                    line.gap if line else 0,
                    check.workers,
                    check.workers_covered,
                    check.months_covered,
                    check.allocation_source or "",
                    "ya / yes" if check.disagreement else "",
                )
            ]


def write_csv(path: Path, checks: Iterable[tuple[BudgetCheck, str]]) -> None:
    # utf-8-sig: Excel on Windows reads the BOM and shows Indonesian names correctly.
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(rows(checks))


def write_xlsx(path: Path, checks: Iterable[tuple[BudgetCheck, str]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Cek Anggaran")
    sheet.append(HEADER)
    for row in rows(checks):
        sheet.append(row)
    book.save(path)


def export(path: Path, checks: Iterable[tuple[BudgetCheck, str]]) -> None:
    """Write CSV or XLSX by the file's extension."""
    if path.suffix.lower() == ".xlsx":
        write_xlsx(path, checks)
    else:
        write_csv(path, checks)
