"""The registry on a real SQLite file and a real PostgreSQL: snapshots, idempotency, history,
rollback, encryption. Every test runs on both backends."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from gateway.domain.agencies import resolve_agency
from gateway.roster.run import RunFailed
from gateway.roster.submit import submit_roster
from gateway.store.apply import RosterApply
from gateway.store.tables import enrollment_history, enrollments, runs, workers
from tests.helpers.roster import HEADER, worker_row, write_roster

TODAY = date(2026, 11, 21)
MUARO_JAMBI = resolve_agency("15.05")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def submit(gw, path: Path, agency=MUARO_JAMBI, **kw):
    return submit_roster(
        gw.registry,
        path,
        agency=agency,
        today=TODAY,
        trigger="test",
        batch_size=gw.config["BATCH_SIZE"],
        **kw,
    )


def count(gw, table, *where) -> int:
    with gw.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def statuses(gw) -> dict[str, int]:
    with gw.engine.connect() as conn:
        rows = conn.execute(
            select(enrollments.c.status, func.count()).group_by(enrollments.c.status)
        ).all()
    return dict(rows)


def test_first_submission_enrolls_every_valid_worker(gw, tmp_path):
    report = submit(gw, write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(120)]))
    assert report.status == "succeeded"
    assert (report.rows, report.accepted, report.rejected) == (120, 120, 0)
    assert report.changes == {"new": 120, "changed": 0, "unchanged": 0, "ended": 0}
    assert count(gw, workers) == 120
    assert statuses(gw) == {"active": 120}
    assert count(gw, enrollment_history, enrollment_history.c.change == "new") == 120


def test_same_file_again_returns_the_original_run_and_changes_nothing(gw, tmp_path):
    path = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(10)])
    first = submit(gw, path)
    again = submit(gw, path)
    assert again.replayed and again.run_id == first.run_id
    assert again.accepted == 10
    assert count(gw, runs) == 1
    assert count(gw, enrollment_history) == 10


def test_same_file_after_rejected_files_is_still_a_replay_but_not_after_another_apply(
    gw, tmp_path
):
    path = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)])
    first = submit(gw, path)
    broken = write_roster(tmp_path / "broken.csv", [], header=["Nama", "Gaji"])
    assert submit(gw, broken).status == "rejected"  # no NIK column: applies nothing
    assert submit(gw, write_roster(tmp_path / "h.csv", [])).status == "rejected"
    again = submit(gw, path)
    assert again.replayed and again.run_id == first.run_id  # was applied as a new run
    assert count(gw, runs) == 3

    submit(gw, write_roster(tmp_path / "b.csv", [worker_row(i) for i in range(4)]))
    back = submit(gw, path)  # last month's file after this month's: a new statement
    assert not back.replayed and back.changes["ended"] == 1


def test_snapshot_adds_changes_and_ends_but_never_deletes(gw, tmp_path):
    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(5)]))
    # Worker 0 leaves, worker 1 gets a raise, worker 5 joins.
    rows = [worker_row(1, wage=4_000_000)] + [worker_row(i) for i in (2, 3, 4, 5)]
    report = submit(gw, write_roster(tmp_path / "b.csv", rows))
    assert report.changes == {"new": 1, "changed": 1, "unchanged": 3, "ended": 1}
    assert count(gw, enrollments) == 6  # nobody deleted
    assert statuses(gw) == {"active": 5, "ended": 1}
    with gw.engine.connect() as conn:
        ended = conn.execute(select(enrollments).where(enrollments.c.status == "ended")).one()
        assert ended.end_date == TODAY
        changed = conn.execute(
            select(enrollment_history).where(enrollment_history.c.change == "changed")
        ).one()
    assert changed.before["wage"] == 3_500_000 and changed.after["wage"] == 4_000_000
    # The lookup shows the worker's current facts.
    found = gw.registry.find_worker(worker_row(1)[0])
    assert found["enrollments"][0]["wage"] == 4_000_000


def test_an_ended_worker_who_returns_is_reactivated_with_history(gw, tmp_path):
    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(3)]))
    submit(gw, write_roster(tmp_path / "b.csv", [worker_row(i) for i in range(2)]))
    report = submit(gw, write_roster(tmp_path / "c.csv", [worker_row(i) for i in range(3)]))
    assert report.changes["changed"] == 1
    assert statuses(gw) == {"active": 3}
    assert count(gw, enrollment_history, enrollment_history.c.change == "reactivated") == 1


def test_a_rejected_row_does_not_end_the_workers_enrollment(gw, tmp_path):
    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(3)]))
    bad = worker_row(2)
    bad[5] = "-"  # wage unreadable: the row is rejected, the worker is still on the roster
    report = submit(gw, write_roster(tmp_path / "b.csv", [worker_row(0), worker_row(1), bad]))
    assert report.rejected == 1
    assert report.changes["ended"] == 0
    assert statuses(gw) == {"active": 3}


def test_a_file_with_no_acceptable_row_ends_nobody(gw, tmp_path):
    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(3)]))
    rows = [worker_row(i) for i in range(3)]
    for row in rows:
        row[0] = "12345"
    report = submit(gw, write_roster(tmp_path / "b.csv", rows))
    assert report.status == "rejected"
    assert report.accepted == 0 and report.rejected == 3
    assert statuses(gw) == {"active": 3}
    assert {p["code"] for p in report.problems} == {"nik_length"}


def test_a_quote_never_closed_rejects_the_file_and_ends_nobody(gw, tmp_path):
    """A stray quote used to swallow the rows after it into one cell: the file was applied
    without them, and the snapshot ended their workers."""
    rows = [worker_row(i) for i in range(5)]
    submit(gw, write_roster(tmp_path / "a.csv", rows))
    path = write_roster(tmp_path / "b.csv", rows)
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(";Pekerja", ';"Pekerja', 1)  # row 4 opens a quote
    path.write_text("".join(lines))

    report = submit(gw, path)
    assert report.status == "rejected"
    assert [p["code"] for p in report.problems] == ["malformed_csv"]
    assert "near row 4" in report.problems[0]["message_en"]
    assert statuses(gw) == {"active": 5}


def test_a_header_alone_is_rejected_with_a_reason_and_ends_nobody(gw, tmp_path):
    from gateway.roster.run import check_roster

    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(3)]))
    empty = write_roster(tmp_path / "header.csv", [[""] * 7, [""] * 7])  # and blank rows
    checked = check_roster(empty, agency=MUARO_JAMBI, today=TODAY)
    report = submit(gw, empty)
    for outcome in (checked, report):
        assert outcome.status == "rejected"
        assert [p["code"] for p in outcome.problems] == ["no_data_rows"]
        assert "not a single worker row" in outcome.problems[0]["message_en"]
    assert statuses(gw) == {"active": 3}


def test_a_rejected_header_alone_keeps_the_warnings_about_the_file(gw, tmp_path):
    # A header and a totals row: the clerk is told both why nothing was applied and that
    # the JUMLAH row was skipped, on the run as on a check.
    from gateway.roster.run import check_roster

    header_and_totals = write_roster(
        tmp_path / "totals.csv", [["", "JUMLAH", "", "", "", "15000000", ""]]
    )
    checked = check_roster(header_and_totals, agency=MUARO_JAMBI, today=TODAY)
    report = submit(gw, header_and_totals)
    for outcome in (checked, report):
        assert outcome.status == "rejected"
        assert [(p["row"], p["code"]) for p in outcome.problems] == [
            (1, "no_data_rows"),
            (2, "totals_row_skipped"),
        ], outcome.problems
        assert outcome.warnings == 1
    with gw.engine.connect() as conn:
        run = conn.execute(select(runs).where(runs.c.id == report.run_id)).one()
    assert (run.status, run.warnings, run.error) == ("rejected", 1, "no_data_rows")
    assert report.columns["NIK"] == "nik"  # the header was read: it was reported as {}


def test_problems_are_listed_in_row_order_with_the_files_warnings_among_them(gw, tmp_path):
    # The unknown column (row 1) and the totals row (row 5) are reported at the end of a file:
    # they were listed after every row's problems.
    from gateway.roster.run import check_roster

    bad = worker_row(1)
    bad[5] = "nol"  # a wage that is not a number: row 3
    rows = [[*worker_row(0), "x"], [*bad, "x"], [*worker_row(2), "x"],
            ["", "JUMLAH", "", "", "", "15000000", "", ""]]  # fmt: skip
    path = write_roster(tmp_path / "r.csv", rows, header=[*HEADER, "Catatan"])
    for outcome in (check_roster(path, agency=MUARO_JAMBI, today=TODAY), submit(gw, path)):
        assert [p["row"] for p in outcome.problems] == [1, 3, 5], outcome.problems


def test_same_nik_twice_is_an_error_on_the_second_occurrence(gw, tmp_path):
    rows = [worker_row(0), worker_row(1), worker_row(0)]
    report = submit(gw, write_roster(tmp_path / "r.csv", rows))
    assert (report.accepted, report.rejected) == (2, 1)
    dup = [p for p in report.problems if p["code"] == "nik_duplicate"]
    assert [p["row"] for p in dup] == [4]  # header is row 1: the third data row is row 4
    assert "2" in dup[0]["message_id"]  # names the first occurrence


def test_an_error_mid_apply_leaves_the_registry_unchanged_and_retry_works(
    gw, tmp_path, monkeypatch
):
    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(60)]))
    before = (
        count(gw, workers),
        count(gw, enrollments),
        count(gw, enrollment_history),
        statuses(gw),
    )
    # Batches are 50 rows: fail on the second batch, after the first was written.
    original = RosterApply.add_batch
    calls = {"n": 0}

    def failing(self, results, kept=(), known=(), found=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk unplugged")
        return original(self, results, kept, known, found)

    monkeypatch.setattr(RosterApply, "add_batch", failing)
    path = write_roster(tmp_path / "b.csv", [worker_row(i, wage=5_000_000) for i in range(30, 130)])
    with pytest.raises(RunFailed) as info:
        submit(gw, path)
    assert info.value.report.status == "failed"
    after = (
        count(gw, workers),
        count(gw, enrollments),
        count(gw, enrollment_history),
        statuses(gw),
    )
    assert after == before
    failed = gw.registry.get_run(info.value.report.run_id)
    assert failed["status"] == "failed" and "disk unplugged" in failed["error"]

    monkeypatch.setattr(RosterApply, "add_batch", original)
    retry = submit(gw, path)  # a failed run does not count as applied: the retry applies
    assert retry.status == "succeeded" and not retry.replayed
    assert retry.changes == {"new": 70, "changed": 30, "unchanged": 0, "ended": 30}


class TaskTimeout(BaseException):
    """Like Airflow's AirflowTaskTimeout: raised into the task, and not an Exception."""


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, TaskTimeout])
def test_an_interrupted_apply_is_recorded_failed_and_the_interruption_goes_on(
    gw, tmp_path, interruption
):
    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(60)]))
    before = (count(gw, enrollments), count(gw, enrollment_history), statuses(gw))

    def stop(rows, _fraction):  # Ctrl-C, or the task's execution_timeout, mid-apply
        if rows > 50:
            raise interruption()

    path = write_roster(tmp_path / "b.csv", [worker_row(i, wage=5_000_000) for i in range(30, 130)])
    with pytest.raises(interruption):
        submit(gw, path, progress=stop)
    assert (count(gw, enrollments), count(gw, enrollment_history), statuses(gw)) == before
    (run,) = [r for r in gw.registry.list_runs() if r["status"] != "succeeded"]
    assert run["status"] == "failed"  # was left `running` until marked interrupted hours later
    assert interruption.__name__ in run["error"]
    assert submit(gw, path).status == "succeeded"  # and safe to retry


def test_a_corrected_name_is_recorded_as_an_identity_change_without_the_name(gw, tmp_path):
    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(0, name="Rudi Hartono")]))
    report = submit(gw, write_roster(tmp_path / "b.csv", [worker_row(0, name="Rudy Hartono")]))
    assert report.changes["changed"] == 1
    found = gw.registry.find_worker(worker_row(0)[0])
    assert found["name"] == "Rudy Hartono"
    last = found["enrollments"][0]["history"][-1]
    # The change said nothing before: identical facts before and after.
    assert last["change"] == "changed" and last["after"]["identity"] == "changed"
    assert "Rud" not in json.dumps(last)  # still never a name in the history
    from click.testing import CliRunner

    from gateway.cli import main

    shown = CliRunner().invoke(main, ["workers", "find", worker_row(0)[0]]).output
    assert "berubah / changed: nama atau data identitas / name or identity details" in shown
    # A change of facts alone is not marked.
    submit(gw, write_roster(tmp_path / "c.csv", [worker_row(0, name="Rudy Hartono",
                                                            wage=4_000_000)]))  # fmt: skip
    last = gw.registry.find_worker(worker_row(0)[0])["enrollments"][0]["history"][-1]
    assert "identity" not in last["after"] and last["after"]["wage"] == 4_000_000


def test_the_same_file_with_other_line_ends_changes_nothing(gw, tmp_path):
    """A cell holding a line break read "Staf\r\nAdministrasi" from a CRLF file and
    "Staf\nAdministrasi" after a conversion to LF: a false change, recorded in the history."""
    header = "NIK;Nama;Jabatan;Unit Kerja;Gaji;TMT"
    row = (f'{worker_row(0)[0]};Budi Santoso;"Staf\r\nAdministrasi";"Dinas  Pendidikan";'
           "3.500.000;01-01-2024")
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(f"{header}\r\n{row}\r\n".encode())
    lf = tmp_path / "lf.csv"
    lf.write_bytes(crlf.read_bytes().replace(b"\r\n", b"\n"))
    submit(gw, crlf)
    assert submit(gw, lf).changes == {"new": 0, "changed": 0, "unchanged": 1, "ended": 0}
    enrolled = gw.registry.find_worker(worker_row(0)[0])["enrollments"][0]
    assert (enrolled["position"], enrolled["work_unit"]) == ("Staf Administrasi",
                                                             "Dinas Pendidikan")  # fmt: skip


def test_nik_and_name_are_not_stored_in_plaintext(gw, tmp_path):
    rows = [worker_row(i, name=f"Siti Rahmawati {i}") for i in range(20)]
    submit(gw, write_roster(tmp_path / "r.csv", rows))
    blob = stored_bytes(gw)
    for row in rows:
        assert row[0].encode() not in blob
        assert row[1].encode() not in blob
    found = gw.registry.find_worker(rows[3][0])
    assert found["name"] == "Siti Rahmawati 3"
    assert found["nik"] == rows[3][0][:6] + "******" + rows[3][0][-4:]


def test_agencies_are_separate_snapshots(gw, tmp_path):
    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(4)]))
    jakarta = resolve_agency("31")
    report = submit(
        gw, write_roster(tmp_path / "b.csv", [worker_row(i) for i in range(2)]), agency=jakarta
    )
    # The same workers enrolled by a second agency: new enrollments, Muaro Jambi's untouched.
    assert report.changes == {"new": 2, "changed": 0, "unchanged": 0, "ended": 0}
    assert count(gw, workers) == 4
    assert statuses(gw) == {"active": 6}


def stored_bytes(gw) -> bytes:
    """Everything the database holds: the SQLite file (and WAL), or every PostgreSQL row."""
    if gw.is_sqlite:
        gw.engine.dispose()  # flush WAL into the file
        db_file = Path(gw.config["INSTANCE_PATH"]) / "jamsos.db"
        blob = db_file.read_bytes()
        for path in (db_file, Path(str(db_file) + "-wal")):
            if path.exists():
                blob += path.read_bytes()
        return blob
    with gw.engine.connect() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        return b"\n".join(
            row.encode()
            for table in list(tables)
            for row in conn.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()
        )
