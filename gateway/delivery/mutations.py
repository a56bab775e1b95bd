"""What BPJS must be told, derived from the registry (docs/delivery.md, docs/design.md §6).

Derivation compares, for each enrollment, what the registry holds now with what BPJS was last
told (its latest mutation sent or accepted) and adds what is missing:

- `new`      an active enrollment BPJS was never told of, or told had ended;
- `wage`     an active one whose wage differs from what BPJS was told;
- `identity` an active one whose name, birth date or gender was corrected;
- `ended`    an ended one BPJS still has as active (non-aktif: end date and reason);
- moving to another employer (work unit rule, NPP) is `ended` under the old and `new` under
  the new one.

It is a function of the registry and the outbox, so deriving again gives the same set: each
mutation's idempotency key is a digest of its employer, enrollment, kind, facts and the
mutation it follows, and an existing key is never added twice. A pending (undelivered)
mutation that the registry no longer calls for is superseded, by its correction when there is
one: a worker ended and re-enrolled inside one month nets out, and a wage corrected twice
sends only the last. A rejected mutation stays rejected until its facts change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from gateway.clock import WIB, aware
from gateway.delivery.employers import EmployerRule, Undeliverable, employer_for
from gateway.security.crypto import KeyRing
from gateway.store import mutations as store
from gateway.store.db import writing

if TYPE_CHECKING:
    from sqlalchemy import Engine

# Why an enrollment ended, as told to BPJS: the registry ends a worker its agency's roster no
# longer names (docs/domain.md §4).
END_REASONS = {
    "left_roster": ("Tidak lagi tercantum di daftar instansi", "No longer on the agency's roster"),
    "moved": ("Pindah ke unit kerja pemberi kerja lain", "Moved to another employer's unit"),
}
FACTS = ("category", "position", "work_unit", "wage", "start_date")


@dataclass
class DeriveResult:
    agency: str
    added: dict[str, int] = field(default_factory=dict)  # by kind
    superseded: int = 0
    undeliverable: list[dict[str, Any]] = field(default_factory=list)  # enrollment, why

    def as_dict(self) -> dict[str, Any]:
        return {"agency": self.agency, "added": self.added, "superseded": self.superseded,
                "undeliverable": len(self.undeliverable)}  # fmt: skip


def identity_digest(keyring: KeyRing, name_enc: str, birth_date: date, gender: str) -> str:
    """A keyed digest of the identity BPJS registers (name, birth date, gender): a correction
    shows as a new digest without the name being kept anywhere in clear."""
    name = keyring.decrypt(name_enc, "workers.name")
    return keyring.blind_index(f"identity\x1f{name}\x1f{birth_date.isoformat()}\x1f{gender}")[:20]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def mutation_key(employer_id: int, enrollment_id: int, kind: str, payload: dict,
                 after: int | None) -> str:  # fmt: skip
    text = json.dumps([employer_id, enrollment_id, kind, payload, after], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _desired(row: dict, told: dict | None, employer: EmployerRule, keyring: KeyRing
             ) -> list[tuple[int, str, dict]]:  # fmt: skip
    """(employer id, kind, payload) BPJS must be told now for one enrollment, oldest first."""
    told_payload = told["payload"] if told else None
    told_active = told is not None and told["kind"] != "ended"
    if row["status"] != "active":
        if not told_active:
            return []  # never told, or told it ended: nothing to say
        assert told is not None and told_payload is not None
        end = {**told_payload, "end_date": _iso(row["end_date"]), "end_reason": "left_roster"}
        return [(told["employer_id"], "ended", end)]
    facts = {f: _iso(row[f]) for f in FACTS} | {"record_hash": row["record_hash"]}
    if told_active and told_payload and told_payload.get("record_hash") == row["record_hash"] \
            and told["employer_id"] == employer.id:
        return []  # the enrolled facts and identity are as told: the cheap, common case
    facts["identity"] = identity_digest(keyring, row["name_enc"], row["birth_date"],
                                        row["gender"])  # fmt: skip
    if not told_active:
        return [(employer.id, "new", facts)]
    assert told is not None and told_payload is not None
    if told["employer_id"] != employer.id:
        # Moved to a unit of another NPP: ended there on the day the registry moved them.
        moved_on = aware(row["updated_at"]).astimezone(WIB).date()  # type: ignore[union-attr]
        end = {**told_payload, "end_date": moved_on.isoformat(), "end_reason": "moved"}
        return [(told["employer_id"], "ended", end), (employer.id, "new", facts)]
    out = []
    if told_payload.get("wage") != facts["wage"]:
        out.append((employer.id, "wage", facts))
    if told_payload.get("identity") != facts["identity"]:
        out.append((employer.id, "identity", facts))
    return out


def derive(engine: Engine, keyring: KeyRing, agency: str, rules: Sequence[EmployerRule],
           month: str) -> DeriveResult:  # fmt: skip
    """Derive the agency's mutations for the reporting `month` (a new mutation's month; an
    existing one keeps the month it was first derived in). One transaction per chunk of
    enrollments: a derivation killed halfway leaves whole chunks, and the next finishes it."""
    result = DeriveResult(agency)
    last = 0
    while True:
        with writing(engine) as conn:
            chunk = store.enrollment_chunk(conn, agency, last)
            if not chunk:
                return result
            _derive_chunk(conn, keyring, agency, rules, month, chunk, result)
        last = chunk[-1]["id"]


def _undeliverable(row: dict, why: Undeliverable) -> dict[str, Any]:
    return {"enrollment_id": row["id"], "worker_id": row["worker_id"],
            "work_unit": row["work_unit"], "code": why.code,
            "message_id": why.message_id, "message_en": why.message_en}  # fmt: skip


def _derive_chunk(conn: Any, keyring: KeyRing, agency: str, rules: Sequence[EmployerRule],
                  month: str, chunk: list[dict], result: DeriveResult) -> None:  # fmt: skip
    existing = store.mutations_of(conn, [r["id"] for r in chunk])
    inserts: list[dict[str, Any]] = []
    stale: list[tuple[int, str | None]] = []  # (pending mutation id, key replacing it)
    for row in chunk:
        history = existing.get(row["id"], [])
        told = next((m for m in reversed(history) if m["state"] in store.TOLD), None)
        employer = employer_for(rules, agency, row["work_unit"])
        if isinstance(employer, Undeliverable):
            if row["status"] == "active":
                result.undeliverable.append(_undeliverable(row, employer))
            if told is None:
                continue
            # Told before under an employer no rule takes now: only an ending can be said.
            employer = next((r for r in rules if r.id == told["employer_id"]), None)
            if employer is None:
                continue
        wanted = _desired(row, told, employer, keyring)
        keys = {m["key"] for m in history}
        after = told["id"] if told else None
        want_keys: dict[str, str] = {}  # kind -> key
        for employer_id, kind, payload in wanted:
            key = mutation_key(employer_id, row["id"], kind, payload, after)
            want_keys[kind] = key
            if key not in keys:
                inserts.append({"key": key, "employer_id": employer_id, "enrollment_id": row["id"],
                                "worker_id": row["worker_id"], "agency": agency, "kind": kind,
                                "month": month, "payload": payload})  # fmt: skip
                result.added[kind] = result.added.get(kind, 0) + 1
        for m in history:
            if m["state"] in store.OPEN and m["key"] not in want_keys.values():
                stale.append((m["id"], want_keys.get(m["kind"])))
    ids = store.insert_mutations(conn, inserts)
    store.supersede(conn, [(old, ids.get(key) if key else None) for old, key in stale])
    result.superseded += len(stale)
