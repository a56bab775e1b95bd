"""A re-sent row that is exactly what the registry holds is recognised by its row digest:
not validated or encrypted again, yet the run's outcome is the one a full check would give."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect

from gateway.domain.agencies import resolve_agency
from gateway.domain.records import Category, RawRow
from gateway.roster import prepare
from gateway.roster.submit import submit_roster
from gateway.store import db
from tests.helpers.roster import HEADER, worker_row, write_roster

TODAY = date(2026, 11, 21)
AGENCY = "15.05"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture(params=["serial", "pool"])
def lane(request, monkeypatch) -> str:
    if request.param == "pool":  # worker processes reading the file in small chunks
        monkeypatch.setattr("gateway.roster.run.PARALLEL_MIN_BYTES", 0)
        monkeypatch.setenv("JAMSOS_PREPARE_WORKERS", "1")
        monkeypatch.setattr("gateway.roster.read.chunks.CHUNK_BYTES", 300)
    return request.param


def _submit(gw, path: Path):
    return submit_roster(
        gw.registry, path, agency=resolve_agency(AGENCY), today=TODAY, trigger="test",
        batch_size=gw.config["BATCH_SIZE"],
    )  # fmt: skip


def _minor() -> list[str]:
    """A 16-year-old at the start date: accepted with an age_under_18 warning."""
    row = worker_row(900)
    row[6] = "01-01-2025"
    born = date(2008, 6, 1)
    from gateway.domain.nik import make_nik
    from gateway.domain.records import Gender

    row[0] = make_nik("15.05", born, Gender.MALE, serial=901)
    row[2], row[3] = "L", born.strftime("%d-%m-%Y")
    return row


def _comma_file(path: Path, rows: list[list[str]]) -> Path:
    """The same cells in other bytes: a re-export, not a replay of the same file."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=",")
        writer.writerow(list(reversed(HEADER)))  # other column order too
        writer.writerows([list(reversed(r)) for r in rows])
    return path


def test_a_resent_roster_is_known_unchanged_and_warns_again(gw, tmp_path, lane):
    rows = [worker_row(i) for i in range(40)] + [_minor()]
    first = _submit(gw, write_roster(tmp_path / "a.csv", rows))
    assert first.changes == {"new": 41, "changed": 0, "unchanged": 0, "ended": 0}

    again = _submit(gw, _comma_file(tmp_path / "b.csv", rows))
    assert not again.replayed
    assert again.changes == {"new": 0, "changed": 0, "unchanged": 41, "ended": 0}
    assert (again.accepted, again.rejected, again.warnings) == (41, 0, 1)
    # The minor's row had a warning, so it left no digest: it is checked (and warned) again.
    assert [p["code"] for p in again.problems] == ["age_under_18"]


def test_known_rows_skip_validation(gw, tmp_path, monkeypatch):
    rows = [worker_row(i) for i in range(40)] + [_minor()]
    _submit(gw, write_roster(tmp_path / "a.csv", rows))
    validated: list[int] = []
    real = prepare.validate_row

    def counting(raw, **kw):
        validated.append(raw.row)
        return real(raw, **kw)

    monkeypatch.setattr(prepare, "validate_row", counting)
    again = _submit(gw, _comma_file(tmp_path / "b.csv", rows))
    assert again.changes["unchanged"] == 41
    assert validated == [42]  # only the row with a warning


def test_changed_ended_and_reactivated_rows_are_not_taken_for_known(gw, tmp_path, lane):
    rows = [worker_row(i) for i in range(10)]
    _submit(gw, write_roster(tmp_path / "a.csv", rows))
    second = [worker_row(i, wage=4_200_000 if i == 3 else 3_500_000) for i in range(9)]
    report = _submit(gw, write_roster(tmp_path / "b.csv", second))
    assert report.changes == {"new": 0, "changed": 1, "unchanged": 8, "ended": 1}

    # The first roster again: worker 3's old wage, worker 9 back (their digests are stored,
    # but 3's enrollment changed since and 9's was ended).
    report = _submit(gw, _comma_file(tmp_path / "c.csv", rows))
    assert report.changes == {"new": 0, "changed": 2, "unchanged": 8, "ended": 0}
    found = gw.registry.find_worker(worker_row(9)[0])["enrollments"][0]
    assert found["status"] == "active"
    assert gw.registry.find_worker(worker_row(3)[0])["enrollments"][0]["wage"] == 3_500_000


def test_a_known_row_sent_twice_is_still_a_duplicate(gw, tmp_path, lane):
    rows = [worker_row(i) for i in range(5)]
    _submit(gw, write_roster(tmp_path / "a.csv", rows))
    report = _submit(gw, _comma_file(tmp_path / "b.csv", [*rows, worker_row(2)]))
    assert (report.accepted, report.rejected) == (5, 1)
    assert [(p["row"], p["code"]) for p in report.problems] == [(7, "nik_duplicate")]
    assert report.changes == {"new": 0, "changed": 0, "unchanged": 5, "ended": 0}


def test_row_digest_is_keyed_and_ignores_column_order(monkeypatch):
    values = {"nik": "1505014101800002", "name": "Ani", "wage": "3.500.000", "kpj": None}
    key, other_key = b"k" * 64, b"j" * 64
    digest = prepare.row_digest(RawRow(2, values), key, None)
    reordered = dict(reversed(list(values.items())))
    assert prepare.row_digest(RawRow(9, reordered), key, None) == digest  # row number aside
    assert prepare.row_digest(RawRow(2, values), other_key, None) != digest
    assert prepare.row_digest(RawRow(2, {**values, "name": "Ani "}), key, None) != digest
    assert prepare.row_digest(RawRow(2, values), key, Category.HONORER) != digest
    assert prepare.row_digest(RawRow(2, values, frozenset({"nik"})), key, None) != digest
    monkeypatch.setattr(prepare, "ROW_RULES", prepare.ROW_RULES + "+1")  # new rules: retired
    assert prepare.row_digest(RawRow(2, values), key, None) != digest


def test_migration_0005_adds_the_digest_to_an_existing_registry(tmp_path):
    from alembic import command

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        # 0001 builds from today's tables: take away what 0005 adds, as a 0004 registry was
        conn.exec_driver_sql("DROP INDEX ix_enrollments_agency_row_digest")
        conn.exec_driver_sql("ALTER TABLE enrollments DROP COLUMN row_digest")
    db.upgrade(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("enrollments")}
    indexes = {i["name"] for i in inspect(engine).get_indexes("enrollments")}
    assert "row_digest" in columns and "ix_enrollments_agency_row_digest" in indexes
    with engine.begin() as conn:  # and back, with foreign keys on (store/db.py)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    assert "row_digest" not in {c["name"] for c in inspect(engine).get_columns("enrollments")}
    engine.dispose()
