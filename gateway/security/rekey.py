"""Re-keying the stored record digests (migration 0006): `jamsos db upgrade` runs it.

Until it has run, a stored digest is the old unkeyed one: every roster row would differ from
it and be recorded as changed. So the gateway refuses to start while migration 0006's marker
is in `gateway_meta` (the embedded SQLite default re-keys by itself at start, as it migrates by
itself). The work goes in batches, each its own transaction that also moves the marker, so an
interrupted re-key resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, and_, bindparam, delete, select, update

from gateway.security import audit
from gateway.security.crypto import KeyRing
from gateway.store.db import StoreError, writing
from gateway.store.sealed import RecordDigest
from gateway.store.tables import enrollments, gateway_meta, workers

MARKER = "record_hash_rekey_after"  # as in migration 0006


def _marker(conn: Connection) -> int | None:
    value = conn.execute(select(gateway_meta.c.value).where(gateway_meta.c.key == MARKER)).scalar()
    return None if value is None else int(value)


def pending(engine: Engine) -> bool:
    """Whether stored record digests still wait to be re-keyed."""
    with engine.connect() as conn:
        return _marker(conn) is not None


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
) -> int:
    """Recompute every stored record digest under the key; returns how many were rewritten.

    Call it only with keys checked against the stored data (`check_index_key`, `check_keys`):
    a digest under another index key would make every row look changed.
    """
    digest = RecordDigest(keyring)
    done = 0
    while True:
        with writing(engine) as conn:
            after = _marker(conn)
            if after is None:
                return done
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
            ).all()  # fmt: skip
            if not rows:
                conn.execute(delete(gateway_meta).where(gateway_meta.c.key == MARKER))
                audit.append(conn, actor=actor, action="record_hashes_rekeyed",
                             subject="enrollments", details={"rows": done})  # fmt: skip
                return done
            params = [
                {
                    "eid": eid,
                    "old": old,
                    "new": digest.of_parts(
                        keyring.decrypt(name_enc, "workers.name"), category, position,
                        work_unit, wage, start.isoformat(), born.isoformat(), gender,
                    ),
                }
                for eid, old, name_enc, category, position, work_unit, wage, start, born, gender
                in rows
            ]  # fmt: skip
            # Only a digest still as read (nothing else writes while the marker is there, as
            # no gateway starts; the condition keeps it so if one was left running).
            conn.execute(
                update(enrollments)
                .where(and_(enrollments.c.id == bindparam("eid"),
                            enrollments.c.record_hash == bindparam("old")))
                .values(record_hash=bindparam("new")),
                params,
            )  # fmt: skip
            conn.execute(
                update(gateway_meta)
                .where(gateway_meta.c.key == MARKER)
                .values(value=str(rows[-1][0]))
            )
            done += len(rows)
        if progress:
            progress(done)
