"""The APBD budget feed (SIPD exports) as a finance office sends it: a sum with a line missing
is never recorded as a government's budget, and a revision that drops lines drops them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from gateway.budget.check import allocations
from gateway.roster.sync import sync_source
from gateway.sources.loader import make_plugin_manager, source_catalog

HEADER = "Kode Pemda;Nama Pemda;Tahun;Kode Sub Kegiatan;Kode Rekening;Uraian Rekening;Pagu"
JKK, JKM, JHT = "5.1.02.02.02.0006", "5.1.02.02.02.0007", "5.1.02.02.02.0010"
SALARY = "5.1.01.01.01.0001"
BASE = [
    f"15.05;Muaro Jambi;2025;A1;{JKK};JKK;30.500.000",
    f"15.05;Muaro Jambi;2025;A2;{JKK};JKK;10.000.000",
    f"15.05;Muaro Jambi;2025;A1;{JKM};JKM;45.500.000",
    f"15.05;Muaro Jambi;2025;A1;{JHT};JHT;350.000.000",
    f"17;Bengkulu;2025;A1;{JKK};JKK;18.300.000",
    f"17;Bengkulu;2025;A1;{JKM};JKM;27.300.000",
]


@pytest.fixture
def pm():
    return make_plugin_manager()


def export(tmp_path: Path, lines: list[str], name: str = "sipd.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def sync(gw, pm, path: Path):
    source = source_catalog(pm, {"apbd-sipd": {"path": str(path)}})["apbd-sipd"].create()
    return sync_source(gw.registry, pm, source, today=date(2025, 2, 1), trigger="test")


def apbd(gw, government: str) -> dict[str, int]:
    return allocations(gw.engine, government, 2025).get("apbd", {})


def codes(result) -> list[str]:
    return [p["code"] for p in result.report.problems]


def test_a_line_that_cannot_be_read_keeps_its_governments_budget(gw, pm, tmp_path):
    assert sync(gw, pm, export(tmp_path, BASE)).status == "succeeded"
    before = apbd(gw, "15.05")
    assert before == {JKK: 40_500_000, JKM: 45_500_000, JHT: 350_000_000}
    broken = [*BASE]
    broken[1] = f"15.05;Muaro Jambi;2025;A2;{JKK};JKK;sepuluh juta"  # a sub-activity's JKK
    broken[4] = f"17;Bengkulu;2025;A1;{JKK};JKK;19.000.000"  # Bengkulu revised: applies
    result = sync(gw, pm, export(tmp_path, broken, "revised.csv"))
    # It recorded JKK 30,500,000 (the sum without the line) and "succeeded" without a word.
    assert apbd(gw, "15.05") == before
    assert apbd(gw, "17") == {JKK: 19_000_000, JKM: 27_300_000}
    assert result.status == "succeeded" and "budget_kept" in codes(result)
    kept = next(p for p in result.report.problems if p["code"] == "budget_kept")
    assert "15.05" in kept["message_en"] and "2025" in kept["message_en"]


def test_a_revision_that_drops_a_governments_lines_drops_its_allocations(gw, pm, tmp_path):
    sync(gw, pm, export(tmp_path, BASE))
    revised = [*BASE[:4], f"17;Bengkulu;2025;A1;{SALARY};Gaji Pokok PNS;12.000.000.000"]
    result = sync(gw, pm, export(tmp_path, revised, "apbd-p.csv"))
    assert apbd(gw, "17") == {}  # kept JKK and JKM from the earlier export
    assert result.report.changes["ended"] == 2 and "budget_removed" in codes(result)


def test_an_export_without_contribution_lines_changes_nothing(gw, pm, tmp_path):
    sync(gw, pm, export(tmp_path, BASE))
    salaries = [f"15.05;Muaro Jambi;2025;A1;{SALARY};Gaji;20.000.000.000",
                f"17;Bengkulu;2025;A1;{SALARY};Gaji;12.000.000.000"]  # fmt: skip
    result = sync(gw, pm, export(tmp_path, salaries, "wrong.csv"))
    assert result.status == "rejected" and codes(result) == ["no_contribution_lines"]
    assert apbd(gw, "15.05") and apbd(gw, "17")  # a wrong export wipes nobody's budget


def test_a_line_repeated_for_the_same_sub_activity_is_not_counted_twice(gw, pm, tmp_path):
    sync(gw, pm, export(tmp_path, BASE))
    result = sync(gw, pm, export(tmp_path, [*BASE, BASE[0]], "twice.csv"))
    assert "budget_line_duplicate" in codes(result)
    assert apbd(gw, "15.05")[JKK] == 40_500_000  # was summed to 71,000,000


@pytest.mark.parametrize(
    ("written", "amount"),
    [('"30,500,000"', 30_500_000), ("30500000.00", 30_500_000), ("Rp 30.500.000,-", 30_500_000),
     ("0", 0)],
)  # fmt: skip
def test_amounts_are_read_as_roster_money_is(gw, pm, tmp_path, written, amount):
    line = f"15.05;Muaro Jambi;2025;A1;{JKK};JKK;{written}"
    result = sync(gw, pm, export(tmp_path, [line]))
    assert result.report.rejected == 0, result.report.problems  # "cannot be read" before
    assert apbd(gw, "15.05") == {JKK: amount}


def test_a_header_alone_is_rejected_with_a_reason(gw, pm, tmp_path):
    result = sync(gw, pm, export(tmp_path, []))
    assert result.status == "rejected" and codes(result) == ["no_data_rows"]  # was no problem


def test_a_workbook_with_budget_lines_on_several_sheets_is_refused(gw, pm, tmp_path):
    book = Workbook()
    first = book.active
    first.title = "15.05"
    second = book.create_sheet("17")
    for sheet, code in ((first, "15.05"), (second, "17")):
        sheet.append(HEADER.split(";"))
        sheet.append([code, "x", 2025, "A1", JKK, "JKK", 11_000_000])
    path = tmp_path / "sipd.xlsx"
    book.save(path)
    result = sync(gw, pm, path)
    assert result.status == "rejected" and codes(result) == ["several_data_sheets"]
    assert apbd(gw, "15.05") == {} and apbd(gw, "17") == {}  # sheet 2 was silently ignored
