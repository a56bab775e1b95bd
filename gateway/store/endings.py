"""What a roster would end, read from the registry (issue 16, finding 2).

A roster is the agency's complete list: its active workers the file does not name are ended.
A partial file therefore ends almost a whole workforce; the roster run (gateway/roster/run.py,
gateway/roster/endings.py) asks here how many, and for a few of them to show (NIK masked):

* `active_count`: the agency's active enrollments, as a transaction (an apply's) sees them;
* `ended_sample`: inside an apply, after its snapshot's end, some of the enrollments it ended;
* `absent_from`: for a check, which writes nothing, the agency's active workers whose blind
  index is not among the file's (`named`, the first 64 bits of each row's blind index,
  sorted: 8 bytes a row, whatever the roster's size).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select

from gateway.domain.nik import mask_nik
from gateway.security.crypto import KeyRing
from gateway.store.tables import enrollments, workers

SAMPLE_SIZE = 5  # masked NIKs shown of the workers a roster would end


def active_count(conn: Connection, agency: str) -> int:
    return conn.execute(
        select(func.count())
        .select_from(enrollments)
        .where(and_(enrollments.c.agency == agency, enrollments.c.status == "active"))
    ).scalar_one()


def _shown(keyring: KeyRing, row: Any) -> dict[str, Any]:
    return {
        "nik": mask_nik(keyring.decrypt(row.nik_enc, "workers.nik")),
        "position": row.position,
        "work_unit": row.work_unit,
    }


def ended_sample(
    conn: Connection, keyring: KeyRing, agency: str, run_id: int, limit: int = SAMPLE_SIZE
) -> list[dict[str, Any]]:
    """Some of the enrollments run `run_id` has just ended (inside its transaction)."""
    rows = conn.execute(
        select(workers.c.nik_enc, enrollments.c.position, enrollments.c.work_unit)
        .join(workers, workers.c.id == enrollments.c.worker_id)
        .where(
            and_(
                enrollments.c.agency == agency,
                enrollments.c.status == "ended",
                enrollments.c.last_run_id == run_id,
            )
        )
        .order_by(enrollments.c.id)
        .limit(limit)
    )
    return [_shown(keyring, r) for r in rows]


def _prefix(nik_index: str) -> int:
    # As gateway.roster.prepare.index_prefix (the store may not import the roster).
    return int(nik_index[:16], 16) - (1 << 63)


def absent_from(
    engine: Engine, keyring: KeyRing, agency: str, named: array, limit: int = SAMPLE_SIZE
) -> tuple[int, int, list[dict[str, Any]]]:
    """(active workers `named` lacks, active workers, a masked sample of the first): what a
    submit of a file naming `named` (sorted index prefixes) would end, as committed now."""
    absent = active = 0
    sample: list[dict[str, Any]] = []
    query = (
        select(workers.c.nik_index, workers.c.nik_enc, enrollments.c.position,
               enrollments.c.work_unit)
        .join(workers, workers.c.id == enrollments.c.worker_id)
        .where(and_(enrollments.c.agency == agency, enrollments.c.status == "active"))
        .order_by(enrollments.c.id)
    )  # fmt: skip
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=5000).execute(query):
            active += 1
            key = _prefix(row.nik_index)
            at = bisect_left(named, key)
            if at < len(named) and named[at] == key:
                continue
            absent += 1
            if len(sample) < limit:
                sample.append(_shown(keyring, row))
    return absent, active, sample
