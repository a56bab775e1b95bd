"""What coverage counts (gateway/budget/coverage.py): workers covered on a day, per enrolling
agency and, each person once, per province."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, and_, func, select

from gateway.store.tables import enrollments


def covered_counts(engine: Engine, day: date) -> tuple[dict[str, int], dict[str, int]]:
    """({agency: workers}, {province code: distinct workers of its governments}) covered on
    `day`: an active enrollment whose start date has come. Both scan the enrollments once."""
    covered = and_(enrollments.c.status == "active", enrollments.c.start_date <= day)
    regional = func.substr(enrollments.c.agency, 1, 1).in_(list("0123456789"))
    province = func.substr(enrollments.c.agency, 1, 2)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                select(enrollments.c.agency, func.count())
                .where(covered)
                .group_by(enrollments.c.agency)
            ).all()
        )
        provinces: dict[str, int] = dict(
            conn.execute(
                select(province, func.count(func.distinct(enrollments.c.worker_id)))
                .where(and_(covered, regional))
                .group_by(province)
            ).all()
        )
    return counts, provinces
