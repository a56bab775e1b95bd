"""The alerts raised (gateway/alerts.py): claiming an alert's key, recording its delivery, and
what /metrics and `jamsos alerts` read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gateway.domain.alerts import Alert
from gateway.store.db import writing
from gateway.store.tables import alerts


def claim(engine: Engine, alert: Alert, repeat: timedelta) -> bool:
    """Record the alert under its key; True if this process is to deliver it: the key is new,
    or was last raised more than `repeat` ago. Atomic across processes (the unique key, then
    a conditional update), so gunicorn workers or tasks noticing the same thing at once
    deliver it once."""
    row = {"key": alert.key, "kind": alert.kind, "severity": alert.severity,
           "agency": alert.agency, "title_id": alert.title_id, "title_en": alert.title_en,
           "details": dict(alert.details), "raised_at": alert.at}  # fmt: skip
    try:
        with writing(engine) as conn:
            conn.execute(insert(alerts).values(**row, first_at=alert.at, times=1,
                                               delivered=[], failures={}))  # fmt: skip
        return True
    except IntegrityError:
        pass  # raised before (or this very moment, by another process)
    with writing(engine) as conn:
        return bool(conn.execute(
            update(alerts)
            .where(and_(alerts.c.key == alert.key, alerts.c.raised_at < alert.at - repeat))
            .values(**row, times=alerts.c.times + 1, delivered=[], failures={})
        ).rowcount)  # fmt: skip


def delivered(engine: Engine, key: str, to: list[str], failures: Mapping[str, str]) -> None:
    """Which plugins took the alert, and each failure's text."""
    with writing(engine) as conn:
        conn.execute(update(alerts).where(alerts.c.key == key)
                     .values(delivered=to, failures=dict(failures)))  # fmt: skip


def recent(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """The latest alerts, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(alerts).order_by(alerts.c.raised_at.desc(), alerts.c.id.desc())
                            .limit(limit)).mappings().all()  # fmt: skip
    return [dict(r) for r in rows]


def counts(engine: Engine, since: datetime) -> dict[tuple[str, str], tuple[int, int]]:
    """{(kind, severity): (raised since `since`, of them delivered to no plugin)}."""
    with engine.connect() as conn:
        found = conn.execute(select(alerts.c.kind, alerts.c.severity, alerts.c.delivered)
                             .where(alerts.c.raised_at >= since)).all()  # fmt: skip
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for kind, severity, to in found:
        raised, lost = out.get((kind, severity), (0, 0))
        out[(kind, severity)] = (raised + 1, lost + (0 if to else 1))
    return out


def total(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(alerts)).scalar_one()
