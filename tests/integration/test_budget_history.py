"""A budget obligation is owed month by month at the facts the registry held for that month:
a raise does not restate the months before it, and the months a worker was ended cost
nothing (docs/domain.md §2 and §5). Both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import and_, update

from gateway.budget.check import check_budget
from gateway.budget.periods import month_periods
from gateway.budget.rates import load_packages, load_schedule
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store.tables import enrollment_history, enrollments
from tests.helpers.roster import worker_row, write_roster

# Honorer of a regional government: JKK class 1 (0.24 %) + JKM (0.30 %), employer only.
MONTH_3M = 7_200 + 9_000
MONTH_4M = 9_600 + 12_000
MONTH_6M = 14_400 + 18_000


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def sent_on(gw, tmp_path, day: date, rows: list[list[str]]) -> int:
    """Submit a roster of Kabupaten Muaro Jambi as if on `day`: its changes are recorded then
    (history `at`, the enrollments' timestamps), as a run of that day would record them."""
    path = write_roster(tmp_path / f"{day}.csv", rows)
    report = submit_roster(gw.registry, path, agency=resolve_agency("15.05"), today=day,
                           trigger="test")  # fmt: skip
    assert report.status == "succeeded", report.problems
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    e = enrollments.c
    with gw.engine.begin() as conn:
        conn.execute(
            update(enrollment_history)
            .where(enrollment_history.c.run_id == report.run_id)
            .values(at=at)
        )
        conn.execute(
            update(enrollments)
            .where(e.first_run_id == report.run_id)
            .values(created_at=at, updated_at=at)
        )
        conn.execute(update(enrollments)
                     .where(and_(e.last_run_id == report.run_id, e.first_run_id != report.run_id))
                     .values(updated_at=at))  # fmt: skip
    return report.run_id


def row(i: int, wage: int, tmt: str = "01-01-2025") -> list[str]:
    r = worker_row(i, wage=wage)
    r[6] = tmt
    return r


def obligation(gw, year: int):
    return check_budget(gw.engine, "15.05", year, schedule=load_schedule(),
                        packages=load_packages())  # fmt: skip


def test_a_raise_does_not_restate_the_months_before_it(gw, tmp_path):
    sent_on(gw, tmp_path, date(2025, 1, 2), [row(0, 3_000_000)])
    assert obligation(gw, 2025).obligation == 12 * MONTH_3M
    sent_on(gw, tmp_path, date(2026, 11, 20), [row(0, 6_000_000)])  # raised in November 2026
    assert obligation(gw, 2025).obligation == 12 * MONTH_3M  # was 12 x 6M: a closed year
    year = obligation(gw, 2026)
    assert year.obligation == 10 * MONTH_3M + 2 * MONTH_6M  # was 12 x 6M
    assert (year.workers, year.worker_months) == (1, 12)
    assert obligation(gw, 2027).obligation == 12 * MONTH_6M  # today's facts onward


def test_the_months_a_worker_was_ended_cost_nothing(gw, tmp_path):
    rina, sari = row(1, 4_000_000), row(2, 3_000_000)
    sent_on(gw, tmp_path, date(2026, 3, 15), [rina, sari])
    sent_on(gw, tmp_path, date(2026, 4, 20), [sari])  # Rina ended on 20 April
    sent_on(gw, tmp_path, date(2026, 9, 10), [sari, rina])  # and back in September
    year = obligation(gw, 2026)
    # Rina: January-April and September-December (was charged all 12 months).
    assert year.obligation == 8 * MONTH_4M + 12 * MONTH_3M
    assert (year.workers, year.worker_months) == (2, 20)


def test_a_worker_ended_last_year_costs_nothing_this_year(gw, tmp_path):
    sent_on(gw, tmp_path, date(2025, 1, 2), [row(1, 4_000_000), row(2, 3_000_000)])
    sent_on(gw, tmp_path, date(2025, 6, 30), [row(2, 3_000_000)])
    assert obligation(gw, 2025).obligation == 6 * MONTH_4M + 12 * MONTH_3M
    assert obligation(gw, 2026).obligation == 12 * MONTH_3M


def test_month_periods_take_the_facts_held_at_each_months_end():
    old = {"wage": 3_000_000, "category": "honorer", "position": "A", "start_date": "2025-01-01",
           "end_date": None, "status": "active"}  # fmt: skip
    today = (6_000_000, "honorer", "A", date(2025, 1, 1), None)
    # A change on the last day of May counts for May; one on 1 June from June.
    for day, may_wage in ((date(2026, 5, 31), 6_000_000), (date(2026, 6, 1), 3_000_000)):
        periods = month_periods(2026, [(day, old)], today)
        may = [p for p in periods if p[3] <= date(2026, 5, 1) <= p[4]]
        assert [p[0] for p in may] == [may_wage]
    # Two changes in one month: the month takes the last.
    mid = dict(old, wage=4_000_000)
    periods = month_periods(2026, [(date(2026, 3, 2), old), (date(2026, 3, 20), mid)], today)
    assert periods == (
        (3_000_000, "honorer", "A", date(2026, 1, 1), date(2026, 2, 28)),
        (6_000_000, "honorer", "A", date(2026, 3, 1), date(2026, 12, 31)),
    )
