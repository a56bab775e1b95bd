"""Key rotation and the start-up key check for the encrypted PII columns.

Rotation: put the new key FIRST in JAMSOS_DATA_KEYS (it encrypts from then on), keep the old
ones after it (they still decrypt), run `jamsos keys rotate`. Rows are re-encrypted in small
batches, each its own short transaction, so the gateway keeps serving. When `jamsos keys
status` shows no row under an old key, that key can be removed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, and_, func, select, update

from gateway.security.crypto import KeyRing, KeyRingError
from gateway.store import audit
from gateway.store.db import writing
from gateway.store.tables import workers

COLUMNS = (("nik_enc", "workers.nik"), ("name_enc", "workers.name"))


def _key_id_expr(engine: Engine, column):  # type: ignore[no-untyped-def]
    if engine.dialect.name == "postgresql":
        return func.split_part(column, ":", 1)
    return func.substr(column, 1, func.instr(column, ":") - 1)


def key_usage(engine: Engine) -> dict[str, int]:
    """How many stored values each key id protects."""
    usage: dict[str, int] = {}
    with engine.connect() as conn:
        for name, _ in COLUMNS:
            kid = _key_id_expr(engine, workers.c[name])
            for key, n in conn.execute(select(kid, func.count()).group_by(kid)):
                usage[key] = usage.get(key, 0) + n
    return usage


def check_keys(engine: Engine, keyring: KeyRing) -> None:
    """Refuse to start when stored data needs a key that is missing or wrong.

    A missing key would otherwise surface as errors on some pages only; a wrong key (same id,
    other bytes) as undecryptable rows. One sample value per key id settles both at start.
    """
    with engine.connect() as conn:
        for name, column in COLUMNS:
            kid = _key_id_expr(engine, workers.c[name])
            for key, sample in conn.execute(
                select(kid, func.min(workers.c[name])).group_by(kid)
            ):
                if key not in keyring.data_keys:
                    raise KeyRingError(
                        f"stored data is encrypted with key {key!r}, which is not in "
                        "JAMSOS_DATA_KEYS (or the key file): add it back, or the data cannot "
                        "be read; refusing to start"
                    )
                try:
                    keyring.decrypt(sample, column)
                except KeyRingError as exc:
                    raise KeyRingError(
                        f"key {key!r} is configured but does not open the stored data (a wrong "
                        "key with the same id?); refusing to start"
                    ) from exc


def rotate(
    engine: Engine,
    keyring: KeyRing,
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    actor: str = "cli",
) -> int:
    """Re-encrypt every value not under the primary key; returns how many rows changed."""
    prefix = f"{keyring.primary}:"
    stale = ~workers.c.nik_enc.startswith(prefix, autoescape=True) | ~workers.c.name_enc.startswith(
        prefix, autoescape=True
    )
    done, last_id = 0, 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(workers.c.id, workers.c.nik_enc, workers.c.name_enc)
                .where(and_(workers.c.id > last_id, stale))
                .order_by(workers.c.id)
                .limit(batch_size)
            ).all()
        if not rows:
            break
        with writing(engine) as conn:
            for wid, nik_enc, name_enc in rows:
                nik = keyring.decrypt(nik_enc, "workers.nik")
                name = keyring.decrypt(name_enc, "workers.name")
                # Only if nobody changed the row since we read it (a roster renaming the
                # worker meanwhile wins; the next pass picks the row up if still stale).
                result = conn.execute(
                    update(workers)
                    .where(
                        and_(
                            workers.c.id == wid,
                            workers.c.nik_enc == nik_enc,
                            workers.c.name_enc == name_enc,
                        )
                    )
                    .values(
                        nik_enc=keyring.encrypt(nik, "workers.nik"),
                        name_enc=keyring.encrypt(name, "workers.name"),
                    )
                )
                done += result.rowcount or 0
        last_id = rows[-1][0]
        if progress:
            progress(done)
    with writing(engine) as conn:
        audit.append(conn, actor=actor, action="keys_rotated", subject=keyring.primary,
                     details={"rows": done})
    return done
