"""SQL of the employer mapping (gateway/delivery/employers.py has the rules; rows come back as
dicts of FIELDS, which `EmployerRule(**row)` takes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from gateway.store.db import writing
from gateway.store.tables import employers, mutations

FIELDS = ("id", "agency", "kind", "npp", "division", "segment", "name", "work_unit",
          "destination")  # fmt: skip


def _row(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def list_employers(engine: Engine, *, agency: str | None = None,
                   destination: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    query = select(employers).order_by(employers.c.agency, employers.c.id)
    if agency is not None:
        query = query.where(employers.c.agency == agency)
    if destination is not None:
        query = query.where(employers.c.destination == destination)
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(query)]


def get_employer(engine: Engine, employer_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(employers).where(employers.c.id == employer_id)).first()
    return _row(row) if row else None


def add_employer(engine: Engine, **values: Any) -> int:
    now = datetime.now(UTC)
    with writing(engine) as conn:
        return int(conn.execute(
            insert(employers).values(**values, created_at=now, updated_at=now)
        ).inserted_primary_key[0])  # fmt: skip


def remove_employer(engine: Engine, employer_id: int) -> bool:
    """Remove a mapping nothing was derived under yet; False when mutations name it."""
    with writing(engine) as conn:
        used = conn.execute(
            select(func.count()).select_from(mutations)
            .where(mutations.c.employer_id == employer_id)
        ).scalar_one()  # fmt: skip
        if used:
            return False
        conn.execute(delete(employers).where(employers.c.id == employer_id))
    return True
