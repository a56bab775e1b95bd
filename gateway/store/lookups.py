"""The dashboard's NIK search across agencies, on the audit log: who looked a worker up and
whether anything was shown. Never the NIK itself (the audit log is read by auditors): a
lookup is an act on personal data, and staff who may search every agency are accountable
for each search (docs/design.md §7)."""

from __future__ import annotations

from sqlalchemy import Engine

from gateway.store import audit
from gateway.store.db import writing


def record_worker_lookup(engine: Engine, *, username: str, scope: str | None,
                         agencies_shown: int) -> None:
    """One audit entry `worker_lookup` for a search by `username` (bound to `scope`, or
    national), with how many agencies' enrollments were shown (0: not found)."""
    with writing(engine) as conn:
        audit.append(conn, actor=username, action="worker_lookup", subject=f"user:{username}",
                     details={"scope": scope or "national", "agencies_shown": agencies_shown})
