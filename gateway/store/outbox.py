"""SQL of the outbox's sending side: deliveries and their per-employer locks, the mutations
due, marking them sent before they go, and BPJS's answers (gateway/delivery/outbox.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from gateway.store import audit
from gateway.store.db import writing
from gateway.store.liveness import owner_alive, process_owner
from gateway.store.tables import (
    deliveries,
    delivery_locks,
    employers,
    mutations,
    source_state,
    workers,
)


def start_delivery(engine: Engine, destination: str, employer_id: int | None, trigger: str,
                   actor: str | None, external_id: str | None) -> int:  # fmt: skip
    sweep_deliveries(engine)
    with writing(engine) as conn:
        return int(conn.execute(insert(deliveries).values(
            destination=destination, employer_id=employer_id, trigger=trigger, actor=actor,
            status="running", started_at=datetime.now(UTC), owner=process_owner(),
            external_id=external_id,
        )).inserted_primary_key[0])  # fmt: skip


def finish_delivery(engine: Engine, delivery_id: int, status: str, counts: dict,
                    error: str | None = None) -> None:  # fmt: skip
    with writing(engine) as conn:
        conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
            status=status, finished_at=datetime.now(UTC), counts=counts, error=error))
        audit.append(conn, actor="system", action="delivery_" + status,
                     subject=f"delivery:{delivery_id}", details=counts)  # fmt: skip


def sweep_deliveries(engine: Engine) -> int:
    """Fail deliveries left `running` by a process that is gone (killed): what they marked
    sent is sent again under the same keys by the next delivery."""
    with engine.connect() as conn:
        found = conn.execute(select(deliveries.c.id, deliveries.c.owner)
                             .where(deliveries.c.status == "running")).all()  # fmt: skip
    gone = [i for i, owner in found if owner_alive(owner) is False]
    for delivery_id in gone:
        with writing(engine) as conn:
            conn.execute(update(deliveries).where(and_(
                deliveries.c.id == delivery_id, deliveries.c.status == "running")).values(
                status="failed", finished_at=datetime.now(UTC),
                error="terhenti: prosesnya berakhir; pengiriman berikutnya melanjutkan / "
                      "interrupted: its process ended; the next delivery carries on"))
    return len(gone)


def get_delivery(engine: Engine, delivery_id: int) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
    return dict(row._mapping) if row else None


def list_deliveries(engine: Engine, destination: str | None = None, limit: int = 50) -> list[dict]:
    query = select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
    if destination:
        query = query.where(deliveries.c.destination == destination)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


# -- one delivery per employer at a time ----------------------------------------------------


def lock_employer(engine: Engine, employer_id: int, delivery_id: int) -> dict | None:
    """Take the employer's lock for this delivery; None when taken, else the holder (another
    delivery whose process lives, or cannot be judged from here)."""
    owner, now = process_owner(), datetime.now(UTC)
    for _ in range(2):
        try:
            with writing(engine) as conn:
                conn.execute(insert(delivery_locks).values(
                    employer_id=employer_id, delivery_id=delivery_id, owner=owner, since=now))
            return None
        except IntegrityError:
            with writing(engine) as conn:
                held = conn.execute(select(delivery_locks).where(
                    delivery_locks.c.employer_id == employer_id)).mappings().first()
                if held is None:
                    continue
                if owner_alive(held["owner"]) is not False:
                    return dict(held)
                # Its process is gone (killed): take the lock over.
                conn.execute(update(delivery_locks).where(and_(
                    delivery_locks.c.employer_id == employer_id,
                    delivery_locks.c.owner == held["owner"])).values(
                    delivery_id=delivery_id, owner=owner, since=now))
                return None
    return None


def unlock_employer(engine: Engine, employer_id: int, delivery_id: int) -> None:
    with writing(engine) as conn:
        conn.execute(delete(delivery_locks).where(and_(
            delivery_locks.c.employer_id == employer_id,
            delivery_locks.c.delivery_id == delivery_id)))


# -- sending --------------------------------------------------------------------------------


def due_mutations(engine: Engine, employer_id: int, now: datetime, limit: int,
                  after_id: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Mutations to send now, oldest first: pending ones, and those marked sent that never got
    through (a killed or failed attempt), once their retry time has come. With the identity
    (sealed) each needs. `after_id`: a keyset, so a caller passing over some (waiting for
    identity verification) moves on without listing them."""
    query = (
        select(mutations, workers.c.nik_enc, workers.c.name_enc, workers.c.birth_date,
               workers.c.gender)
        .join(workers, workers.c.id == mutations.c.worker_id)
        .where(and_(
            mutations.c.employer_id == employer_id,
            mutations.c.id > after_id,
            mutations.c.state.in_(("pending", "sent")),
            mutations.c.sent_at.is_(None),
            mutations.c.batch_id.is_(None),
            or_(mutations.c.next_attempt_at.is_(None), mutations.c.next_attempt_at <= now),
        ))
        .order_by(mutations.c.id)
        .limit(limit)
    )  # fmt: skip
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def mark_sending(engine: Engine, ids: Sequence[int]) -> None:
    """Before the batch leaves: `sent`, one more attempt. A process killed after this sends
    the same keys again next time; the counterpart deduplicates on them."""
    with writing(engine) as conn:
        for chunk in _chunks(ids):
            conn.execute(update(mutations).where(mutations.c.id.in_(chunk)).values(
                state="sent", attempts=mutations.c.attempts + 1, next_attempt_at=None))


def mark_handed_over(engine: Engine, ids: Sequence[int]) -> None:
    """The counterpart took the batch: wait for its answers, do not send again."""
    now = datetime.now(UTC)
    with writing(engine) as conn:
        for chunk in _chunks(ids):
            conn.execute(update(mutations).where(and_(
                mutations.c.id.in_(chunk), mutations.c.state == "sent")).values(sent_at=now))


def schedule_retry(engine: Engine, ids: Sequence[int], at: datetime) -> None:
    with writing(engine) as conn:
        for chunk in _chunks(ids):
            conn.execute(update(mutations).where(and_(
                mutations.c.id.in_(chunk), mutations.c.state == "sent")).values(
                next_attempt_at=at))


def apply_acks(conn: Connection, acks: Sequence[Any]) -> dict[str, int]:
    """Record answers by idempotency key, in the caller's transaction. An answer for a
    mutation already answered (a repeated answer) changes nothing. One read of the keys' states
    and one UPDATE per outcome for the whole page: a page of 500 answers is three statements,
    not 500."""
    now = datetime.now(UTC)
    counts = {"accepted": 0, "rejected": 0, "pending": 0, "unknown": 0}
    keys = list({a.key for a in acks})
    states: dict[str, tuple[str, Any]] = {}
    for chunk in _chunks(keys):  # type: ignore[arg-type]
        states.update((k, (st, sent)) for k, st, sent in conn.execute(
            select(mutations.c.key, mutations.c.state, mutations.c.sent_at)
            .where(mutations.c.key.in_(chunk))))  # fmt: skip
    handed: list[dict[str, Any]] = []
    answered: dict[str, list[dict[str, Any]]] = {"accepted": [], "rejected": []}
    for ack in acks:
        state, sent_at = states.get(ack.key, (None, None))
        if state is None:
            counts["unknown"] += 1
        elif ack.outcome == "pending":
            if state == "sent" and sent_at is None:
                handed.append({"k": ack.key})
                states[ack.key] = (state, now)
                counts["pending"] += 1
        elif state in ("sent", "pending"):
            answered[ack.outcome].append({
                "k": ack.key, "kpj": ack.kpj if ack.outcome == "accepted" else None,
                "code": ack.reason_code, "rid": ack.reason_id, "ren": ack.reason_en})
            states[ack.key] = (ack.outcome, sent_at)  # a repeat in the same page: once
            counts[ack.outcome] += 1
    key = bindparam("k")
    if handed:
        conn.execute(update(mutations).where(mutations.c.key == key)
                     .values(sent_at=now), handed)  # fmt: skip
    for outcome, rows in answered.items():
        if rows:
            conn.execute(
                update(mutations).where(and_(mutations.c.key == key,
                                             or_(mutations.c.state == "sent",
                                                 mutations.c.state == "pending")))
                .values(state=outcome, answered_at=now, kpj=bindparam("kpj"),
                        reason_code=bindparam("code"), reason_id=bindparam("rid"),
                        reason_en=bindparam("ren")), rows)  # fmt: skip
    return counts


def awaiting_answers(engine: Engine, destination: str) -> int:
    """Mutations handed over to this destination's employers with no answer yet."""
    with engine.connect() as conn:
        return int(conn.execute(
            select(func.count()).select_from(mutations)
            .join(employers, employers.c.id == mutations.c.employer_id)
            .where(and_(employers.c.destination == destination, mutations.c.state == "sent",
                        mutations.c.sent_at.is_not(None)))
        ).scalar_one())  # fmt: skip


def poll_cursor(engine: Engine, destination: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(source_state.c.cursor).where(
            source_state.c.source == f"destination:{destination}")).scalar()


def save_poll_cursor(conn: Connection, destination: str, cursor: str | None) -> None:
    name, now = f"destination:{destination}", datetime.now(UTC)
    if conn.execute(update(source_state).where(source_state.c.source == name)
                    .values(cursor=cursor, updated_at=now)).rowcount == 0:  # fmt: skip
        try:  # two deliveries of one destination (other employers) may both be first
            with conn.begin_nested():
                conn.execute(insert(source_state).values(source=name, cursor=cursor,
                                                         updated_at=now))  # fmt: skip
        except IntegrityError:
            conn.execute(update(source_state).where(source_state.c.source == name)
                         .values(cursor=cursor, updated_at=now))  # fmt: skip


def _chunks(ids: Sequence[int], size: int = 5000) -> list[list[int]]:
    ids = list(ids)
    return [ids[i:i + size] for i in range(0, len(ids), size)]
