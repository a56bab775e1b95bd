"""`check_roster` runs `submit_roster`'s own loop, without encrypting or writing: for the same
file it reports the counts and problems a submit reports on an empty registry. The run's rows
are counted once: the report, the run's row and its signed receipt say the same."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain.agencies import resolve_agency
from gateway.domain.records import Problem, RawRow, RowResult, Severity
from gateway.roster import prepare
from gateway.roster.run import check_roster
from gateway.roster.submit import submit_roster
from gateway.store.tables import runs
from tests.helpers.roster import HEADER, worker_row, write_roster

TODAY = date(2026, 11, 21)
MUARO_JAMBI = resolve_agency("15.05")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture(params=["serial", "pool"])
def lane(request, monkeypatch) -> str:
    if request.param == "pool":  # the submit prepares in a worker process, in small chunks
        monkeypatch.setattr("gateway.roster.run.PARALLEL_MIN_BYTES", 0)
        monkeypatch.setenv("JAMSOS_PREPARE_WORKERS", "1")
        monkeypatch.setattr("gateway.roster.read.chunks.CHUNK_BYTES", 300)
    return request.param


def _submit(gw, path, **kw):
    return submit_roster(gw.registry, path, agency=MUARO_JAMBI, today=TODAY, trigger="test",
                         batch_size=gw.config["BATCH_SIZE"], **kw)  # fmt: skip


def _said(report) -> tuple:
    return (report.rows, report.accepted, report.rejected, report.warnings, report.problems,
            report.problems_total, report.columns, report.unknown_columns)  # fmt: skip


def _mixed_roster(tmp_path):
    rows = [[*worker_row(i), "x"] for i in range(120)]
    rows[7][0] = "12345"  # unreadable NIK: rejected, names nobody
    rows[9][5] = "-"  # wage missing: rejected
    rows[20][6] = "01-01-2030"  # starts after today: a problem of its own
    rows.append([*worker_row(3), "x"])  # the same NIK again: rejected as a duplicate
    rows.append([*worker_row(9), "x"])  # a repeat of a rejected row's NIK: a duplicate too
    rows.append(["", "JUMLAH", "", "", "", "420000000", "", ""])  # skipped, with a warning
    return write_roster(tmp_path / "mixed.csv", rows, header=[*HEADER, "Catatan"])


def test_check_reports_what_a_submit_reports_on_an_empty_registry(gw, tmp_path, lane):
    path = _mixed_roster(tmp_path)
    checked = check_roster(path, agency=MUARO_JAMBI, today=TODAY)
    submitted = _submit(gw, path)
    assert submitted.status == "succeeded" and checked.status == "checked"
    assert _said(checked) == _said(submitted)
    codes = [p["code"] for p in checked.problems]
    assert codes.count("nik_duplicate") == 2 and "unknown_column" in codes


def test_a_file_refused_midway_is_reported_alike(gw, tmp_path):
    # Rows before the stray quote are not counted by either: the file is refused as a whole.
    path = write_roster(tmp_path / "b.csv", [worker_row(i) for i in range(5)])
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(";Pekerja", ';"Pekerja', 1)  # row 4 opens a quote
    path.write_text("".join(lines))
    checked = check_roster(path, agency=MUARO_JAMBI, today=TODAY)
    submitted = _submit(gw, path)
    assert checked.status == submitted.status == "rejected"
    assert _said(checked)[:6] == _said(submitted)[:6]
    assert (checked.rows, [p["code"] for p in checked.problems]) == (0, ["malformed_csv"])
    assert checked.columns["NIK"] == "nik"  # a check still says which header it read


def test_an_agency_check_applies_to_a_check_as_to_a_submit(gw, tmp_path):
    def no_drivers(raw: RawRow, res: RowResult) -> None:
        if res.record is not None and res.record.position == "Sopir":
            said = ("Sopir tidak didanai", "Drivers are not funded")
            res.problems.append(Problem(raw.row, "position", "no_drivers", Severity.ERROR, *said))
            res.record = None

    rows = [worker_row(i) for i in range(6)]
    rows[2][4] = "Sopir"
    path = write_roster(tmp_path / "r.csv", rows)
    checked = check_roster(path, agency=MUARO_JAMBI, today=TODAY, check_row=no_drivers)
    submitted = _submit(gw, path, check_row=no_drivers)
    assert _said(checked) == _said(submitted)
    assert (checked.accepted, [p["code"] for p in checked.problems]) == (5, ["no_drivers"])


def test_a_check_encrypts_digests_and_looks_up_nothing(gw, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a check must not seal or digest rows")

    monkeypatch.setattr(prepare, "seal_many", refuse)
    monkeypatch.setattr(prepare, "row_digest", refuse)
    checked = check_roster(_mixed_roster(tmp_path), agency=MUARO_JAMBI, today=TODAY)
    assert (checked.rows, checked.rejected) == (122, 5)


def test_the_run_and_its_receipt_carry_the_reports_one_count(gw, tmp_path, lane):
    first = _submit(gw, _mixed_roster(tmp_path))
    # Re-sent as other bytes: most rows known unchanged, counted without being validated.
    again_rows = [worker_row(i) for i in range(100)] + [worker_row(5)]
    again = _submit(gw, write_roster(tmp_path / "again.csv", again_rows))
    for report in (first, again):
        with gw.engine.connect() as conn:
            run = conn.execute(select(runs).where(runs.c.id == report.run_id)).mappings().one()
        counted = (report.rows, report.accepted, report.rejected, report.warnings)
        assert (run["rows"], run["accepted"], run["rejected"], run["warnings"]) == counted
        assert {k: run[k] for k in report.changes} == report.changes
        receipt = report.receipt
        assert (receipt["rows"], receipt["accepted"], receipt["rejected"]) == counted[:3]
    assert again.changes == {"new": 3, "changed": 0, "unchanged": 97, "ended": 20}
    assert (again.rows, again.accepted, again.rejected) == (101, 100, 1)
