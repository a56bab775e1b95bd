"""SQL of the mutations outbox: what derivation reads and writes, and the per-worker status
lookups show (gateway/delivery/mutations.py has the rules; the outbox's sending side is
store/outbox.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from gateway.store.tables import employers, enrollments, mutations, workers

CHUNK = 2000  # enrollments read per round: bounded memory for an agency of a million
OPEN = ("pending",)  # not yet handed over: a correction supersedes it
TOLD = ("sent", "accepted")  # BPJS was told (or may have been): the state derivation starts from


def enrollment_chunk(conn: Connection, agency: str, after_id: int) -> list[dict[str, Any]]:
    """The agency's next CHUNK enrollments after `after_id` (keyset, id order), with their
    worker's sealed identity."""
    cols = (enrollments.c.id, enrollments.c.worker_id, enrollments.c.status,
            enrollments.c.category, enrollments.c.position, enrollments.c.work_unit,
            enrollments.c.wage, enrollments.c.start_date, enrollments.c.end_date,
            enrollments.c.record_hash, enrollments.c.updated_at, workers.c.name_enc,
            workers.c.birth_date, workers.c.gender)  # fmt: skip
    rows = conn.execute(
        select(*cols)
        .join(workers, workers.c.id == enrollments.c.worker_id)
        .where(and_(enrollments.c.agency == agency, enrollments.c.id > after_id))
        .order_by(enrollments.c.id)
        .limit(CHUNK)
    ).mappings().all()  # fmt: skip
    return [dict(r) for r in rows]


def mutations_of(conn: Connection, enrollment_ids: Sequence[int]) -> dict[int, list[dict]]:
    """Every mutation of these enrollments, oldest first, by enrollment."""
    found: dict[int, list[dict]] = {}
    if not enrollment_ids:
        return found
    rows = conn.execute(
        select(mutations.c.id, mutations.c.key, mutations.c.enrollment_id,
               mutations.c.employer_id, mutations.c.kind, mutations.c.state,
               mutations.c.payload)
        .where(mutations.c.enrollment_id.in_(list(enrollment_ids)))
        .order_by(mutations.c.id)
    ).mappings()  # fmt: skip
    for r in rows:
        found.setdefault(r["enrollment_id"], []).append(dict(r))
    return found


def insert_mutations(conn: Connection, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert new pending mutations; their ids by key."""
    if not rows:
        return {}
    now = datetime.now(UTC)
    conn.execute(insert(mutations), [{**r, "state": "pending", "attempts": 0,
                                      "created_at": now} for r in rows])  # fmt: skip
    keys = [r["key"] for r in rows]
    return dict(conn.execute(
        select(mutations.c.key, mutations.c.id).where(mutations.c.key.in_(keys))
    ).all())  # fmt: skip


def supersede(conn: Connection, pairs: Sequence[tuple[int, int | None]]) -> None:
    """Mark pending mutations superseded (by the mutation replacing them, if any)."""
    now = datetime.now(UTC)
    for old, new in pairs:
        conn.execute(
            update(mutations)
            .where(and_(mutations.c.id == old, mutations.c.state == "pending"))
            .values(state="superseded", superseded_by=new, answered_at=now)
        )


# -- what lookups and screens show ------------------------------------------------------------

# BPJS status per enrollment, from its latest mutation that is not superseded (docs/delivery.md)
STATUS_WORDS = {
    "none": ("belum dikirim", "not sent"),
    "pending": ("belum dikirim", "not sent"),
    "sent": ("terkirim", "sent"),
    "accepted": ("terdaftar", "registered"),
    "rejected": ("ditolak", "rejected"),
    "ended": ("non-aktif", "inactive"),
}


def bpjs_status(conn: Connection, enrollment_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per enrollment: status key, its words, the KPJ (the worker's, from any employer) and a
    rejection's reason."""
    out: dict[int, dict[str, Any]] = {}
    if not enrollment_ids:
        return out
    latest = (
        select(mutations.c.enrollment_id, func.max(mutations.c.id).label("id"))
        .where(and_(mutations.c.enrollment_id.in_(list(enrollment_ids)),
                    mutations.c.state != "superseded"))
        .group_by(mutations.c.enrollment_id)
        .subquery()
    )  # fmt: skip
    rows = conn.execute(
        select(mutations.c.enrollment_id, mutations.c.worker_id, mutations.c.kind,
               mutations.c.state, mutations.c.reason_id, mutations.c.reason_en,
               mutations.c.reason_code, mutations.c.month)
        .join(latest, latest.c.id == mutations.c.id)
    ).mappings().all()  # fmt: skip
    kpjs = worker_kpjs(conn, {r["worker_id"] for r in rows})
    for r in rows:
        key = r["state"]
        if key == "accepted" and r["kind"] == "ended":
            key = "ended"
        words = STATUS_WORDS[key]
        out[r["enrollment_id"]] = {
            "status": key, "status_id": words[0], "status_en": words[1],
            "kpj": kpjs.get(r["worker_id"]), "month": r["month"],
            "reason_code": r["reason_code"] if key == "rejected" else None,
            "reason_id": r["reason_id"] if key == "rejected" else None,
            "reason_en": r["reason_en"] if key == "rejected" else None,
        }  # fmt: skip
    return out


def worker_kpjs(conn: Connection, worker_ids: set[int] | Sequence[int]) -> dict[int, str]:
    """The membership number BPJS gave each worker (one per person, whatever the employer)."""
    if not worker_ids:
        return {}
    return dict(conn.execute(
        select(mutations.c.worker_id, func.max(mutations.c.kpj))
        .where(and_(mutations.c.worker_id.in_(list(worker_ids)), mutations.c.kpj.is_not(None)))
        .group_by(mutations.c.worker_id)
    ).all())  # fmt: skip


def counts_by_state(engine: Engine, *, agency: str | None = None,
                    employer_id: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Mutations per employer, month, kind and state."""
    query = select(mutations.c.employer_id, mutations.c.month, mutations.c.kind,
                   mutations.c.state, func.count().label("n")).group_by(
        mutations.c.employer_id, mutations.c.month, mutations.c.kind, mutations.c.state)
    if agency is not None:
        query = query.where(mutations.c.agency == agency)
    if employer_id is not None:
        query = query.where(mutations.c.employer_id == employer_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def list_mutations(engine: Engine, *, agency: str | None = None, employer_id: int | None = None,
                   month: str | None = None, state: str | None = None, after_id: int = 0,
                   limit: int = 100) -> list[dict[str, Any]]:  # fmt: skip
    """Mutations in id order (keyset paging), without any identity in clear."""
    query = select(mutations).where(mutations.c.id > after_id).order_by(mutations.c.id)
    for column, value in (("agency", agency), ("employer_id", employer_id), ("month", month),
                          ("state", state)):  # fmt: skip
        if value is not None:
            query = query.where(mutations.c[column] == value)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query.limit(limit)).mappings()]


def worker_niks(conn: Connection, worker_ids: Sequence[int]) -> dict[int, str]:
    """Sealed NIKs by worker id (decrypted by the caller only to show them masked)."""
    ids, out = list(worker_ids), {}
    for i in range(0, len(ids), CHUNK):  # an export's list: under SQLite's bound parameters
        out.update(conn.execute(select(workers.c.id, workers.c.nik_enc)
                                .where(workers.c.id.in_(ids[i:i + CHUNK]))).all())  # fmt: skip
    return out


def rejected_page(engine: Engine, *, agency: str | None = None, before: int | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:  # fmt: skip
    """Rejected mutations, newest first, with the worker's sealed NIK and name (to be shown
    masked) and the employer's NPP."""
    query = (
        select(mutations.c.id, mutations.c.agency, mutations.c.kind, mutations.c.month,
               mutations.c.reason_code, mutations.c.reason_id, mutations.c.reason_en,
               mutations.c.answered_at, mutations.c.payload, employers.c.npp,
               workers.c.nik_enc, workers.c.name_enc)
        .join(workers, workers.c.id == mutations.c.worker_id)
        .join(employers, employers.c.id == mutations.c.employer_id)
        .where(mutations.c.state == "rejected")
        .order_by(mutations.c.id.desc())
        .limit(limit)
    )  # fmt: skip
    if agency is not None:
        query = query.where(mutations.c.agency == agency)
    if before is not None:
        query = query.where(mutations.c.id < before)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def employer_month_counts(engine: Engine, agency: str | None = None) -> list[dict[str, Any]]:
    """Per employer and month: mutations by state, newest month first."""
    query = (
        select(employers.c.id, employers.c.agency, employers.c.npp, employers.c.division,
               employers.c.segment, employers.c.work_unit, employers.c.destination,
               mutations.c.month, mutations.c.state, func.count().label("n"))
        .join(employers, employers.c.id == mutations.c.employer_id)
        .group_by(employers.c.id, employers.c.agency, employers.c.npp, employers.c.division,
                  employers.c.segment, employers.c.work_unit, employers.c.destination,
                  mutations.c.month, mutations.c.state)
    )  # fmt: skip
    if agency is not None:
        query = query.where(employers.c.agency == agency)
    table: dict[tuple, dict[str, Any]] = {}
    with engine.connect() as conn:
        for r in conn.execute(query).mappings():
            row = table.setdefault((r["id"], r["month"]), {
                "employer_id": r["id"], "agency": r["agency"], "npp": r["npp"],
                "division": r["division"], "segment": r["segment"],
                "work_unit": r["work_unit"], "destination": r["destination"],
                "month": r["month"], "pending": 0, "sent": 0, "accepted": 0, "rejected": 0,
                "superseded": 0})  # fmt: skip
            row[r["state"]] = r["n"]
    return sorted(table.values(), key=lambda r: (r["month"], r["agency"], r["npp"]),
                  reverse=True)  # fmt: skip
