"""What the budget check reads (enrollments, month by month, and allocations) and what the APBD
feed writes (its allocation lines, its run's totals): the SQL of `gateway/budget/`.

The arithmetic stays in `gateway/budget/` and `gateway/domain/`; declared allocations (sent
with a roster) are `store/allocations.py`.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, not_, or_, select, text, update

from gateway.clock import aware
from gateway.domain.records import Problem
from gateway.store.apply import problem_row
from gateway.store.tables import (
    budget_allocations,
    enrollment_history,
    enrollments,
    problems,
    runs,
    workers,
)

# (wage, category, position, start date, end date) of an enrollment.
Facts = tuple[int, str, str | None, date, date | None]

_FACTS = (
    enrollments.c.wage,
    enrollments.c.category,
    enrollments.c.position,
    enrollments.c.start_date,
    enrollments.c.end_date,
)


def enrollments_of_year(
    engine: Engine, government: str, fiscal_year: int,
    unit_filter: Callable[[str | None], bool] | None = None,
) -> Iterator[tuple[date, Facts, list[tuple[date, Mapping[str, Any]]] | None]]:
    """(birth date, today's facts, changes) of each of the government's enrollments that may
    have been enrolled in the fiscal year, streamed.

    `changes` is None for an enrollment unchanged since the year began (its facts today held
    all year; only those enrolled in the year are listed); otherwise (the day a change was
    recorded, the facts just before it) of each change in the year, oldest first (possibly
    none), for an enrollment changed since the 1st of January (`updated_at` after
    `created_at`). `unit_filter`: only the enrollments whose work unit it takes (one NPP of a
    government with an NPP per work unit, gateway/reconcile/billing.py)."""
    first, last = date(fiscal_year, 1, 1), date(fiscal_year, 12, 31)
    year_began = datetime(fiscal_year, 1, 1, tzinfo=UTC)
    changed_since = and_(
        enrollments.c.updated_at >= year_began,
        enrollments.c.updated_at > enrollments.c.created_at,
    )
    held_all_year = (
        select(*_FACTS, workers.c.birth_date, enrollments.c.work_unit)
        .join(workers, workers.c.id == enrollments.c.worker_id)
        .where(
            and_(
                enrollments.c.agency == government,
                enrollments.c.start_date <= last,
                or_(enrollments.c.end_date.is_(None), enrollments.c.end_date >= first),
                not_(changed_since),
            )
        )
    )
    h = enrollment_history.c
    with_history = (
        select(enrollments.c.id, *_FACTS, workers.c.birth_date, h.at, h.before,
               enrollments.c.work_unit)
        .join(workers, workers.c.id == enrollments.c.worker_id)
        .outerjoin(
            enrollment_history,
            and_(h.enrollment_id == enrollments.c.id, h.change != "new", h.at >= year_began),
        )
        .where(and_(enrollments.c.agency == government, changed_since))
        .order_by(enrollments.c.id, h.at, h.id)
    )
    with engine.connect() as conn:
        for wage, category, position, start, end, birth, unit in conn.execution_options(
            yield_per=5000
        ).execute(held_all_year):
            if unit_filter is None or unit_filter(unit):
                yield birth, (wage, category, position, start, end), None
        rows = conn.execution_options(yield_per=5000).execute(with_history)
        for _, group in itertools.groupby(rows, key=lambda r: r[0]):
            history = list(group)
            _, wage, category, position, start, end, birth, _, _, unit = history[0]
            if unit_filter is not None and not unit_filter(unit):
                continue
            changes = [(aware(r.at).date(), r.before) for r in history if r.at is not None]
            yield birth, (wage, category, position, start, end), changes


def allocations(engine: Engine, government: str, fiscal_year: int) -> dict[str, dict[str, int]]:
    """{source: {account code or program: amount}} for a government and year."""
    out: dict[str, dict[str, int]] = {}
    query = select(
        budget_allocations.c.source, budget_allocations.c.account_code, budget_allocations.c.amount
    ).where(
        and_(
            budget_allocations.c.government == government,
            budget_allocations.c.fiscal_year == fiscal_year,
        )
    )
    with engine.connect() as conn:
        for source, account, amount in conn.execute(query):
            bucket = out.setdefault(source, {})
            bucket[account] = bucket.get(account, 0) + amount
    return out


def governments_with_data(engine: Engine, fiscal_year: int) -> list[str]:
    """Every government with enrollments or an allocation for the year (for the monthly DAG)."""
    with engine.connect() as conn:
        rostered = conn.execute(select(enrollments.c.agency).distinct()).scalars().all()
        budgeted = (
            conn.execute(
                select(budget_allocations.c.government)
                .where(budget_allocations.c.fiscal_year == fiscal_year)
                .distinct()
            )
            .scalars()
            .all()
        )
    return sorted({code for code in (*rostered, *budgeted) if code[:1].isdigit()})


def allocation_years(engine: Engine) -> set[int]:
    """The fiscal years any allocation was recorded for."""
    with engine.connect() as conn:
        return set(conn.execute(select(budget_allocations.c.fiscal_year).distinct()).scalars())


# -- the APBD feed's writes, inside its run's transaction ---------------------------------------


def apbd_lines(conn: Connection, government: str, fiscal_year: int) -> dict[str, int]:
    """{account code: amount} of the government's APBD lines for the year, as stored."""
    t = budget_allocations
    scope = and_(t.c.government == government, t.c.fiscal_year == fiscal_year,
                 t.c.source == "apbd")  # fmt: skip
    return dict(conn.execute(select(t.c.account_code, t.c.amount).where(scope)).all())


def lock_apbd_writes(conn: Connection) -> None:
    """Serialize APBD feed applies until `conn`'s transaction ends (SQLite: BEGIN IMMEDIATE
    already did). One lock for every budget source, not one per source: two exports may
    both list a government's year, and replacing its lines at once broke the unique index."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.blake2b(b"jamsos-apply:apbd", digest_size=8).digest(),
                             "big", signed=True)  # fmt: skip
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def replace_apbd_lines(
    conn: Connection,
    government: str,
    fiscal_year: int,
    lines: dict[str, int],
    *,
    run_id: int,
    received_at: datetime,
) -> None:
    """The government's APBD lines for the year become `lines` ({account code: amount})."""
    t = budget_allocations
    scope = and_(t.c.government == government, t.c.fiscal_year == fiscal_year,
                 t.c.source == "apbd")  # fmt: skip
    conn.execute(delete(t).where(scope))
    if lines:
        conn.execute(
            insert(t),
            [
                {
                    "government": government,
                    "fiscal_year": fiscal_year,
                    "account_code": account,
                    "amount": amount,
                    "source": "apbd",
                    "run_id": run_id,
                    "received_at": received_at,
                }
                for account, amount in sorted(lines.items())
            ],
        )


def add_problems(conn: Connection, run_id: int, found: Sequence[Problem]) -> None:
    """Store problems of the run (nothing when there are none)."""
    if found:
        conn.execute(insert(problems), [problem_row(run_id, p) for p in found])


def finish_run(
    conn: Connection,
    run_id: int,
    *,
    status: str,
    rows: int,
    accepted: int,
    rejected: int,
    warnings: int,
    changes: dict[str, int],
) -> None:
    """Record a budget run's outcome and totals (`changes`: new, changed, unchanged, ended)."""
    conn.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(
            status=status,
            finished_at=datetime.now(UTC),
            rows=rows,
            accepted=accepted,
            rejected=rejected,
            warnings=warnings,
            **changes,
        )
    )
