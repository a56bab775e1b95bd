"""One verification pass: ask the provider plugin about every pending worker, batch by
batch, store each batch's answers in its own short transaction, and stop cleanly at the
first condition of the service (quota, hours, down, refused).

Why it resumes where it stopped without re-asking anyone: workers are taken by id, and an
answered one is no longer pending (store/verification.py `pending_workers`), so the next
pass, tomorrow after a quota, starts at the first one not answered. A condition is never
stored against a worker: it pauses the pass (`resume_at` in the state) and that is all.
A pass never runs inside a roster's transaction: it reads committed workers and writes only
`verifications` and the state.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from gateway.clock import WIB, aware
from gateway.config import ConfigError
from gateway.security.crypto import KeyRing
from gateway.store import verification as store
from gateway.store.db import writing
from gateway.verify.elements import VERDICTS, Person, Verdict, VerifierSettings
from gateway.verify.settings import VerificationSettings

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

# One pass at a time in a process (the background queue and a command may both start one),
# and in the database (a lease in gateway_meta: two gunicorn workers, a scheduled command).
_running = threading.Lock()
LEASE = timedelta(minutes=5)  # renewed each batch; a dead holder lets go after this


class VerificationOff(Exception):
    """No provider is configured, or it is not installed: the message says which."""


@dataclass
class PassResult:
    """What one pass did: answers by outcome, and why it stopped early, if it did."""

    asked: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    confirmed: int = 0  # records rewritten with the same identity: not asked again
    stopped: str | None = None  # a RETRYABLE condition, "paused" or "busy"
    code: str | None = None
    detail: str | None = None
    resume_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"asked": self.asked, "answers": dict(self.answers), "confirmed": self.confirmed,
                "stopped": self.stopped, "code": self.code, "detail": self.detail,
                "resume_at": self.resume_at.isoformat() if self.resume_at else None}  # fmt: skip


def identity_digest(ring: KeyRing, name: str, birth_date: date | str, gender: str) -> str:
    """Keyed (derived from the index key, like store/sealed.py's digests): unkeyed, it would
    confirm a guessed name against the database."""
    key = hashlib.blake2b(b"jamsos-verified-identity", key=ring.index_key[:64]).digest()
    text = f"{' '.join(name.split()).casefold()}\x1f{birth_date}\x1f{gender}"
    return hashlib.blake2b(text.encode(), key=key, digest_size=16).hexdigest()


def resume_time(condition: str, now: datetime, settings: VerificationSettings) -> datetime:
    """When a paused pass may ask again: a quota is daily (the next day, 00:05 WIB), the
    rest after `retry_minutes`."""
    if condition == "quota":
        tomorrow = now.astimezone(WIB).date() + timedelta(days=1)
        return datetime.combine(tomorrow, time(0, 5), tzinfo=WIB).astimezone(UTC)
    return now + timedelta(minutes=settings.retry_minutes)


def _hook(pm: Any, provider: str) -> Any:
    impls = [i for i in pm.hook.verify_identities.get_hookimpls() if i.plugin_name == provider]
    if not impls:
        raise VerificationOff(
            f"plugin verifikasi {provider!r} tidak terpasang atau tidak punya verify_identities "
            f"/ verification plugin {provider!r} is not installed or has no verify_identities"
        )
    return impls[0]


def ask(pm: Any, settings: VerificationSettings, people: list[Person]) -> list[Verdict]:
    """The provider's answers, one per person: its exception, a missing or unknown answer
    count as the service being unavailable, never as a verdict."""
    impl = _hook(pm, settings.provider or "")
    given = {"people": people,
             "settings": VerifierSettings(settings.provider_settings,
                                          threshold=settings.threshold)}  # fmt: skip
    try:
        answers = impl.function(**{k: given[k] for k in impl.argnames}) or []
    except ConfigError as exc:  # a secret reference that does not resolve: an operator's fix
        log.warning("verify_identities of %s: %s", settings.provider, exc)
        return [Verdict(p.ref, "refused", detail=str(exc)[:300]) for p in people]
    except Exception as exc:
        log.warning("verify_identities of %s failed: %s", settings.provider, type(exc).__name__)
        return [Verdict(p.ref, "unavailable", detail=f"{type(exc).__name__}") for p in people]
    by_ref = {a.ref: a for a in answers if isinstance(a, Verdict)}
    return [by_ref.get(p.ref) or Verdict(p.ref, "unavailable", detail="no answer")
            for p in people]  # fmt: skip


def verify_pending(
    engine: Engine,
    keyring: KeyRing,
    pm: Any,
    settings: VerificationSettings,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    force: bool = False,
) -> PassResult:
    """Ask about pending workers (at most `limit`), unless a pause is still on (`force`
    ignores it). Never raises for the service's conditions; VerificationOff when off."""
    if not settings.enabled:
        raise VerificationOff("verifikasi tidak dikonfigurasi / verification is not configured "
                              "([verification] provider, docs/verification.md)")  # fmt: skip
    _hook(pm, settings.provider or "")
    if not _running.acquire(blocking=False):
        return PassResult(stopped="busy")
    owner = f"{socket.gethostname()}|{os.getpid()}|{uuid.uuid4().hex[:8]}"
    try:
        if not _lease(engine, owner):
            return PassResult(stopped="busy")
        return _pass(engine, keyring, pm, settings, now or datetime.now(UTC), limit, force,
                     lambda: _lease(engine, owner))  # fmt: skip
    finally:
        store.release_lease(engine, owner)
        _running.release()


def _lease(engine: Engine, owner: str) -> bool:
    """Hold (or extend) the database-wide right to ask for LEASE more (wall clock)."""
    wall = datetime.now(UTC)
    return store.take_lease(engine, owner, wall + LEASE, wall)


def _pass(engine: Engine, keyring: KeyRing, pm: Any, settings: VerificationSettings,
          now: datetime, limit: int | None, force: bool,
          renew: Callable[[], bool]) -> PassResult:  # fmt: skip
    result = PassResult()
    with engine.connect() as conn:
        state = store.read_state(conn)
    resume = aware(datetime.fromisoformat(state["resume_at"])) if state.get("resume_at") else None
    if resume is not None and resume > now and not force:
        return PassResult(stopped="paused", code=state.get("code"), resume_at=resume,
                          detail=state.get("stopped"))  # fmt: skip
    stale_before = now - timedelta(days=settings.recheck_days)
    after = 0
    while limit is None or result.asked < limit:
        size = settings.batch_size if limit is None else min(settings.batch_size,
                                                             limit - result.asked)
        with engine.connect() as conn:
            batch = store.pending_workers(conn, stale_before=stale_before, after_id=after,
                                          limit=size)  # fmt: skip
        if not batch:
            break
        if not renew():  # our lease ran out and another process took over: leave it to it
            result.stopped = "busy"
            return result
        after = batch[-1]["id"]
        people, digests, confirmed = _people(keyring, batch, stale_before)
        if confirmed:
            with writing(engine) as conn:
                store.confirm_identities(conn, confirmed)
            result.confirmed += len(confirmed)
        if not people:
            continue
        answers = ask(pm, settings, people)
        rows, condition = [], None
        for person, answer in zip(people, answers, strict=True):
            if answer.outcome in VERDICTS:
                rows.append(_row(answer, digests[person.ref], settings, now))
                result.answers[answer.outcome] += 1
            elif condition is None:
                condition = answer
        result.asked += len(rows)
        if condition is not None:
            result.stopped, result.code, result.detail = (condition.outcome, condition.code,
                                                          condition.detail)  # fmt: skip
            result.resume_at = resume_time(condition.outcome, now, settings)
        with writing(engine) as conn:  # the batch's answers, and the pause with them
            store.save_verdicts(conn, rows)
            if condition is not None:
                store.write_state(conn, _state(result, now))
        if condition is not None:
            log.info("verification paused: %s until %s", condition.outcome, result.resume_at)
            return result
    with writing(engine) as conn:  # a pass that went through lifts any pause
        store.write_state(conn, _state(result, now))
    return result


Asked = dict[int, tuple[str, datetime]]  # worker id: (identity digest, record's updated_at)


def _people(keyring: KeyRing, batch: list[Mapping[str, Any]], stale_before: datetime
            ) -> tuple[list[Person], Asked, list[tuple[int, datetime]]]:  # fmt: skip
    """The batch's elements, decrypted for the call; the workers whose record was rewritten
    with the identity already asked about (and still fresh) are only confirmed."""
    people: list[Person] = []
    digests: Asked = {}
    confirmed: list[tuple[int, datetime]] = []
    for r in batch:
        name = keyring.decrypt(r["name_enc"], "workers.name")
        digest = identity_digest(keyring, name, r["birth_date"], r["gender"])
        checked = aware(r["checked_at"])
        if (r["identity_digest"] == digest and checked is not None and checked >= stale_before):
            confirmed.append((r["id"], r["updated_at"]))
            continue
        birth = r["birth_date"]
        people.append(Person(
            ref=r["id"], nik=keyring.decrypt(r["nik_enc"], "workers.nik"), name=name,
            birth_date=birth if isinstance(birth, date) else date.fromisoformat(str(birth)),
            gender=r["gender"],
        ))  # fmt: skip
        digests[r["id"]] = (digest, r["updated_at"])
    return people, digests, confirmed


def _row(answer: Verdict, digest: tuple[str, datetime], settings: VerificationSettings,
         now: datetime) -> dict[str, Any]:  # fmt: skip
    return {
        "worker_id": answer.ref, "outcome": answer.outcome,
        "scores": {k: int(s) for k, s in answer.scores.items()} or None,
        "elements": list(answer.elements) or None, "code": answer.code,
        "threshold": settings.threshold, "provider": settings.provider,
        "identity_digest": digest[0], "identity_at": digest[1], "checked_at": now,
    }  # fmt: skip


def _state(result: PassResult, now: datetime) -> dict[str, Any]:
    return {"at": now.isoformat(), **result.as_dict()}
