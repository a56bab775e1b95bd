"""SQL of BPJS's feeds: writing membership lists, bills and payments (gateway/reconcile/feeds.py
validates them) and reading them back for reconciliation (gateway/reconcile/)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, text, update

from gateway.store.tables import bpjs_bills, bpjs_members, bpjs_payments

_CHUNK = 5000


def lock_feed_writes(conn: Connection, kind: str) -> None:
    """Serialize applies of one kind of BPJS feed until the transaction ends (SQLite: BEGIN
    IMMEDIATE already did): two membership lists of one NPP at once must not interleave."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.blake2b(f"jamsos-apply:{kind}".encode(), digest_size=8)
                             .digest(), "big", signed=True)  # fmt: skip
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def apply(conn: Connection, kind: str, run_id: int, good: Sequence[dict[str, Any]],
          keyring: Any) -> dict[str, int]:  # fmt: skip
    """Write a validated feed; its changes (new, changed, unchanged, ended) for the run."""
    if kind == "bpjs_members":
        return _members(conn, run_id, good, keyring)
    if kind == "bpjs_bills":
        return _bills(conn, run_id, good)
    return _payments(conn, run_id, good)


def _members(conn: Connection, run_id: int, good: Sequence[dict], keyring: Any) -> dict[str, int]:
    changes = {"new": 0, "changed": 0, "unchanged": 0, "ended": 0}
    npps = sorted({g["npp"] for g in good})
    before = {(r.npp, r.nik_index): r for r in conn.execute(
        select(bpjs_members.c.npp, bpjs_members.c.nik_index, bpjs_members.c.kpj,
               bpjs_members.c.status, bpjs_members.c.wage, bpjs_members.c.effective_date)
        .where(bpjs_members.c.npp.in_(npps)))}  # fmt: skip
    for g in good:
        old = before.pop((g["npp"], g["nik_index"]), None)
        if old is None:
            changes["new"] += 1
        elif (old.kpj, old.status, old.wage, old.effective_date) == \
                (g["kpj"], g["status"], g["wage"], g["effective_date"]):
            changes["unchanged"] += 1
        else:
            changes["changed"] += 1
    changes["ended"] = len(before)  # on BPJS's earlier list of the NPP, not on this one
    # The list is the NPP's state at BPJS now: it replaces the earlier one whole.
    conn.execute(delete(bpjs_members).where(bpjs_members.c.npp.in_(npps)))
    names = keyring.encrypt_many([g["name"] for g in good], "bpjs_members.name")
    niks = keyring.encrypt_many([g["nik"] for g in good], "bpjs_members.nik")
    rows = [{"npp": g["npp"], "nik_index": g["nik_index"], "nik_enc": nik, "name_enc": name,
             "birth_date": g["birth_date"], "kpj": g["kpj"], "status": g["status"],
             "effective_date": g["effective_date"], "wage": g["wage"], "run_id": run_id}
            for g, nik, name in zip(good, niks, names, strict=True)]  # fmt: skip
    for i in range(0, len(rows), _CHUNK):
        conn.execute(insert(bpjs_members), rows[i:i + _CHUNK])
    return changes


def _bills(conn: Connection, run_id: int, good: Sequence[dict]) -> dict[str, int]:
    changes = {"new": 0, "changed": 0, "unchanged": 0, "ended": 0}
    for g in good:
        where = and_(bpjs_bills.c.npp == g["npp"], bpjs_bills.c.month == g["month"])
        old = conn.execute(select(bpjs_bills).where(where)).mappings().first()
        values = {"payment_code": g["payment_code"], "amounts": g["amounts"],
                  "total": g["total"], "due_date": g["due_date"], "run_id": run_id}
        if old is None:
            conn.execute(insert(bpjs_bills).values(npp=g["npp"], month=g["month"], **values))
            changes["new"] += 1
        elif (old["payment_code"], old["amounts"], old["total"], old["due_date"]) == \
                (g["payment_code"], g["amounts"], g["total"], g["due_date"]):
            changes["unchanged"] += 1
        else:
            conn.execute(update(bpjs_bills).where(where).values(**values))
            changes["changed"] += 1
    return changes


def _payments(conn: Connection, run_id: int, good: Sequence[dict]) -> dict[str, int]:
    known = payments_by_reference(conn, [g["reference"] for g in good])
    fresh = [{"reference": g["reference"], "payment_code": g["payment_code"],
              "amount": g["amount"], "paid_on": g["paid_on"], "run_id": run_id}
             for g in good if g["reference"] not in known]  # fmt: skip
    if fresh:
        conn.execute(insert(bpjs_payments), fresh)
    return {"new": len(fresh), "changed": 0, "unchanged": len(good) - len(fresh), "ended": 0}


def payments_by_reference(conn: Connection, references: Sequence[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for i in range(0, len(references), _CHUNK):
        for r in conn.execute(select(bpjs_payments).where(
                bpjs_payments.c.reference.in_(list(references[i:i + _CHUNK])))).mappings():
            out[r["reference"]] = dict(r)
    return out


# -- reading for reconciliation ---------------------------------------------------------------


def bills_of(engine: Engine, npps: Sequence[str] | None = None) -> list[dict[str, Any]]:
    query = select(bpjs_bills).order_by(bpjs_bills.c.npp, bpjs_bills.c.month)
    if npps is not None:
        query = query.where(bpjs_bills.c.npp.in_(list(npps)))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def payments_of(engine: Engine, codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    query = select(bpjs_payments).order_by(bpjs_payments.c.paid_on, bpjs_payments.c.reference)
    if codes is not None:
        query = query.where(bpjs_payments.c.payment_code.in_(list(codes)))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def member_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every member row without identity in clear (nik_index, kpj, status, npp, wage...)."""
    cols = [c for c in bpjs_members.c if c.name not in ("nik_enc", "name_enc")]
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(*cols)).mappings()]


def member_identities(engine: Engine, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Sealed NIK and name of member rows (decrypted by the caller only to be masked)."""
    ids, out = list(ids), {}
    with engine.connect() as conn:
        for i in range(0, len(ids), _CHUNK):
            out.update((r.id, (r.nik_enc, r.name_enc)) for r in conn.execute(
                select(bpjs_members.c.id, bpjs_members.c.nik_enc, bpjs_members.c.name_enc)
                .where(bpjs_members.c.id.in_(ids[i:i + _CHUNK]))))  # fmt: skip
    return out


def member_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(bpjs_members)).scalar_one())
