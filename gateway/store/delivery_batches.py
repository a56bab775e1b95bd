"""The SQL of a file destination's batches (gateway/delivery/batches.py, docs/delivery-sipp.md):
which pending mutations a batch takes, its files, marking it uploaded, and applying BPJS's
answer file. Each step is one transaction, logged in the audit chain with who did it.

A mutation is put in a batch only while it has none (`batch_id IS NULL`, state pending), so
two prepares at once never put it in two. A batch stays open (state prepared) until staff
mark it uploaded: preparing again for its employer and month adds that month's new pending
mutations to it and lets superseded ones go, and its files are written again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from gateway.clock import aware
from gateway.store import audit
from gateway.store.db import writing
from gateway.store.mutations import worker_kpjs
from gateway.store.outbox import apply_acks
from gateway.store.tables import delivery_batches, employers, enrollments, mutations, workers

# writing: mutations taken in, files not (yet) written for them; prepared: files ready to
# download; uploaded: staff marked them uploaded (mutations sent); answered: every mutation
# has BPJS's answer.
STATES = ("writing", "prepared", "uploaded", "answered")
OPEN = ("writing", "prepared")


class BatchStateError(Exception):
    """The batch is not in a state that allows this step (the message says why, bilingual)."""


def open_groups(engine: Engine, destination: str, month: str | None = None,
                employer_id: int | None = None) -> list[dict]:  # fmt: skip
    """(employer_id, month) pairs with work for `prepare`: pending mutations in no batch yet,
    a prepared batch holding a mutation since superseded, or a batch whose files were never
    written (a prepare that failed or was killed)."""
    m, e = mutations, employers
    fresh = (
        select(m.c.employer_id, m.c.month)
        .join(e, e.c.id == m.c.employer_id)
        .where(e.c.destination == destination, m.c.state == "pending", m.c.batch_id.is_(None))
    )
    stale = (
        select(delivery_batches.c.employer_id, delivery_batches.c.month)
        .join(m, m.c.batch_id == delivery_batches.c.id)
        .where(delivery_batches.c.destination == destination,
               delivery_batches.c.state == "prepared", m.c.state == "superseded")
    )  # fmt: skip
    unwritten = select(delivery_batches.c.employer_id, delivery_batches.c.month).where(
        delivery_batches.c.destination == destination, delivery_batches.c.state == "writing")
    if employer_id is not None:
        fresh = fresh.where(m.c.employer_id == employer_id)
        stale = stale.where(delivery_batches.c.employer_id == employer_id)
        unwritten = unwritten.where(delivery_batches.c.employer_id == employer_id)
    if month is not None:
        fresh = fresh.where(m.c.month == month)
        stale = stale.where(delivery_batches.c.month == month)
        unwritten = unwritten.where(delivery_batches.c.month == month)
    with engine.connect() as conn:
        pairs = {(r[0], r[1]) for q in (fresh, stale, unwritten) for r in conn.execute(q)}
    return [{"employer_id": eid, "month": mon} for eid, mon in sorted(pairs)]


def claim(engine: Engine, destination: str, employer_id: int, month: str, now: datetime
          ) -> tuple[int | None, bool]:  # fmt: skip
    """Open (or reuse) the employer's open batch for `month`, take in its pending mutations,
    let superseded ones go; it is `writing` until `record_files`. (batch id, or None when
    nothing is left to send; whether it is a new batch)."""
    with writing(engine) as conn:
        batch = conn.execute(
            select(delivery_batches.c.id).where(
                delivery_batches.c.destination == destination,
                delivery_batches.c.employer_id == employer_id,
                delivery_batches.c.month == month, delivery_batches.c.state.in_(OPEN),
            ).order_by(delivery_batches.c.id).limit(1)
        ).scalar()  # fmt: skip
        created = batch is None
        if created:
            batch = conn.execute(
                insert(delivery_batches).values(
                    destination=destination, employer_id=employer_id, month=month,
                    state="writing", files=[], mutations=0, created_at=now,
                ).returning(delivery_batches.c.id)
            ).scalar_one()  # fmt: skip
        conn.execute(
            update(mutations)
            .where(mutations.c.employer_id == employer_id, mutations.c.month == month,
                   mutations.c.state == "pending", mutations.c.batch_id.is_(None))
            .values(batch_id=batch)
        )  # fmt: skip
        conn.execute(
            update(mutations)
            .where(mutations.c.batch_id == batch, mutations.c.state == "superseded")
            .values(batch_id=None)
        )
        count = _count(conn, batch)
        if count == 0:
            conn.execute(delivery_batches.delete().where(delivery_batches.c.id == batch))
            return None, False
        conn.execute(update(delivery_batches).where(delivery_batches.c.id == batch)
                     .values(mutations=count, state="writing"))  # fmt: skip
    return batch, created


def _count(conn: Connection, batch_id: int) -> int:
    return conn.execute(
        select(func.count()).select_from(mutations).where(mutations.c.batch_id == batch_id)
    ).scalar_one()


def batch_mutations(engine: Engine, batch_id: int) -> list[dict]:
    """The batch's mutations with what the file needs: the worker's encrypted NIK and name
    (decrypted by the caller, in memory only), the enrollment, and a KPJ BPJS already gave
    the worker."""
    m, w, en = mutations, workers, enrollments
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(
            select(m.c.id, m.c.key, m.c.kind, m.c.month, m.c.payload, m.c.state, m.c.agency,
                   m.c.worker_id, m.c.kpj, w.c.nik_enc, w.c.name_enc, w.c.birth_date,
                   w.c.gender, en.c.category, en.c.position, en.c.work_unit, en.c.wage,
                   en.c.start_date, en.c.end_date)
            .join(w, w.c.id == m.c.worker_id).join(en, en.c.id == m.c.enrollment_id)
            .where(m.c.batch_id == batch_id).order_by(m.c.id)
        ).mappings()]  # fmt: skip
        known = worker_kpjs(conn, {r["worker_id"] for r in rows})
    for r in rows:
        r["known_kpj"] = r["kpj"] or known.get(r["worker_id"])
    return rows


def record_files(engine: Engine, batch_id: int, files: list[dict], *, actor: str,
                 now: datetime) -> None:  # fmt: skip
    """The batch's workbooks as written (name, kind, rows, sha256, revision)."""
    with writing(engine) as conn:
        _lock(conn, batch_id)
        batch = _batch(conn, batch_id)
        conn.execute(update(delivery_batches).where(delivery_batches.c.id == batch_id)
                     .values(files=files, created_at=now, state="prepared"))  # fmt: skip
        audit.append(conn, actor=actor, action="delivery_batch_prepared",
                     subject=f"delivery_batch:{batch_id}",
                     details={"employer_id": batch["employer_id"], "month": batch["month"],
                              "mutations": batch["mutations"],
                              "files": [{k: f[k] for k in ("name", "sha256")} for f in files]})


def get_batch(engine: Engine, batch_id: int) -> dict | None:
    with engine.connect() as conn:
        row = _batch(conn, batch_id, missing_ok=True)
    return row


def _lock(conn: Connection, batch_id: int) -> None:
    """Hold the batch's row for this transaction (PostgreSQL; SQLite's writer holds the whole
    database already): two marks or two imports of one batch at once run one after the
    other, the second seeing the first's result."""
    conn.execute(select(delivery_batches.c.id).where(delivery_batches.c.id == batch_id)
                 .with_for_update())  # fmt: skip


def _batch(conn: Connection, batch_id: int, *, missing_ok: bool = False) -> Any:
    b, e = delivery_batches, employers
    row = conn.execute(
        select(b, e.c.agency, e.c.npp, e.c.division, e.c.name.label("employer_name"))
        .join(e, e.c.id == b.c.employer_id).where(b.c.id == batch_id)
    ).mappings().first()  # fmt: skip
    if row is None and not missing_ok:
        raise LookupError(f"batch {batch_id}")
    return None if row is None else _with_zones(dict(row))


def _with_zones(row: dict) -> dict:
    for key in ("created_at", "uploaded_at", "answered_at"):
        row[key] = aware(row[key])
    return row


def list_batches(engine: Engine, *, destination: str | None = None, state: str | None = None,
                 agency: str | None = None, limit: int = 200) -> list[dict]:  # fmt: skip
    """The newest batches first, with counts of their mutations by state."""
    b, e = delivery_batches, employers
    query = (select(b, e.c.agency, e.c.npp, e.c.division, e.c.name.label("employer_name"))
             .join(e, e.c.id == b.c.employer_id).order_by(b.c.id.desc()).limit(limit))
    if destination:
        query = query.where(b.c.destination == destination)
    if state:
        query = query.where(b.c.state == state)
    if agency:
        query = query.where(e.c.agency == agency)
    with engine.connect() as conn:
        rows = [_with_zones(dict(r)) for r in conn.execute(query).mappings()]
        ids = [r["id"] for r in rows]
        counts: dict[int, dict[str, int]] = {}
        if ids:
            for batch_id, state_, n in conn.execute(
                select(mutations.c.batch_id, mutations.c.state, func.count())
                .where(mutations.c.batch_id.in_(ids))
                .group_by(mutations.c.batch_id, mutations.c.state)
            ):  # fmt: skip
                counts.setdefault(batch_id, {})[state_] = n
    for r in rows:
        r["states"] = counts.get(r["id"], {})
    return rows


def mark_uploaded(engine: Engine, batch_id: int, *, actor: str, now: datetime
                  ) -> tuple[bool, dict]:  # fmt: skip
    """Staff uploaded the batch's files: its mutations become sent. (changed, the batch);
    a batch already uploaded is left as it was (False)."""
    with writing(engine) as conn:
        _lock(conn, batch_id)
        batch = _batch(conn, batch_id)
        if batch["state"] not in OPEN:
            return False, batch
        again = f"jamsos deliver {batch['destination']}"
        if batch["state"] == "writing":
            raise BatchStateError(
                f"Berkas batch ini belum ditulis: jalankan `{again}` lagi. / This batch's files "
                f"were never written: run `{again}` again.")  # fmt: skip
        stale = conn.execute(
            select(func.count()).select_from(mutations)
            .where(mutations.c.batch_id == batch_id, mutations.c.state != "pending")
        ).scalar_one()  # fmt: skip
        if stale:
            raise BatchStateError(
                f"{stale} mutasi batch ini sudah digantikan sejak berkasnya ditulis: jalankan "
                f"`{again}` lalu unggah berkas revisi barunya. / {stale} of this batch's "
                f"mutations were superseded since its files were written: run `{again}`, then "
                "upload the new revision of its files.")  # fmt: skip
        moved = conn.execute(
            update(delivery_batches)
            .where(delivery_batches.c.id == batch_id, delivery_batches.c.state == "prepared")
            .values(state="uploaded", uploaded_at=now, uploaded_by=actor)
        ).rowcount  # fmt: skip
        if not moved:  # another process marked it meanwhile
            return False, _batch(conn, batch_id)
        sent = conn.execute(
            update(mutations)
            .where(mutations.c.batch_id == batch_id, mutations.c.state == "pending")
            .values(state="sent", sent_at=now, attempts=mutations.c.attempts + 1)
        ).rowcount  # fmt: skip
        audit.append(conn, actor=actor, action="delivery_batch_uploaded",
                     subject=f"delivery_batch:{batch_id}",
                     details={"employer_id": batch["employer_id"], "month": batch["month"],
                              "sent": sent})  # fmt: skip
        return True, _batch(conn, batch_id)


def apply_answers(engine: Engine, batch_id: int, acks: Sequence[Any], answer: dict, *,
                  actor: str, now: datetime) -> tuple[bool, dict]:  # fmt: skip
    """Apply one answer file's acks to the batch's mutations, all in one transaction, and
    list the file on the batch. (applied, the answer entry): an answer file with the same
    SHA-256 imported before is recognised and nothing is applied again (False, the earlier
    entry)."""
    with writing(engine) as conn:
        _lock(conn, batch_id)
        batch = _batch(conn, batch_id)
        for earlier in batch["files"]:
            if earlier.get("kind") == "answers" and earlier.get("sha256") == answer["sha256"]:
                return False, earlier
        if batch["state"] in OPEN:
            raise BatchStateError(
                "Batch ini belum ditandai sudah diunggah: tandai dulu, lalu impor jawabannya. / "
                "This batch is not marked uploaded yet: mark it, then import the answers.")
        # The outbox's own recording of answers (store/outbox.py), in this transaction: the
        # answers, the batch's state and the audit entry commit together or not at all.
        applied = apply_acks(conn, acks)
        counts = {k: applied[k] for k in ("accepted", "rejected")}
        waiting = conn.execute(
            select(func.count()).select_from(mutations)
            .where(mutations.c.batch_id == batch_id, mutations.c.state == "sent")
        ).scalar_one()  # fmt: skip
        entry = {**answer, "kind": "answers", "imported_at": now.isoformat(), "by": actor,
                 **counts, "waiting": waiting}  # fmt: skip
        values: dict[str, Any] = {"files": [*batch["files"], entry]}
        if waiting == 0:
            values.update(state="answered", answered_at=now)
        conn.execute(update(delivery_batches).where(delivery_batches.c.id == batch_id)
                     .values(**values))  # fmt: skip
        audit.append(conn, actor=actor, action="delivery_answers_imported",
                     subject=f"delivery_batch:{batch_id}",
                     details={"sha256": answer["sha256"], **counts, "waiting": waiting})
        return True, entry
