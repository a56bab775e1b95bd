"""Append-only, hash-chained audit log.

Each entry's hash covers its own content and the previous entry's hash, so editing,
deleting or reordering any entry breaks the chain from that entry on, and `verify` names the
first bad one. (Truncating the newest entries leaves a shorter valid chain: publish or note
the head hash that `jamsos audit verify` prints to detect that too.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text

from gateway.store.tables import audit_log

GENESIS = "0" * 64


def _digest(prev: str, seq: int, at: str, actor: str, action: str, subject: str,
            details: str) -> str:
    body = json.dumps([seq, at, actor, action, subject, details], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256((prev + body).encode()).hexdigest()


def append(conn: Connection, *, actor: str, action: str, subject: str = "",
           details: dict[str, Any] | None = None) -> str:
    """Add an entry inside the caller's transaction (it commits or rolls back with it).

    Never pass PII in `details`: the log is read by auditors, not only by the owner.
    """
    if conn.dialect.name == "postgresql":
        # One writer at a time on the chain; released at commit.
        conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))
    last = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    payload = json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=str)
    digest = _digest(prev, seq, at, actor, action, subject, payload)
    conn.execute(
        insert(audit_log).values(seq=seq, at=at, actor=actor, action=action, subject=subject,
                                 details=payload, prev_hash=prev, hash=digest)
    )
    return digest


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    entries: int
    head: str  # hash of the newest entry
    first_bad: int | None = None  # seq of the first entry that does not verify
    reason: str = ""


def verify(engine: Engine) -> ChainVerdict:
    """Walk the chain in order; report the first entry that was edited, removed or moved."""
    prev, expected_seq, count = GENESIS, 1, 0
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=10_000).execute(
            select(audit_log).order_by(audit_log.c.seq)
        )
        for row in rows:
            count += 1
            if row.seq != expected_seq:
                return ChainVerdict(False, count, prev, row.seq,
                                    f"entry {expected_seq} is missing (next is {row.seq})")
            if row.prev_hash != prev:
                return ChainVerdict(False, count, prev, row.seq,
                                    "does not follow the entry before it (removed or reordered)")
            digest = _digest(row.prev_hash, row.seq, row.at, row.actor, row.action, row.subject,
                             row.details)
            if digest != row.hash:
                return ChainVerdict(False, count, prev, row.seq, "its content was changed")
            prev, expected_seq = row.hash, expected_seq + 1
    return ChainVerdict(True, count, prev)


def recent(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
