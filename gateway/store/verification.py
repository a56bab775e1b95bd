"""Identity verification's SQL (docs/verification.md): who is still to be asked, the answers
per worker, what a run's clerk and an agency's page list, the counts per agency, and the
pass's state (paused by the quota until tomorrow, and so on) in `gateway_meta`.

A verdict is current while the worker's identity is the one asked about: `identity_at` is
the worker record's `updated_at` when asked, and a later one is compared by digest by the
pass (gateway/verify/run.py). Nothing here holds an element: scores, codes, times only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from gateway.store.db import writing as _writing
from gateway.store.tables import (
    enrollment_history,
    enrollments,
    gateway_meta,
    runs,
    verifications,
    workers,
)

STATE_KEY = "verification_state"
MATCH = "match"
# History entries that bring a worker (or a changed identity) to an agency's roster.
ARRIVALS = ("new", "changed", "reactivated")

w, v, e, h = workers.c, verifications.c, enrollments.c, enrollment_history.c


def _current() -> Any:
    """The worker's verdict is about the identity the record holds now."""
    return v.identity_at >= w.updated_at


# -- the pass ----------------------------------------------------------------------------------
def pending_workers(
    conn: Connection, *, stale_before: datetime, after_id: int = 0, limit: int = 50
) -> list[Mapping[str, Any]]:
    """Workers with an active enrollment never asked about, whose record changed since, or
    whose answer is older than `stale_before`; by worker id from `after_id` (a pass goes on,
    the next day too, where it stopped: the answered ones are no longer pending)."""
    enrolled = exists().where(and_(e.worker_id == w.id, e.status == "active"))
    query = (
        select(w.id, w.nik_enc, w.name_enc, w.birth_date, w.gender, w.updated_at,
               v.identity_digest, v.identity_at, v.checked_at)
        .select_from(workers.outerjoin(verifications, v.worker_id == w.id))
        .where(w.id > after_id, enrolled)
        .where(or_(v.worker_id.is_(None), v.identity_at < w.updated_at,
                   v.checked_at < stale_before))
        .order_by(w.id)
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


def save_verdicts(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store answers (one per worker, replacing the last): the caller's transaction."""
    if not rows:
        return
    conn.execute(delete(verifications).where(v.worker_id.in_([r["worker_id"] for r in rows])))
    conn.execute(verifications.insert(), [dict(r) for r in rows])


def confirm_identities(conn: Connection, rows: Iterable[tuple[int, datetime]]) -> None:
    """The record was rewritten, the identity was not: the verdict stands for it."""
    for worker_id, updated_at in rows:
        conn.execute(update(verifications).where(v.worker_id == worker_id)
                     .values(identity_at=updated_at))  # fmt: skip


def read_state(conn: Connection) -> dict[str, Any]:
    value = conn.execute(select(gateway_meta.c.value)
                         .where(gateway_meta.c.key == STATE_KEY)).scalar()  # fmt: skip
    return json.loads(value) if value else {}


def write_state(conn: Connection, state: Mapping[str, Any]) -> None:
    text = json.dumps(dict(state), sort_keys=True, default=str)
    done = conn.execute(update(gateway_meta).where(gateway_meta.c.key == STATE_KEY)
                        .values(value=text))  # fmt: skip
    if not done.rowcount:
        conn.execute(gateway_meta.insert().values(key=STATE_KEY, value=text))


LEASE_KEY = "verification_lease"


def take_lease(engine: Engine, owner: str, until: datetime, now: datetime) -> bool:
    """Hold the right to run a pass until `until` (or extend it): True when this `owner`
    holds it. A compare-and-swap on one `gateway_meta` row, so two processes (two gunicorn
    workers, a scheduled `jamsos verify run`) never ask about the same people at once; a
    holder that died lets go when its time is up."""
    new = json.dumps({"owner": owner, "until": until.isoformat()})
    key = gateway_meta.c.key
    try:
        with _writing(engine) as conn:
            old = conn.execute(select(gateway_meta.c.value).where(key == LEASE_KEY)).scalar()
            if old is None:
                conn.execute(gateway_meta.insert().values(key=LEASE_KEY, value=new))
                return True
            held = json.loads(old)
            if held.get("owner") != owner and datetime.fromisoformat(held["until"]) > now:
                return False
            done = conn.execute(update(gateway_meta)
                                .where(key == LEASE_KEY, gateway_meta.c.value == old)
                                .values(value=new))  # fmt: skip
            return bool(done.rowcount)
    except IntegrityError:  # another process inserted it first (PostgreSQL)
        return False


def release_lease(engine: Engine, owner: str) -> None:
    with _writing(engine) as conn:
        old = conn.execute(select(gateway_meta.c.value)
                           .where(gateway_meta.c.key == LEASE_KEY)).scalar()  # fmt: skip
        if old is not None and json.loads(old).get("owner") == owner:
            conn.execute(delete(gateway_meta).where(gateway_meta.c.key == LEASE_KEY,
                                                    gateway_meta.c.value == old))  # fmt: skip


# -- what people see ---------------------------------------------------------------------------
def _problem_columns() -> tuple[Any, ...]:
    return (w.id.label("worker_id"), w.nik_enc, w.name_enc, v.outcome, v.scores, v.elements,
            v.code, v.checked_at)  # fmt: skip


def run_problems(engine: Engine, run_id: int, *, limit: int = 500) -> list[dict[str, Any]]:
    """The run's new and changed workers whose current verdict is not a match, by row."""
    with engine.connect() as conn:
        query = (
            select(h.row, *_problem_columns())
            .select_from(enrollment_history.join(enrollments, e.id == h.enrollment_id)
                         .join(workers, w.id == e.worker_id)
                         .join(verifications, v.worker_id == w.id))
            .where(h.run_id == run_id, h.change.in_(ARRIVALS), v.outcome != MATCH, _current())
            .order_by(h.row, w.id)
            .limit(limit)
        )
        return [dict(r) for r in conn.execute(query).mappings()]


def run_counts(engine: Engine, run_id: int) -> dict[str, int]:
    """The run's new and changed workers by verification state: each verdict, and
    `pending` for those not (yet, or not since their identity changed) asked about."""
    with engine.connect() as conn:
        state = func.coalesce(v.outcome, "pending").label("state")
        query = (
            select(state, func.count(func.distinct(w.id)))
            .select_from(enrollment_history.join(enrollments, e.id == h.enrollment_id)
                         .join(workers, w.id == e.worker_id)
                         .outerjoin(verifications, and_(v.worker_id == w.id, _current())))
            .where(h.run_id == run_id, h.change.in_(ARRIVALS))
            .group_by(state)
        )
        return {str(s): int(n) for s, n in conn.execute(query)}


def agency_problems(
    engine: Engine, agency: str, *, before: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """An agency's active workers whose current verdict is not a match, newest worker first,
    each with the run and the row that last brought or changed them."""
    last_id = (select(h.id).where(h.enrollment_id == e.id, h.change.in_(ARRIVALS))
               .order_by(h.id.desc()).limit(1).scalar_subquery())  # fmt: skip
    last = enrollment_history.alias("last_entry")
    with engine.connect() as conn:
        query = (
            select(*_problem_columns(), last.c.run_id, last.c.row, runs.c.filename)
            .select_from(enrollments.join(workers, w.id == e.worker_id)
                         .join(verifications, v.worker_id == w.id)
                         .outerjoin(last, last.c.id == last_id)
                         .outerjoin(runs, runs.c.id == last.c.run_id))
            .where(e.agency == agency, e.status == "active", v.outcome != MATCH, _current())
            .order_by(w.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(w.id < before)
        return [dict(r) for r in conn.execute(query).mappings()]


def agency_counts(engine: Engine, agency: str | None = None) -> dict[str, dict[str, int]]:
    """{agency: {state: active workers}}: each verdict, and `pending`, for compliance."""
    with engine.connect() as conn:
        state = func.coalesce(v.outcome, "pending").label("state")
        query = (
            select(e.agency, state, func.count())
            .select_from(enrollments.join(workers, w.id == e.worker_id)
                         .outerjoin(verifications, and_(v.worker_id == w.id, _current())))
            .where(e.status == "active")
            .group_by(e.agency, state)
            .order_by(e.agency)
        )  # fmt: skip
        if agency is not None:
            query = query.where(e.agency == agency)
        out: dict[str, dict[str, int]] = {}
        for code, s, n in conn.execute(query):
            out.setdefault(code, {})[str(s)] = int(n)
        return out


def verdicts_of(conn: Connection, worker_ids: Sequence[int]) -> dict[int, str]:
    """{worker id: current verdict} for those that have one (delivery's gate)."""
    found: dict[int, str] = {}
    for start in range(0, len(worker_ids), 8192):
        chunk = list(worker_ids[start : start + 8192])
        query = (select(v.worker_id, v.outcome)
                 .select_from(verifications.join(workers, w.id == v.worker_id))
                 .where(v.worker_id.in_(chunk), _current()))  # fmt: skip
        found.update({int(i): str(o) for i, o in conn.execute(query)})
    return found


def any_verdicts(engine: Engine) -> bool:
    """Whether anything was ever verified (pages skip their queries where nothing was)."""
    with engine.connect() as conn:
        return conn.execute(select(v.worker_id).limit(1)).first() is not None


def names_of(engine: Engine, worker_ids: Sequence[int]) -> dict[int, str]:
    """{worker id: encrypted name} (the dashboard shows it masked)."""
    if not worker_ids:
        return {}
    with engine.connect() as conn:
        query = select(w.id, w.name_enc).where(w.id.in_(list(worker_ids)))
        return {int(i): str(n) for i, n in conn.execute(query)}
