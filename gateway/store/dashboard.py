"""What the dashboard's pages read (gateway/web/): counts per agency, the stamps its caches
are keyed by, an agency's workers and runs, the run list and a run's problems, paged by
keyset so the thousandth page costs what the first does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, select, tuple_

from gateway.store.problem_sets import holder_of
from gateway.store.tables import budget_allocations, enrollments, problems, runs, workers


def registry_stamp(engine: Engine) -> tuple:
    """Changes whenever a run starts or finishes: only runs change enrollments, so counts
    made under the same stamp are still right (one pass over `runs`, a few ms at 10,000)."""
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.max(runs.c.id), func.max(runs.c.finished_at))).one())


def enrollment_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """{agency: {"active": n, "ended": m}}: one pass over the (agency, status) index."""
    out: dict[str, dict[str, int]] = {}
    query = select(enrollments.c.agency, enrollments.c.status, func.count()).group_by(
        enrollments.c.agency, enrollments.c.status
    )
    with engine.connect() as conn:
        for agency, status, n in conn.execute(query):
            out.setdefault(agency, {"active": 0, "ended": 0})[status] = n
    return out


def agency_status_counts(engine: Engine, agency: str) -> dict[str, int]:
    """{status: enrollments} of one agency."""
    with engine.connect() as conn:
        return dict(conn.execute(
            select(enrollments.c.status, func.count())
            .where(enrollments.c.agency == agency).group_by(enrollments.c.status)
        ).all())  # fmt: skip


def budget_stamps(engine: Engine, year: int) -> tuple[dict[str, int], dict[str, tuple]]:
    """Per government: its latest succeeded run, and a signature of its allocation rows for
    `year` ((source, rows, highest id, total) per source, sources in order)."""
    with engine.connect() as conn:
        last_run = dict(
            conn.execute(
                select(runs.c.agency, func.max(runs.c.id))
                .where(runs.c.status == "succeeded")
                .group_by(runs.c.agency)
            ).all()
        )
        alloc: dict[str, tuple] = {}
        for gov, source, n, top, total in conn.execute(
            select(
                budget_allocations.c.government,
                budget_allocations.c.source,
                func.count(),
                func.max(budget_allocations.c.id),
                func.sum(budget_allocations.c.amount),
            )
            .where(budget_allocations.c.fiscal_year == year)
            .group_by(budget_allocations.c.government, budget_allocations.c.source)
            .order_by(budget_allocations.c.government, budget_allocations.c.source)
        ):
            # Both sources count: a new declaration changes the check's "disagreement".
            alloc[gov] = (*alloc.get(gov, ()), (source, n, top, int(total or 0)))
    return last_run, alloc


def runs_of(engine: Engine, agency: str, limit: int = 10) -> list[dict[str, Any]]:
    """The agency's latest runs, newest first, with their counts."""
    query = (
        select(runs.c.id, runs.c.source, runs.c.status, runs.c.started_at, runs.c.rows,
               runs.c.accepted, runs.c.rejected, runs.c.new, runs.c.changed, runs.c.ended)
        .where(runs.c.agency == agency)
        .order_by(runs.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def succeeded_changes(engine: Engine, agency: str) -> Iterator[tuple[datetime, int, int, int]]:
    """(started at, new, changed, ended) of each of the agency's succeeded runs: the runs
    table already counts each run's changes, so the history table is not scanned."""
    query = select(runs.c.started_at, runs.c.new, runs.c.changed, runs.c.ended).where(
        and_(runs.c.agency == agency, runs.c.status == "succeeded")
    )
    with engine.connect() as conn:
        yield from conn.execute(query)  # type: ignore[misc]


def worker_page(
    engine: Engine, agency: str, status: str | None, after: int | None, before: int | None,
    size: int,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `size` of the agency's enrollments (with their worker's encrypted NIK and name)
    by keyset on the enrollment id, in id order: after `after`, or the page before `before`;
    and whether there are more beyond it in that direction."""
    cond = [enrollments.c.agency == agency]
    if status:
        cond.append(enrollments.c.status == status)
    query = select(
        enrollments.c.id, enrollments.c.category, enrollments.c.position,
        enrollments.c.work_unit, enrollments.c.wage, enrollments.c.start_date,
        enrollments.c.end_date, enrollments.c.status, workers.c.nik_enc, workers.c.name_enc,
        workers.c.gender,
    ).join(workers, workers.c.id == enrollments.c.worker_id)
    if before is not None:
        query = query.where(and_(*cond, enrollments.c.id < before))
        query = query.order_by(enrollments.c.id.desc())
    else:
        if after is not None:
            cond.append(enrollments.c.id > after)
        query = query.where(and_(*cond)).order_by(enrollments.c.id)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query.limit(size + 1)).mappings()]
    more = len(rows) > size
    rows = rows[:size]
    if before is not None:
        rows.reverse()
    return rows, more


def list_runs(
    engine: Engine, *, agency: str | None, source: str | None, status: str | None,
    before: int | None, limit: int,
) -> list[dict[str, Any]]:
    """Runs newest first, filtered, before the id `before` (a keyset)."""
    cond = []
    if agency:
        cond.append(runs.c.agency == agency)
    if source:
        cond.append(runs.c.source == source)
    if status:
        cond.append(runs.c.status == status)
    if before:
        cond.append(runs.c.id < before)
    query = select(runs).where(*cond).order_by(runs.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def run_filter_choices(engine: Engine, agency: str | None = None) -> dict[str, list[str]]:
    """What the run list's filter offers: the agencies and the sources that have runs (of
    `agency` alone for a user bound to it), each sorted."""
    agencies = select(runs.c.agency).distinct()
    sources = select(runs.c.source).distinct()
    if agency:
        agencies, sources = agencies.where(runs.c.agency == agency), sources.where(
            runs.c.agency == agency)
    with engine.connect() as conn:
        return {"agencies": sorted(conn.execute(agencies).scalars()),
                "sources": sorted(conn.execute(sources).scalars())}  # fmt: skip


def problem_counts(engine: Engine, run_id: int) -> list[Any]:
    """(code, field, severity, count) of the run's problems, most frequent first: a pass over
    all of them (0.1 s per 100,000)."""
    with engine.connect() as conn:
        run_id = holder_of(conn, run_id)  # an unchanged re-sync's: an earlier run's rows
        return list(conn.execute(
            select(problems.c.code, problems.c.field, problems.c.severity, func.count())
            .where(problems.c.run_id == run_id)
            .group_by(problems.c.code, problems.c.field, problems.c.severity)
            .order_by(func.count().desc())
        ).all())  # fmt: skip


def problem_page(
    engine: Engine, run_id: int, filters: dict[str, str], after: tuple[int, int] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to `limit` of the run's problems in (row, id) order, after the (row, id) `after`.

    `filters`: "code", "field" ("-": problems about the whole file, with no field) and
    "severity", each optional. Keyset over the (run_id, row) index."""
    with engine.connect() as conn:
        run_id = holder_of(conn, run_id)  # an unchanged re-sync's: an earlier run's rows
    cond = [problems.c.run_id == run_id]
    if "code" in filters:
        cond.append(problems.c.code == filters["code"])
    if "field" in filters:
        cond.append(problems.c.field.is_(None) if filters["field"] == "-"
                    else problems.c.field == filters["field"])  # fmt: skip
    if "severity" in filters:
        cond.append(problems.c.severity == filters["severity"])
    query = select(
        problems.c.id, problems.c.row, problems.c.field, problems.c.code, problems.c.severity,
        problems.c.message_id, problems.c.message_en,
    ).where(and_(*cond))
    if after is not None:
        # A row-value comparison: SQLite and PostgreSQL both walk the (run_id, row) index
        # from that point, where an OR of the two cases made SQLite scan the run's problems.
        query = query.where(tuple_(problems.c.row, problems.c.id) > tuple_(*after))
    query = query.order_by(problems.c.row, problems.c.id).limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
