"""Looking a worker up by NIK: who they are (decrypted, NIK masked) and every enrollment
with its history, as the API's lookup and `jamsos workers find` show it."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select

from gateway.clock import aware
from gateway.domain.nik import mask_nik
from gateway.security.crypto import KeyRing
from gateway.store.mutations import bpjs_status, worker_kpjs
from gateway.store.tables import enrollment_history, enrollments, workers


def find_worker(engine: Engine, keyring: KeyRing, nik: str) -> dict | None:
    """A worker and their enrollments by NIK; the NIK comes back masked."""
    index = keyring.blind_index(nik)
    with engine.connect() as conn:
        worker = (
            conn.execute(select(workers).where(workers.c.nik_index == index)).mappings().first()
        )
        if worker is None:
            return None
        rows = conn.execute(
            select(enrollments)
            .where(enrollments.c.worker_id == worker["id"])
            .order_by(enrollments.c.agency)
        ).mappings().all()
        # What BPJS was told and answered, per enrollment (docs/delivery.md): the KPJ is the
        # person's, whatever the employer.
        told = bpjs_status(conn, [e["id"] for e in rows])
        kpj = worker_kpjs(conn, [worker["id"]]).get(worker["id"])
        enrolled = [
            {
                "agency": e["agency"],
                "category": e["category"],
                "position": e["position"],
                "work_unit": e["work_unit"],
                "wage": e["wage"],
                "start_date": e["start_date"].isoformat(),
                "end_date": e["end_date"].isoformat() if e["end_date"] else None,
                "status": e["status"],
                "history": _history(conn, e["id"]),
                "bpjs": told.get(e["id"]) or {**NOT_SENT, "kpj": kpj},
            }
            for e in rows
        ]
    return {
        "nik": mask_nik(keyring.decrypt(worker["nik_enc"], "workers.nik")),
        "name": keyring.decrypt(worker["name_enc"], "workers.name"),
        "birth_date": worker["birth_date"].isoformat(),
        "gender": worker["gender"],
        "nik_region": worker["nik_region"],
        "enrollments": enrolled,
    }


NOT_SENT = {"status": "none", "status_id": "belum dikirim", "status_en": "not sent",
            "kpj": None, "month": None, "reason_code": None, "reason_id": None,
            "reason_en": None}  # fmt: skip


def _history(conn: Connection, enrollment_id: int) -> list[dict]:
    """The enrollment's changes, oldest first: new, changed, ended, reactivated, each with
    its run and the enrolled facts before and after (never a NIK or a name)."""
    rows = conn.execute(
        select(enrollment_history)
        .where(enrollment_history.c.enrollment_id == enrollment_id)
        .order_by(enrollment_history.c.id)
    ).mappings()
    return [
        {
            "change": h["change"],
            "run_id": h["run_id"],
            "at": aware(h["at"]).isoformat(),  # type: ignore[union-attr]
            "before": h["before"],
            "after": h["after"],
        }
        for h in rows
    ]
