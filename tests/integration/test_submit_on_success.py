"""`submit_roster(on_success=...)`: what the caller writes there (the intake's declared budget
allocation) lands in the run's own transaction: committed with a succeeded run, rolled back
with a failed one, never written for a rejected one. Both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Connection, func, insert, select

from gateway.domain.agencies import resolve_agency
from gateway.roster.run import RunFailed
from gateway.roster.submit import submit_roster
from gateway.store.tables import budget_allocations, enrollments, runs
from tests.helpers.roster import worker_row, write_roster

TODAY = date(2026, 11, 21)
MUARO_JAMBI = resolve_agency("15.05")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def _declare(conn: Connection, run_id: int) -> None:
    conn.execute(
        insert(budget_allocations).values(
            government="15.05", fiscal_year=2026, account_code="5.1.02.02.02.0006",
            amount=12_000_000, source="declared", run_id=run_id, received_at=datetime.now(UTC),
        )
    )  # fmt: skip


def _count(gw, table) -> int:
    with gw.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _submit(gw, path, on_success):
    return submit_roster(gw.registry, path, agency=MUARO_JAMBI, today=TODAY, trigger="test",
                         on_success=on_success)  # fmt: skip


def test_on_success_is_committed_with_the_run(gw, tmp_path):
    seen: list[str] = []

    def declare(conn: Connection, run_id: int) -> None:
        # Inside the apply's transaction: the run is already marked succeeded there.
        seen.append(conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar_one())
        _declare(conn, run_id)

    report = _submit(gw, write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(5)]),
                     declare)  # fmt: skip
    assert report.status == "succeeded"
    assert seen == ["succeeded"]
    with gw.engine.connect() as conn:
        row = conn.execute(select(budget_allocations)).mappings().one()
    assert (row["run_id"], row["amount"]) == (report.run_id, 12_000_000)


def test_on_success_is_rolled_back_when_the_run_fails(gw, tmp_path):
    def declare_then_fail(conn: Connection, run_id: int) -> None:
        _declare(conn, run_id)
        raise RuntimeError("disk full")

    with pytest.raises(RunFailed) as failed:
        _submit(gw, write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(5)]),
                declare_then_fail)  # fmt: skip
    assert failed.value.report.status == "failed"
    # The allocation went with everything else the run wrote: nothing of it is kept.
    assert _count(gw, budget_allocations) == 0
    assert _count(gw, enrollments) == 0
    with gw.engine.connect() as conn:
        assert conn.execute(select(runs.c.status)).scalar_one() == "failed"


def test_on_success_is_not_called_for_a_rejected_run(gw, tmp_path):
    called: list[Connection] = []
    bad = worker_row(1)
    bad[0] = "123"  # no valid row: the run is rejected, not succeeded
    report = _submit(gw, write_roster(tmp_path / "r.csv", [bad]),
                     lambda conn, _run_id: called.append(conn))  # fmt: skip
    assert report.status == "rejected"
    assert called == []
    assert _count(gw, budget_allocations) == 0
