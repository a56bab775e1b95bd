"""A run's problems kept once when an unchanged re-sync finds the same again (issue 21).

A feed synced every day from unchanged data reports the same problems every day (10,065
rows a day grew the `problems` table to 70,075 in a week). A run whose problems are exactly
those of its source's previous finished run stores none of its own: `runs.problems_run_id`
names the run that holds them (a rejected re-sync's too), and every reader asks `holder_of`
first, so the run still shows them (the dashboard, its CSV export, the API, `jamsos runs`).
Its counts (`warnings`, `rejected`) stay its own.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, delete, func, select, update

from gateway.store.tables import problems, runs

_FIELDS = (problems.c.row, problems.c.field, problems.c.code, problems.c.severity,
           problems.c.message_id, problems.c.message_en)  # fmt: skip


def holder_of(conn: Connection, run_id: int) -> int:
    """The run whose `problems` rows are `run_id`'s: itself, or the earlier run it shares
    them with."""
    shared = conn.execute(select(runs.c.problems_run_id).where(runs.c.id == run_id)).scalar()
    return shared or run_id


def _digest(conn: Connection, run_id: int) -> tuple[int, str]:
    """(count, SHA-256) of a run's problems as a set of rows, whatever order they went in."""
    found = sorted(
        tuple("" if v is None else str(v) for v in r)
        for r in conn.execute(select(*_FIELDS).where(problems.c.run_id == run_id))
    )
    digest = hashlib.sha256()
    for r in found:
        digest.update("\x1f".join(r).encode() + b"\x1e")
    return len(found), digest.hexdigest()


def share_with_previous(conn: Connection, run_id: int, source: str, agency: str) -> int | None:
    """If `run_id`'s problems equal those of the source's previous finished run (succeeded or
    rejected: a failed run keeps no problems), drop its own copy and point at the run holding
    them. Returns that run's id, or None (different problems, none at all, or no previous
    run). Run inside the run's transaction, or right after it committed."""
    previous = conn.execute(
        select(runs.c.id, runs.c.problems_run_id)
        .where(runs.c.source == source, runs.c.agency == agency,
               runs.c.status.in_(("succeeded", "rejected")), runs.c.id < run_id)
        .order_by(runs.c.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    if previous is None:
        return None
    holder = previous.problems_run_id or previous.id
    mine = conn.execute(
        select(func.count()).select_from(problems).where(problems.c.run_id == run_id)
    ).scalar_one()
    if not mine:
        return None
    theirs = conn.execute(
        select(func.count()).select_from(problems).where(problems.c.run_id == holder)
    ).scalar_one()
    if mine != theirs or _digest(conn, run_id) != _digest(conn, holder):
        return None
    conn.execute(delete(problems).where(problems.c.run_id == run_id))
    conn.execute(update(runs).where(runs.c.id == run_id).values(problems_run_id=holder))
    return holder
