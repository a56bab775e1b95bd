"""Re-keying the stored record digests (migration 0006): `jamsos db upgrade` runs it.

Until it has run, a stored digest is the old unkeyed one: every roster row would differ from
it and be recorded as changed. So the gateway refuses to start while migration 0006's marker
is in `gateway_meta` (the embedded SQLite default re-keys by itself at start, as it migrates by
itself). The work goes in batches, each its own transaction that also moves the marker, so an
interrupted re-key resumes where it stopped, and two upgrades started at once take turns.

A digest covers what the agency's roster said, but the name, birth date and gender are read
back from the worker, whom several agencies may enrol: where one agency spelt the name
differently from the stored spelling, its stored digest is not the unkeyed digest of the
stored facts. Such a row cannot be re-keyed exactly (the roster's spelling is gone); it gets
the keyed digest of the stored facts, so its next roster row is recorded as changed, once,
and it is counted and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import Connection, Engine, bindparam, delete, select, update

from gateway.security.crypto import KeyRing
from gateway.store import audit
from gateway.store.db import StoreError, writing
from gateway.store.sealed import RecordDigest
from gateway.store.tables import enrollments, gateway_meta, workers

MARKER = "record_hash_rekey_after"  # as in migration 0006


class Rekeyed(NamedTuple):
    """A whole re-key's outcome (over every run of it, if it was interrupted)."""

    rows: int = 0
    unmatched: int = 0  # re-keyed from the stored facts: recorded as changed once, when sent


def _read_marker(conn: Connection, *, lock: bool = False) -> tuple[int, Rekeyed] | None:
    # "<last enrollment id done>" (as migration 0006 writes it) or "<id>,<rows>,<unmatched>"
    query = select(gateway_meta.c.value).where(gateway_meta.c.key == MARKER)
    value = conn.execute(query.with_for_update() if lock else query).scalar()
    if value is None:
        return None
    after, rows, unmatched = (int(v) for v in f"{value},0,0".split(",")[:3])
    return after, Rekeyed(rows, unmatched)


def pending(engine: Engine) -> bool:
    """Whether stored record digests still wait to be re-keyed."""
    with engine.connect() as conn:
        return _read_marker(conn) is not None


def check(engine: Engine) -> None:
    """Refuse to start while digests are unkeyed: every row would be recorded as changed."""
    if pending(engine):
        raise StoreError(
            "stored record digests are not keyed yet (migration 0006): run `jamsos db upgrade` "
            "first; refusing to start"
        )


def rekey(
    engine: Engine,
    keyring: KeyRing,
    *,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
    actor: str = "cli",
) -> Rekeyed:
    """Rewrite every stored record digest under the key. Returns the whole re-key's outcome
    when this call finished it, else (nothing pending) an empty one.

    Call it only with keys checked against the stored data (`check_index_key`, `check_keys`):
    a digest under another index key would make every row look changed.
    """
    digest, unkeyed = RecordDigest(keyring), RecordDigest(None)  # new, and as stored until 0005
    while True:
        with writing(engine) as conn:
            # Locked (PostgreSQL; SQLite's writer lock already serialises): a second upgrade
            # started meanwhile waits here, then goes on after this batch.
            marker = _read_marker(conn, lock=True)
            if marker is None:
                return Rekeyed()
            after, total = marker
            rows = conn.execute(
                select(
                    enrollments.c.id, enrollments.c.record_hash, workers.c.name_enc,
                    enrollments.c.category, enrollments.c.position, enrollments.c.work_unit,
                    enrollments.c.wage, enrollments.c.start_date, workers.c.birth_date,
                    workers.c.gender,
                )
                .join(workers, workers.c.id == enrollments.c.worker_id)
                .where(enrollments.c.id > after)
                .order_by(enrollments.c.id)
                .limit(batch_size)
                .with_for_update(of=enrollments)
            ).all()  # fmt: skip
            if not rows:
                conn.execute(delete(gateway_meta).where(gateway_meta.c.key == MARKER))
                audit.append(conn, actor=actor, action="record_hashes_rekeyed",
                             subject="enrollments", details=total._asdict())  # fmt: skip
                return total
            params, unmatched = [], 0
            for eid, stored, name_enc, category, position, unit, wage, start, born, gender in rows:
                parts = (keyring.decrypt(name_enc, "workers.name"), category, position, unit,
                         wage, start.isoformat(), born.isoformat(), gender)  # fmt: skip
                keyed = digest.of_parts(*parts)
                if stored != keyed and stored != unkeyed.of_parts(*parts):
                    unmatched += 1
                params.append({"eid": eid, "new": keyed})
            conn.execute(
                update(enrollments)
                .where(enrollments.c.id == bindparam("eid"))
                .values(record_hash=bindparam("new")),
                params,
            )
            total = Rekeyed(total.rows + len(rows), total.unmatched + unmatched)
            conn.execute(
                update(gateway_meta)
                .where(gateway_meta.c.key == MARKER)
                .values(value=f"{rows[-1][0]},{total.rows},{total.unmatched}")
            )
        if progress:
            progress(total.rows)
