"""Delivering mutations through a destination, exactly once at the far end (docs/delivery.md).

    result = deliver(gw, "bpjs-h2h", trigger="cli")

1. Derive each agency's mutations for the reporting month (mutations.py).
2. Per employer of the destination, take the employer's lock: a second delivery for the same
   employer at once is refused, not interleaved.
3. Push: send what is due in batches. Each batch is marked `sent` *before* it leaves, in its
   own transaction; a process killed at any point after that sends the same idempotency keys
   again next time, and the counterpart, which deduplicates on them, sees each mutation once.
   A retryable failure (dropped connection, 5xx, 429) is retried with exponential backoff
   (the counterpart's Retry-After first); past the retries the batch waits for the next
   delivery. File destinations prepare batches of upload files instead (batches.py).
4. Poll the counterpart's later answers (accepted with the KPJ, rejected with a reason) and
   record them; the cursor moves in the same transaction as the answers it covers.
5. The delivery is recorded (deliveries table) with its counts, failed with the cause when it
   fails; mutations of a person whose identity check has not passed may wait (verify/).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gateway.clock import WIB
from gateway.delivery.base import Ack, DeliveryError, Destination, OutgoingMutation
from gateway.delivery.catalog import load_destination_settings, make_destination
from gateway.delivery.employers import EmployerRule
from gateway.delivery.mutations import derive
from gateway.store import outbox as store
from gateway.store.db import writing
from gateway.store.employers import list_employers
from gateway.verify.gate import delivery_holds


@dataclass
class DeliveryResult:
    destination: str
    delivery_id: int | None = None
    status: str = "succeeded"  # succeeded | failed | refused
    counts: dict[str, int] = field(default_factory=dict)
    refused: list[dict[str, Any]] = field(default_factory=list)  # employers locked elsewhere
    undeliverable: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {"destination": self.destination, "delivery_id": self.delivery_id,
                "status": self.status, "counts": self.counts, "refused": self.refused,
                "undeliverable": len(self.undeliverable), "error": self.error}  # fmt: skip


def reporting_month(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(WIB).strftime("%Y-%m")


def employer_rules(engine: Any, **filters: Any) -> list[EmployerRule]:
    return [EmployerRule(**row) for row in list_employers(engine, **filters)]


def derive_all(gw: Any, agencies: Sequence[str], month: str | None = None) -> list[Any]:
    """Derive the mutations of these agencies (every employer of each, whatever destination)."""
    rules = employer_rules(gw.engine)
    month = month or reporting_month()
    return [derive(gw.engine, gw.keyring, agency, [r for r in rules if r.agency == agency],
                   month) for agency in sorted(set(agencies))]  # fmt: skip


def deliver(gw: Any, destination_id: str, *, employer_id: int | None = None,
            trigger: str = "cli", actor: str | None = None, external_id: str | None = None,
            answer_wait: float | None = None, sleep: Callable[[float], None] = time.sleep,
            destination: Destination | None = None) -> DeliveryResult:  # fmt: skip
    """Deliver everything due for `destination_id` (or one employer of it); see the module
    docstring. Never raises for a counterpart's failure: the result and the deliveries row
    say what happened."""
    engine = gw.engine
    dest = destination or make_destination(gw.plugins, destination_id,
                                           load_destination_settings(gw.config))  # fmt: skip
    rules = [r for r in employer_rules(engine, destination=destination_id)
             if employer_id is None or r.id == employer_id]  # fmt: skip
    result = DeliveryResult(destination_id)
    result.delivery_id = store.start_delivery(engine, destination_id, employer_id, trigger,
                                              actor, external_id)  # fmt: skip
    try:
        for derived in derive_all(gw, [r.agency for r in rules]):
            for kind, n in derived.added.items():
                result.add(f"derived_{kind}", n)
            result.add("superseded", derived.superseded)
            result.undeliverable.extend(derived.undeliverable)
        for rule in rules:
            holder = store.lock_employer(engine, rule.id, result.delivery_id)
            if holder is not None:
                result.refused.append({"employer_id": rule.id, "npp": rule.npp,
                                       "delivery_id": holder["delivery_id"]})  # fmt: skip
                continue
            try:
                if dest.channel == "push":
                    _push(gw, dest, rule, result, sleep)
                else:
                    from gateway.delivery.batches import prepare_batches

                    result.add("batches", len(prepare_batches(gw, dest, rule)))
            finally:
                store.unlock_employer(engine, rule.id, result.delivery_id)
        if dest.channel == "push":
            _collect_answers(gw, dest, result, sleep, answer_wait)
    except DeliveryError as exc:
        result.status, result.error = "failed", _describe(exc)
    except Exception as exc:  # recorded, then raised: a bug or a broken plugin
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"[:1000]
        store.finish_delivery(engine, result.delivery_id, "failed", result.counts, result.error)
        raise
    if result.refused and result.status == "succeeded" and len(result.refused) == len(rules):
        result.status = "refused"
        result.error = ("pengiriman lain untuk pemberi kerja yang sama sedang berjalan / "
                        "another delivery for the same employer is running")
    store.finish_delivery(engine, result.delivery_id, result.status, result.counts, result.error)
    return result


def _describe(exc: DeliveryError) -> str:
    status = f" (HTTP {exc.status})" if exc.status else ""
    return f"{exc}{status}"[:1000]


def outgoing(gw: Any, row: dict[str, Any], rule: EmployerRule, kpj: str | None) -> OutgoingMutation:
    """A mutation as the destination is given it: identity decrypted now, never stored so."""
    p = row["payload"]
    return OutgoingMutation(
        key=row["key"], kind=row["kind"], month=row["month"], employer=rule,
        nik=gw.keyring.decrypt(row["nik_enc"], "workers.nik"),
        name=gw.keyring.decrypt(row["name_enc"], "workers.name"),
        birth_date=row["birth_date"], gender=row["gender"], wage=int(p["wage"]),
        start_date=_date(p["start_date"]), end_date=_date(p.get("end_date")),
        end_reason=p.get("end_reason"), category=p.get("category"),
        position=p.get("position"), work_unit=p.get("work_unit"), kpj=kpj, agency=row["agency"],
    )  # fmt: skip


def _date(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _holds(gw: Any, worker_ids: list[int]) -> set[int]:
    """Workers whose mutations wait for identity verification (docs/verification.md)."""
    with gw.engine.connect() as conn:
        return set(delivery_holds(conn, worker_ids, gw.config))


def _push(gw: Any, dest: Destination, rule: EmployerRule, result: DeliveryResult,
          sleep: Callable[[float], None]) -> None:  # fmt: skip
    from gateway.store.mutations import worker_kpjs

    engine = gw.engine
    retries = int(dest.setting("retries", 4))
    base, cap = float(dest.setting("backoff_base", 1.0)), float(dest.setting("backoff_max", 30))
    after = 0
    while True:
        found = store.due_mutations(engine, rule.id, datetime.now(UTC), dest.batch_size,
                                    after_id=after)  # fmt: skip
        if not found:
            return
        after = found[-1]["id"]
        held = _holds(gw, sorted({r["worker_id"] for r in found}))
        rows = [r for r in found if r["worker_id"] not in held]
        if held:
            result.add("waiting_verification", len(found) - len(rows))
        if not rows:
            continue
        with engine.connect() as conn:
            kpjs = worker_kpjs(conn, {r["worker_id"] for r in rows})
        batch = [outgoing(gw, r, rule, kpjs.get(r["worker_id"])) for r in rows]
        ids = [r["id"] for r in rows]
        store.mark_sending(engine, ids)
        for attempt in range(retries + 1):
            try:
                acks = list(dest.send(batch))
                break
            except DeliveryError as exc:
                if not exc.retryable:
                    raise
                result.add("retried")
                wait = exc.retry_after if exc.retry_after is not None else \
                    min(cap, base * 2 ** attempt) * (0.5 + random.random() / 2)
                if attempt == retries:
                    store.schedule_retry(engine, ids, datetime.now(UTC) + timedelta(seconds=wait))
                    result.add("postponed", len(ids))
                    result.error = f"ditunda / postponed: {_describe(exc)}"
                    return
                sleep(wait)
        result.add("sent", len(ids))
        store.mark_handed_over(engine, ids)
        _record(gw, acks, result)


def _record(gw: Any, acks: Sequence[Ack], result: DeliveryResult) -> None:
    if not acks:
        return
    with writing(gw.engine) as conn:
        counts = store.apply_acks(conn, acks)
    for outcome in ("accepted", "rejected"):
        result.add(outcome, counts[outcome])


def _collect_answers(gw: Any, dest: Destination, result: DeliveryResult,
                     sleep: Callable[[float], None], answer_wait: float | None,
                     ) -> None:  # fmt: skip
    """Page through later answers; wait up to `answer_wait` seconds for those still due."""
    wait = float(dest.setting("answer_wait", 10) if answer_wait is None else answer_wait)
    deadline = time.monotonic() + wait
    cursor = store.poll_cursor(gw.engine, dest.id)
    while True:
        page = dest.poll(cursor)
        with writing(gw.engine) as conn:
            counts = store.apply_acks(conn, page.acks)
            store.save_poll_cursor(conn, dest.id, page.cursor)
        for outcome in ("accepted", "rejected"):
            result.add(outcome, counts[outcome])
        cursor = page.cursor
        if page.more:
            continue
        if store.awaiting_answers(gw.engine, dest.id) == 0 or time.monotonic() >= deadline:
            result.counts["awaiting_answer"] = store.awaiting_answers(gw.engine, dest.id)
            return
        sleep(float(dest.setting("poll_interval", 0.5)))
