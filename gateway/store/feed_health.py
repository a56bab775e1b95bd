"""What feed health is judged from (`gateway/sources/health.py`): per (agency, source) pair of
the `runs` table, its latest and latest successful runs, the reject rates of its latest runs,
and when each source last found nothing new; and the run totals /metrics reports.

Three queries over `runs` whatever its size: the groups, their latest and latest successful
runs (by id, in chunks), and (for the sparklines) each group's latest runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, func, select

from gateway.clock import aware
from gateway.store.tables import runs, source_state

TREND_RUNS = 12  # runs in the reject-rate sparkline

RUN_COLUMNS = (
    runs.c.id,
    runs.c.agency,
    runs.c.source,
    runs.c.status,
    runs.c.trigger,
    runs.c.started_at,
    runs.c.finished_at,
    runs.c.rows,
    runs.c.accepted,
    runs.c.rejected,
    runs.c.error,
    # What the run changed: a run that ended most of a workforce needs attention (health.py).
    runs.c.ended,
    runs.c.changed,
    runs.c.unchanged,
)


@dataclass(frozen=True)
class FeedGroup:
    """One (agency, source) pair of `runs`: its latest run, its latest successful run (ids)."""

    agency: str
    source: str
    last_id: int
    ok_id: int | None
    runs: int


@dataclass
class FeedRuns:
    groups: list[FeedGroup] = field(default_factory=list)
    by_id: dict[int, dict[str, Any]] = field(default_factory=dict)  # the runs groups name
    trends: dict[tuple[str, str], list[float | None]] = field(default_factory=dict)
    checked_at: dict[str, datetime] = field(default_factory=dict)  # source -> nothing new at


def _chunks(items: list[int], size: int = 500) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def read_feed_runs(engine: Engine, *, with_trend: bool = True) -> FeedRuns:
    """Every (agency, source) pair that has runs, with what judging its health needs."""
    ok_id = func.max(case((runs.c.status == "succeeded", runs.c.id)))
    groups = select(
        runs.c.agency, runs.c.source, func.max(runs.c.id), ok_id, func.count()
    ).group_by(runs.c.agency, runs.c.source)
    out = FeedRuns()
    with engine.connect() as conn:
        out.groups = [FeedGroup(*row) for row in conn.execute(groups).all()]
        wanted = sorted({i for g in out.groups for i in (g.last_id, g.ok_id) if i is not None})
        for chunk in _chunks(wanted):
            for r in conn.execute(select(*RUN_COLUMNS).where(runs.c.id.in_(chunk))).mappings():
                out.by_id[r["id"]] = dict(r)
        out.trends = _trends(conn) if with_trend else {}
        out.checked_at = {
            source: aware(checked)
            for source, checked in conn.execute(
                select(source_state.c.source, source_state.c.checked_at).where(
                    source_state.c.checked_at.is_not(None)
                )
            ).all()
        }
    return out


def _trends(conn: Connection) -> dict[tuple[str, str], list[float | None]]:
    """Reject rate of each group's latest TREND_RUNS finished runs, oldest first."""
    rank = (
        func.row_number()
        .over(partition_by=(runs.c.agency, runs.c.source), order_by=runs.c.id.desc())
        .label("rank")
    )
    inner = (
        select(runs.c.agency, runs.c.source, runs.c.id, runs.c.rows, runs.c.rejected, rank)
        .where(runs.c.status != "running")
        .subquery()
    )
    query = (
        select(inner.c.agency, inner.c.source, inner.c.rows, inner.c.rejected)
        .where(inner.c.rank <= TREND_RUNS)
        .order_by(inner.c.agency, inner.c.source, inner.c.id)
    )
    out: dict[tuple[str, str], list[float | None]] = {}
    for agency, source, rows, rejected in conn.execute(query):
        out.setdefault((agency, source), []).append(rejected / rows if rows else None)
    return out


@dataclass(frozen=True)
class RunTotals:
    by_status: dict[str, int]  # runs recorded, by current status
    accepted: int  # rows accepted by all runs
    rejected: int


def run_totals(engine: Engine) -> RunTotals:
    """Totals over every run recorded: two aggregate queries over `runs`."""
    with engine.connect() as conn:
        by_status = dict(
            conn.execute(select(runs.c.status, func.count()).group_by(runs.c.status)).all()
        )
        accepted, rejected = conn.execute(
            select(func.coalesce(func.sum(runs.c.accepted), 0),
                   func.coalesce(func.sum(runs.c.rejected), 0))
        ).one()
    return RunTotals(by_status, accepted, rejected)
