"""The registry's side of reconciliation, streamed: every enrollment with its worker's blind
index (gateway/reconcile/differences.py compares them with BPJS's membership lists); and the
last reconciliation's figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from gateway.store.db import writing
from gateway.store.tables import enrollments, gateway_meta, workers


def enrollment_facts(engine: Engine) -> Iterator[dict[str, Any]]:
    """Each enrollment: ids, agency, work unit, wage, status, dates and the worker's
    nik_index (no identity in clear), in id order."""
    query = (
        select(enrollments.c.id, enrollments.c.worker_id, enrollments.c.agency,
               enrollments.c.work_unit, enrollments.c.wage, enrollments.c.status,
               enrollments.c.start_date, enrollments.c.end_date, enrollments.c.created_at,
               workers.c.nik_index, workers.c.birth_date)
        .join(workers, workers.c.id == enrollments.c.worker_id)
        .order_by(enrollments.c.id)
    )  # fmt: skip
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=5000).execute(query).mappings():
            yield dict(row)


# The figures of the last `jamsos reconcile run`, one row of gateway_meta.
LAST_KEY = "reconcile:last"


def last_figures(engine: Engine) -> dict[str, Any] | None:
    """The figures of the last reconciliation (for /metrics and "is it rising?")."""
    with engine.connect() as conn:
        text = conn.execute(select(gateway_meta.c.value)
                            .where(gateway_meta.c.key == LAST_KEY)).scalar()  # fmt: skip
    return json.loads(text) if text else None


def save_figures(engine: Engine, figures: dict[str, Any]) -> None:
    with writing(engine) as conn:
        conn.execute(delete(gateway_meta).where(gateway_meta.c.key == LAST_KEY))
        conn.execute(insert(gateway_meta).values(key=LAST_KEY, value=json.dumps(figures)))
