"""Append-only, hash-chained audit log, and its signed checkpoints.

Each entry's hash covers its own content and the previous entry's hash, so editing,
deleting or reordering any entry breaks the chain from that entry on, and `verify` names the
first bad one. A hash chain alone does not stop whoever can write the database from editing an
entry and recomputing every later hash, or from truncating the newest entries: checkpoints do
(`checkpoint`, written after every applied run and by `jamsos audit checkpoint`). Each signs,
with the receipt key, which lives outside the database, the chain's head (seq, hash) and
digests of the registry (runs by status and a digest of every finished run; history rows),
so `verify_all` finds a rewritten or truncated chain, and a run deleted or edited, too.
Exported checkpoints (`jamsos audit export-checkpoints`) kept elsewhere also survive their
rows being deleted from the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, func, insert, or_, select, text

from gateway.security.receipts import ReceiptSigner, document_genuine, key_id, sign_document
from gateway.store.tables import (
    RUN_COUNTS,
    audit_checkpoints,
    audit_log,
    enrollment_history,
    enrollments,
    runs,
)

GENESIS = "0" * 64


def _digest(prev: str, seq: int, at: str, actor: str, action: str, subject: str,
            details: str) -> str:
    body = json.dumps([seq, at, actor, action, subject, details], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256((prev + body).encode()).hexdigest()


def append(conn: Connection, *, actor: str, action: str, subject: str = "",
           details: dict[str, Any] | None = None) -> str:
    """Add an entry inside the caller's transaction (it commits or rolls back with it).

    Never pass PII in `details`: the log is read by auditors, not only by the owner.
    """
    if conn.dialect.name == "postgresql":
        # One writer at a time on the chain; released at commit.
        conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))
    last = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    payload = json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=str)
    digest = _digest(prev, seq, at, actor, action, subject, payload)
    conn.execute(
        insert(audit_log).values(seq=seq, at=at, actor=actor, action=action, subject=subject,
                                 details=payload, prev_hash=prev, hash=digest)
    )
    return digest


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    entries: int
    head: str  # hash of the newest entry
    first_bad: int | None = None  # seq of the first entry that does not verify
    reason: str = ""


def verify(engine: Engine) -> ChainVerdict:
    """Walk the chain in order; report the first entry that was edited, removed or moved.
    (A chain rewritten with every later hash recomputed walks fine: `verify_all` checks it
    against the signed checkpoints.)"""
    return _walk(engine, set())[0]


def recent(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_log)).scalar_one()


# -- signed checkpoints ------------------------------------------------------------------------

CHECKPOINT_VERSION = 1
# A run in any other status (running, or one still waiting) may still change: it is listed as
# open in a checkpoint and left out of its digest.
FINAL = ("succeeded", "rejected", "failed")
# The audit actions that record a run's end, and the run status each one states.
_RUN_ACTIONS = {"run_applied": None, "run_rejected": "rejected", "run_failed": "failed",
                "run_interrupted": "failed"}
_RUN_FIELDS = ("agency", "source", "input_sha256", "status", *RUN_COUNTS)


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _run_line(row: Any) -> bytes:
    return json.dumps([row.id, *row[1:]], default=str).encode() + b"\n"


def _runs_since(conn: Connection, previous: dict[str, Any] | None) -> dict[str, Any]:
    """What a new checkpoint signs of the runs: those finished after the previous checkpoint's
    last run or listed open by it (`closed`), a digest of each one's statement, the runs not
    finished yet (`open`) and the count of finished ones by status. Only the new runs are
    read, so a checkpoint after every run costs that run, not the registry's history."""
    after = previous["max_id"] if previous else 0
    was_open = previous["open"] if previous else []
    final = dict(previous["final"]) if previous else dict.fromkeys(FINAL, 0)
    query = select(runs.c.id, *(runs.c[f] for f in _RUN_FIELDS)).order_by(runs.c.id)
    newer = runs.c.id > after
    query = query.where(or_(newer, runs.c.id.in_(was_open)) if was_open else newer)
    digest, still_open, closed, top, count = hashlib.sha256(), [], [], after, 0
    # yield_per on the statement: on the connection it would stay set (an apply's own).
    for row in conn.execute(query.execution_options(yield_per=10_000)):
        top = max(top, row.id)
        if row.status not in FINAL:
            still_open.append(row.id)
            continue
        if row.id <= after:
            closed.append(row.id)
        final[row.status] = final.get(row.status, 0) + 1
        count += 1
        digest.update(_run_line(row))
    return {"after": after, "max_id": top, "open": still_open, "closed": closed,
            "runs": count, "digest": digest.hexdigest(), "final": final}


def _history_digest(conn: Connection, max_id: int) -> str:
    """Every history row up to `max_id` but its timestamp (seconds per million rows:
    explicit checkpoints only)."""
    h = enrollment_history
    digest = hashlib.sha256()
    query = (select(h.c.id, h.c.enrollment_id, h.c.run_id, h.c.change, h.c.before, h.c.after)
             .where(h.c.id <= max_id).order_by(h.c.id))
    for row in conn.execute(query.execution_options(yield_per=10_000)):
        digest.update(json.dumps(list(row), sort_keys=True, default=str).encode() + b"\n")
    return digest.hexdigest()


def _history_count(conn: Connection, after: int, upto: int) -> int:
    h = enrollment_history
    return conn.execute(select(func.count()).select_from(h)
                        .where(h.c.id > after, h.c.id <= upto)).scalar_one()


def _history_since(conn: Connection, previous: dict[str, Any] | None, *,
                   full: bool) -> dict[str, Any]:
    """History rows (append-only) up to now: their count, the previous checkpoint's plus the
    new ones; with `full` a digest of every row."""
    after = previous["max_id"] if previous else 0
    top = conn.execute(select(func.max(enrollment_history.c.id))).scalar() or 0
    rows = (previous["rows"] if previous else 0) + _history_count(conn, after, top)
    return {"after": after, "max_id": top, "rows": rows,
            "digest": _history_digest(conn, top) if full else None}


def checkpoint(conn: Connection, signer: ReceiptSigner, *, full: bool = False) -> dict[str, Any]:
    """Sign and store a checkpoint inside the caller's transaction (after a run: in the run's
    own). `full` adds the history digest, which reads every history row."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))  # the chain's writer lock
    head = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    last = conn.execute(
        select(audit_checkpoints.c.id, audit_checkpoints.c.body, audit_checkpoints.c.signature)
        .order_by(audit_checkpoints.c.id.desc()).limit(1)
    ).first()
    number = last[0] + 1 if last else 1
    # The previous checkpoint says where this one starts; one that does not verify (altered,
    # or another key's) is not built on: this one then covers every run and row from the start.
    previous = None
    if last is not None and document_genuine(signer.public, last[1].encode(), last[2]):
        previous = json.loads(last[1])
    body: dict[str, Any] = {
        "version": CHECKPOINT_VERSION,
        "id": number,
        "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        # Each checkpoint names the one before: one removed from the middle shows.
        "previous": hashlib.sha256(last[2].encode()).hexdigest() if last else GENESIS,
        "chain": {"seq": head[0] if head else 0, "hash": head[1] if head else GENESIS},
        "runs": _runs_since(conn, previous and previous["runs"]),
        "history": _history_since(conn, previous and previous["history"], full=full),
        "key_id": signer.key_id,
    }
    if full:  # for the record: enrollments change with every run, so they are not checked
        body["enrollments"] = dict(conn.execute(
            select(enrollments.c.status, func.count()).group_by(enrollments.c.status)).all())
    text_body = _canonical(body)
    row = {"id": number, "at": body["at"], "seq": body["chain"]["seq"], "body": text_body,
           "key_id": signer.key_id, "signature": sign_document(signer, text_body.encode())}
    conn.execute(insert(audit_checkpoints).values(**row))
    return row


def export_checkpoints(engine: Engine) -> list[dict[str, Any]]:
    """Every stored checkpoint, oldest first, as `jamsos audit export-checkpoints` writes them
    (one JSON object per line) and `verify_all` reads them back."""
    with engine.connect() as conn:
        rows = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id))
        return [dict(r._mapping) for r in rows]


@dataclass(frozen=True)
class AuditVerdict:
    """The chain, its checkpoints and the registry's runs, checked together."""

    chain: ChainVerdict
    checkpoints: int = 0  # checkpoints whose signature was checked
    last_checkpoint: int | None = None  # id of the newest one checked
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems


def _walk(engine: Engine, wanted: set[int]) -> tuple[ChainVerdict, dict[int, str], dict]:
    """The chain walked once: its verdict, the hash at each `wanted` seq, and the last entry
    about each run's end (run id -> (action, details))."""
    prev, expected_seq, count, hashes, ends = GENESIS, 1, 0, {}, {}
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=10_000).execute(
            select(audit_log).order_by(audit_log.c.seq)
        )
        for row in rows:
            count += 1
            if row.seq != expected_seq:
                return (ChainVerdict(False, count, prev, row.seq,
                                     f"entry {expected_seq} is missing (next is {row.seq})"),
                        hashes, ends)
            if row.prev_hash != prev:
                return (ChainVerdict(False, count, prev, row.seq,
                                     "does not follow the entry before it (removed or "
                                     "reordered)"), hashes, ends)
            digest = _digest(row.prev_hash, row.seq, row.at, row.actor, row.action, row.subject,
                             row.details)
            if digest != row.hash:
                return (ChainVerdict(False, count, prev, row.seq, "its content was changed"),
                        hashes, ends)
            if row.seq in wanted:
                hashes[row.seq] = row.hash
            if row.action in _RUN_ACTIONS and row.subject.startswith("run:"):
                with contextlib.suppress(ValueError):
                    ends[int(row.subject[4:])] = (row.action, json.loads(row.details))
            prev, expected_seq = row.hash, expected_seq + 1
    return ChainVerdict(True, count, prev), hashes, ends


def _checked_checkpoints(
    stored: Sequence[dict[str, Any]], exported: Sequence[dict[str, Any]],
    publics: Sequence[Ed25519PublicKey], problems: list[str], notes: list[str],
) -> list[dict[str, Any]]:
    """The bodies of the checkpoints whose signature holds, oldest first; what is wrong with
    the others (and with the stored ones against an exported copy) goes to `problems`."""
    by_id = {int(r["id"]): r for r in stored}
    for r in exported:
        mine = by_id.get(int(r["id"]))
        if mine is None:
            problems.append(f"checkpoint {r['id']} (exported) is missing from the database")
            by_id[int(r["id"])] = r
        elif (mine["body"], mine["signature"]) != (r["body"], r["signature"]):
            problems.append(f"checkpoint {r['id']} in the database differs from its exported "
                            "copy")
            by_id[int(r["id"])] = r  # the copy kept outside is the one to trust
    keys = {key_id(p): p for p in publics}
    if by_id and not keys:
        notes.append("checkpoints not checked: no receipt key (pass --public-key)")
        return []
    good, previous = [], None
    for number in sorted(by_id):
        r = by_id[number]
        public = keys.get(r["key_id"])
        if public is None:
            problems.append(f"checkpoint {number} is signed with an unknown key {r['key_id']}")
            continue
        if not document_genuine(public, r["body"].encode(), r["signature"]):
            problems.append(f"checkpoint {number}: signature does not match (altered)")
            continue
        body = json.loads(r["body"])
        if previous is not None and number == previous[0] + 1 and body["previous"] != (
                hashlib.sha256(previous[1].encode()).hexdigest()):
            problems.append(f"checkpoint {number} does not follow checkpoint {previous[0]}")
        elif previous is not None and number != previous[0] + 1:
            problems.append(f"checkpoints {previous[0] + 1}..{number - 1} are missing")
        previous = (number, r["signature"])
        good.append(body)
    return good


def _runs_against_checkpoints(found: dict[int, Any], good: Sequence[dict[str, Any]],
                              problems: list[str]) -> None:
    """The runs each checkpoint signed are in the registry as signed."""
    for body in good:
        signed = body["runs"]
        still_open = set(signed["open"])
        ids = [i for i in range(signed["after"] + 1, signed["max_id"] + 1)
               if i in found and found[i].status in FINAL and i not in still_open]
        ids = sorted({*ids, *(i for i in signed["closed"] if i in found)})
        digest = hashlib.sha256()
        for i in ids:
            digest.update(_run_line(found[i]))
        if (len(ids), digest.hexdigest()) != (signed["runs"], signed["digest"]):
            also = "".join(f" and {i}" for i in signed["closed"][:5])
            problems.append(
                f"runs {signed['after'] + 1}..{signed['max_id']}{also} differ from checkpoint "
                f"{body['id']} (deleted or edited): it signed {signed['runs']} finished, "
                f"now {len(ids)}")


def _history_against(conn: Connection, good: Sequence[dict[str, Any]],
                     problems: list[str]) -> None:
    """History rows: as many as the newest checkpoint counted, each as the newest full one
    (`jamsos audit checkpoint`) digested."""
    last = good[-1]["history"]
    rows = _history_count(conn, 0, last["max_id"])
    if rows != last["rows"]:
        problems.append(f"history rows up to {last['max_id']} differ from checkpoint "
                        f"{good[-1]['id']} (deleted or edited): signed {last['rows']}, "
                        f"now {rows}")
    full = next((b for b in reversed(good) if b["history"]["digest"]), None)
    if full and _history_digest(conn, full["history"]["max_id"]) != full["history"]["digest"]:
        problems.append(f"history rows up to {full['history']['max_id']} differ from checkpoint "
                        f"{full['id']} (edited)")


def _runs_against_chain(found: dict[int, Any], ends: dict, since: int | None,
                        problems: list[str]) -> None:
    """Each run the chain records the end of is in the registry as recorded; a finished run
    after the first checkpoint (`since`, its last run id) has an entry."""
    for run_id, (action, details) in sorted(ends.items()):
        row = found.get(run_id)
        if row is None:
            problems.append(f"run {run_id} is in the audit log but not in the registry "
                            "(deleted)")
            continue
        status = _RUN_ACTIONS[action] or details.get("status")
        stated = {f: details[f] for f in _RUN_FIELDS if f in details and action == "run_applied"}
        stated["status"] = status
        changed = [f for f, v in stated.items() if getattr(row, f) != v]
        if changed:
            problems.append(f"run {run_id} differs from its audit entry ({', '.join(changed)})")
    if since is not None:
        for run_id, row in sorted(found.items()):
            if run_id > since and row.status in FINAL and run_id not in ends:
                problems.append(f"run {run_id} finished without an audit entry (inserted)")


def verify_all(engine: Engine, publics: Sequence[Ed25519PublicKey] = (),
               exported: Sequence[dict[str, Any]] = ()) -> AuditVerdict:
    """The chain (`verify`), every checkpoint's signature and link (also against `exported`
    copies), the chain against the checkpoints' heads, the finished runs and history rows
    against the newest checkpoint, and every run against its audit entry."""
    problems: list[str] = []
    notes: list[str] = []
    good = _checked_checkpoints(export_checkpoints(engine), exported, publics, problems, notes)
    chain, hashes, ends = _walk(engine, {b["chain"]["seq"] for b in good})
    for body in good:
        seq, signed = body["chain"]["seq"], body["chain"]["hash"]
        if seq > chain.entries and chain.ok:
            problems.append(f"the chain ends at entry {chain.entries}, checkpoint {body['id']} "
                            f"signed entry {seq} (truncated)")
        elif seq in hashes and hashes[seq] != signed:
            problems.append(f"entry {seq} is not the one checkpoint {body['id']} signed (the "
                            "chain was rewritten)")
    with engine.connect() as conn:
        found = {row.id: row for row in conn.execute(
            select(runs.c.id, *(runs.c[f] for f in _RUN_FIELDS)))}
        _runs_against_checkpoints(found, good, problems)
        if good:
            _history_against(conn, good, problems)
    _runs_against_chain(found, ends, good[0]["runs"]["max_id"] if good else None, problems)
    return AuditVerdict(chain, len(good), good[-1]["id"] if good else None, tuple(problems),
                        tuple(notes))
