"""API keys: one per agency's system, shown once, stored as a hash, scoped to the agency
(`jamsos apikeys create`; the API and the upload page authenticate with them).

Lifecycle (issue 16): a key may expire (`expires_at`), is revoked by its prefix, and is
rotated by creating its successor and revoking it at once or after a grace period
(`revoked_at` in the future). Every request reads the key's row again, so a revoke or an
expiry holds from the next request on, in every gunicorn worker: nothing caches a key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import OperationalError

from gateway.clock import aware
from gateway.store import audit
from gateway.store.db import writing
from gateway.store.tables import api_keys

API_KEY_PREFIX = "jgw_"
# last_used_at is written at most this often per key: often enough to tell a key in use from
# a forgotten one, rarely enough that API reads do not become writes.
TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class ApiKey:
    id: int
    prefix: str
    agency: str
    label: str | None

    @property
    def actor(self) -> str:
        """How runs and audit entries name what this key did: `api:<prefix>`."""
        return f"api:{self.prefix}"


def create(engine: Engine, agency: str, label: str | None = None, *,
           expires_at: datetime | None = None, actor: str = "cli") -> str:
    """Create a key scoped to `agency`; the token is returned once and stored hashed."""
    with writing(engine) as conn:
        prefix, token = _insert(conn, agency, label, expires_at)
        audit.append(conn, actor=actor, action="api_key_created", subject=f"agency:{agency}",
                     details={"prefix": prefix, "label": label,
                              "expires_at": _iso(expires_at)})
    return token


def _insert(conn: Any, agency: str, label: str | None,
            expires_at: datetime | None) -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    token = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    conn.execute(
        insert(api_keys).values(
            prefix=prefix,
            key_hash=_hash_token(token),
            agency=agency,
            label=label,
            created_at=datetime.now(UTC),
            expires_at=expires_at,
        )
    )
    return prefix, token


def authenticate(engine: Engine, token: str) -> ApiKey | None:
    """The live key `token` belongs to (not revoked, not expired), or None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != API_KEY_PREFIX:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(api_keys).where(api_keys.c.prefix == parts[1])
        ).mappings().first()  # fmt: skip
    # Constant-time comparison of the hashes: the prefix lookup already narrowed it to one.
    if row is None or not secrets.compare_digest(row["key_hash"], _hash_token(token)):
        return None
    now = datetime.now(UTC)
    if status(row, now) not in ("active", "grace"):
        return None
    used = aware(row["last_used_at"])
    if used is None or now - used >= TOUCH_EVERY:
        _touch(engine, row["id"], now)
    return ApiKey(row["id"], row["prefix"], row["agency"], row["label"])


def status(row: Any, now: datetime | None = None) -> str:
    """active | grace (rotated, still valid until revoked_at) | revoked | expired."""
    now = now or datetime.now(UTC)
    revoked, expires = aware(row["revoked_at"]), aware(row["expires_at"])
    if revoked is not None and revoked <= now:
        return "revoked"
    if expires is not None and expires <= now:
        return "expired"
    return "grace" if revoked is not None else "active"


def _touch(engine: Engine, key_id: int, now: datetime) -> None:
    """Record the key's use, never waiting for it: on SQLite a roster apply holds the only
    write lock for up to minutes, and a status poll must not wait behind it (nor fail); on
    PostgreSQL a row being revoked or touched by another request is skipped (SKIP LOCKED). A
    use not recorded now is recorded by the next request."""
    unlocked = select(api_keys.c.id).where(api_keys.c.id == key_id)
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        try:
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout=0")
            else:
                unlocked = unlocked.with_for_update(skip_locked=True)
            conn.execute(update(api_keys).where(api_keys.c.id.in_(unlocked.scalar_subquery()))
                         .values(last_used_at=now))  # fmt: skip
            conn.commit()
        except OperationalError:
            conn.rollback()
        finally:
            if sqlite:  # the pooled connection goes back with the engine's usual 30 s
                conn.exec_driver_sql("PRAGMA busy_timeout=30000")
                conn.commit()


def list_keys(engine: Engine, agency: str | None = None) -> list[dict[str, Any]]:
    """Every key, newest first: prefix, agency, label, times and status; never its hash."""
    query = select(api_keys).order_by(api_keys.c.id.desc())
    if agency is not None:
        query = query.where(api_keys.c.agency == agency)
    now = datetime.now(UTC)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        {
            "prefix": r["prefix"],
            "agency": r["agency"],
            "label": r["label"],
            "created_at": _iso(r["created_at"]),
            "last_used_at": _iso(r["last_used_at"]),
            "expires_at": _iso(r["expires_at"]),
            "revoked_at": _iso(r["revoked_at"]),
            "status": status(r, now),
        }
        for r in rows
    ]


def revoke(engine: Engine, prefix: str, *, actor: str = "cli") -> bool:
    """Revoke the key now (also one in its rotation grace period). False when there is no
    such key or it was already revoked."""
    now = datetime.now(UTC)
    with writing(engine) as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).mappings().first()
        if row is None or status(row, now) == "revoked":
            return False
        conn.execute(update(api_keys).where(api_keys.c.id == row["id"]).values(revoked_at=now))
        audit.append(conn, actor=actor, action="api_key_revoked",
                     subject=f"agency:{row['agency']}", details={"prefix": prefix})
    return True


@dataclass(frozen=True)
class Rotated:
    token: str  # the successor's secret, shown once
    prefix: str
    old_prefix: str
    old_valid_until: datetime


def rotate(engine: Engine, prefix: str, *, grace: timedelta = timedelta(0),
           expires_at: datetime | None = None, actor: str = "cli") -> Rotated | None:
    """A successor for the key (same agency and label), the old one revoked after `grace`
    (at once by default). None when there is no such live key."""
    now = datetime.now(UTC)
    with writing(engine) as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).mappings().first()
        if row is None or status(row, now) in ("revoked", "expired"):
            return None
        until = now + grace
        revoked = aware(row["revoked_at"])
        if revoked is not None:  # rotating again during a grace period never extends it
            until = min(until, revoked)
        conn.execute(update(api_keys).where(api_keys.c.id == row["id"]).values(revoked_at=until))
        new_prefix, token = _insert(conn, row["agency"], row["label"], expires_at)
        audit.append(conn, actor=actor, action="api_key_rotated",
                     subject=f"agency:{row['agency']}",
                     details={"prefix": prefix, "new_prefix": new_prefix,
                              "old_valid_until": _iso(until), "expires_at": _iso(expires_at)})
    return Rotated(token, new_prefix, prefix, until)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else aware(moment).isoformat(timespec="seconds")  # type: ignore[union-attr]


def _hash_token(token: str) -> str:
    # Tokens carry 256 bits of randomness: a fast hash is enough, no password stretching needed.
    return hashlib.sha256(token.encode()).hexdigest()
