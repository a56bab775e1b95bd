"""What people read about delivery: workers that cannot be delivered, and per employer and
month the counts by state (CLI, API, dashboard)."""

from __future__ import annotations

from typing import Any

from gateway.delivery.employers import EmployerRule, Undeliverable, employer_for
from gateway.domain.nik import mask_nik
from gateway.store import employers as employer_store
from gateway.store.dashboard import enrollment_counts
from gateway.store.db import writing
from gateway.store.mutations import enrollment_chunk, worker_niks


def undeliverable_workers(gw: Any, agency: str | None, *, limit: int = 100) -> list[dict]:
    """Active workers no employer rule takes, with the reason and what to do; NIK masked."""
    rules = [EmployerRule(**r) for r in employer_store.list_employers(gw.engine)]
    agencies = [agency] if agency else _agencies(gw)
    found: list[dict[str, Any]] = []
    for code in agencies:
        last = 0
        while len(found) < limit:
            with writing(gw.engine) as conn:  # a consistent read of one chunk
                chunk = enrollment_chunk(conn, code, last)
                niks = worker_niks(conn, [r["worker_id"] for r in chunk])
            if not chunk:
                break
            last = chunk[-1]["id"]
            for row in chunk:
                if row["status"] != "active":
                    continue
                why = employer_for(rules, code, row["work_unit"])
                if isinstance(why, Undeliverable):
                    found.append({
                        "agency": code, "enrollment_id": row["id"],
                        "nik_masked": mask_nik(gw.keyring.decrypt(niks[row["worker_id"]],
                                                                  "workers.nik")),
                        "work_unit": row["work_unit"], "code": why.code,
                        "message_id": why.message_id, "message_en": why.message_en,
                    })  # fmt: skip
                    if len(found) >= limit:
                        break
    return found


def _agencies(gw: Any) -> list[str]:
    return sorted(enrollment_counts(gw.engine))
