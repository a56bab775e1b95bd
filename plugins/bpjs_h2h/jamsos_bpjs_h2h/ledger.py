"""The loopback BPJS service's own book: what it received, whom it registered, what it
acknowledged. A SQLite file, so a test can prove exactly what "BPJS" saw after the gateway
was killed and re-run (docs/bpjs-h2h.md, "The service's log").

Tables:
    received  one row per idempotency key ever received: the mutation as sent, how many times
              it arrived, and (once processed) its outcome. The key is the primary key: a key
              sent twice is acknowledged again, never applied twice.
    members   one row per NIK: the KPJ (kept for life, across employers), the employer it is
              active under (NPP + division, or wadah + segment), identity, wage, dates.
    acks      the acknowledgement stream read by paging; `seq` is the cursor.

The rules BPJS applies (reason codes, in the order checked) are in `apply_one`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jamsos_bpjs_h2h.rules import Outcome, Rules, employer_label, invalid, reject

KPJ_BASE = 26_000_000_000  # 11 digits; the real KPJ's inner structure is not published

SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    batch_id TEXT,
    payload TEXT NOT NULL,
    times_received INTEGER NOT NULL DEFAULT 1,
    payload_mismatches INTEGER NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL,
    processed_at TEXT,
    status TEXT,
    kpj TEXT,
    reason_code TEXT,
    reason_id TEXT,
    reason_en TEXT
);
CREATE INDEX IF NOT EXISTS received_pending ON received (seq) WHERE processed_at IS NULL;
CREATE TABLE IF NOT EXISTS members (
    nik TEXT PRIMARY KEY,
    kpj TEXT NOT NULL UNIQUE,
    npp TEXT, division TEXT, wadah TEXT, segment TEXT,
    active INTEGER NOT NULL,
    name TEXT, birth_date TEXT, gender TEXT, wage INTEGER,
    start_date TEXT, end_date TEXT, end_reason TEXT,
    last_key TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS acks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL,
    kpj TEXT,
    reason_code TEXT,
    reason_id TEXT,
    reason_en TEXT,
    repeat INTEGER NOT NULL DEFAULT 0,
    acked_at TEXT NOT NULL
);
"""

def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _rupiah(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


class Ledger:
    """The book, safe to share between the HTTP threads and the acknowledging thread."""

    def __init__(self, path: str | Path, rules: Rules | None = None) -> None:
        self.path = Path(path)
        self.rules = rules or Rules()
        self.lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._members = self.db.execute("SELECT count(*) FROM members").fetchone()[0]

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # -- receiving ---------------------------------------------------------------------------
    def receive(self, batch_id: str | None, mutations: Iterable[Mapping[str, Any]]) -> dict:
        """Take in a batch: new keys are queued for processing; a key seen before is counted
        and, if already processed, acknowledged again with its first outcome. One transaction."""
        fresh = repeated = 0
        now = _now()
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for mutation in mutations:
                    key = mutation["idempotency_key"]
                    payload = json.dumps(mutation, sort_keys=True, ensure_ascii=False)
                    cur = self.db.execute(
                        "INSERT INTO received (idempotency_key, batch_id, payload, received_at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                        (key, batch_id, payload, now),
                    )
                    if cur.rowcount:
                        fresh += 1
                        continue
                    repeated += 1
                    self.db.execute(
                        "UPDATE received SET times_received = times_received + 1,"
                        " payload_mismatches = payload_mismatches + (payload != ?)"
                        " WHERE idempotency_key = ?",
                        (payload, key),
                    )
                    row = self.db.execute(
                        "SELECT status, kpj, reason_code, reason_id, reason_en FROM received"
                        " WHERE idempotency_key = ? AND processed_at IS NOT NULL",
                        (key,),
                    ).fetchone()
                    if row is not None:  # processed: acknowledge again, apply nothing
                        self._ack(key, Outcome(*row), repeat=True)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return {"received": fresh, "repeated": repeated}

    # -- processing (the acknowledging thread) -----------------------------------------------
    def process_pending(self, limit: int = 500) -> int:
        """Apply up to `limit` received mutations in arrival order; one transaction."""
        with self.lock:
            rows = self.db.execute(
                "SELECT idempotency_key, payload FROM received WHERE processed_at IS NULL"
                " ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
            if not rows:
                return 0
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for key, payload in rows:
                    outcome = self._apply_one(key, json.loads(payload))
                    self.db.execute(
                        "UPDATE received SET processed_at = ?, status = ?, kpj = ?,"
                        " reason_code = ?, reason_id = ?, reason_en = ?"
                        " WHERE idempotency_key = ?",
                        (_now(), outcome.status, outcome.kpj, outcome.reason_code,
                         outcome.reason_id, outcome.reason_en, key),
                    )
                    self._ack(key, outcome, repeat=False)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return len(rows)

    def _ack(self, key: str, outcome: Outcome, *, repeat: bool) -> None:
        self.db.execute(
            "INSERT INTO acks (idempotency_key, status, kpj, reason_code, reason_id, reason_en,"
            " repeat, acked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, outcome.status, outcome.kpj, outcome.reason_code, outcome.reason_id,
             outcome.reason_en, int(repeat), _now()),
        )  # fmt: skip

    def _member(self, nik: str) -> sqlite3.Row | None:
        cur = self.db.execute(
            "SELECT kpj, npp, division, wadah, segment, active FROM members WHERE nik = ?",
            (nik,),
        )
        return cur.fetchone()

    def _check(self, m: Mapping[str, Any]) -> Outcome:
        """The rules, without writing: an Outcome with status "accepted" means go ahead."""
        problem = invalid(m)
        if problem:
            return reject("invalid_mutation", detail=problem)
        rules, kind, nik = self.rules, m["kind"], m["nik"]
        employer = m.get("npp") or m.get("wadah")
        if rules.registered is not None and employer not in rules.registered:
            return reject("employer_not_registered", employer=employer_label(m))
        if nik in rules.unknown_niks:
            return reject("nik_unknown")
        member = self._member(nik)
        same = member is not None and member[5] and _same_employer(member, m)
        if kind == "new":
            start = m["start_date"]
            if rules.closed_through and start[:7] <= rules.closed_through:
                return reject("month_closed", start=start, closed=rules.closed_through)
        if kind in ("new", "wage") and m.get("npp"):
            region, minimum = self.minimum_wage(m)
            if minimum is not None and int(m["wage"]) < minimum:
                return reject(
                    "wage_below_minimum",
                    wage=_rupiah(int(m["wage"])), region=region, minimum=_rupiah(minimum),
                )  # fmt: skip
        if kind == "new":
            if member is not None and member[5] and not same:
                return reject("already_active_elsewhere")
            return Outcome("accepted", member[0] if member is not None else None)
        if not same:
            return reject("not_a_member")
        return Outcome("accepted", member[0])

    def _apply_one(self, key: str, m: Mapping[str, Any]) -> Outcome:
        outcome = self._check(m)
        if outcome.status != "accepted":
            return outcome
        kind, nik = m["kind"], m["nik"]
        if kind == "new":
            kpj = outcome.kpj
            if kpj is None:  # first time BPJS sees this person: a KPJ for life
                self._members += 1
                kpj = str(KPJ_BASE + self._members)
            self.db.execute(
                "INSERT INTO members (nik, kpj, npp, division, wadah, segment, active, name,"
                " birth_date, gender, wage, start_date, end_date, end_reason, last_key)"
                " VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, NULL, NULL, ?)"
                " ON CONFLICT (nik) DO UPDATE SET npp = excluded.npp,"
                " division = excluded.division, wadah = excluded.wadah,"
                " segment = excluded.segment, active = 1, name = excluded.name,"
                " birth_date = excluded.birth_date, gender = excluded.gender,"
                " wage = excluded.wage, start_date = excluded.start_date, end_date = NULL,"
                " end_reason = NULL, last_key = excluded.last_key",
                (nik, kpj, m.get("npp"), m.get("division"), m.get("wadah"), m.get("segment"),
                 m["name"], m["birth_date"], m["gender"], m.get("wage"), m["start_date"], key),
            )  # fmt: skip
            return Outcome("accepted", kpj)
        if kind == "wage":
            self.db.execute(
                "UPDATE members SET wage = ?, last_key = ? WHERE nik = ?", (m["wage"], key, nik)
            )
        elif kind == "identity":
            self.db.execute(
                "UPDATE members SET name = coalesce(?, name),"
                " birth_date = coalesce(?, birth_date), gender = coalesce(?, gender),"
                " last_key = ? WHERE nik = ?",
                (m.get("name"), m.get("birth_date"), m.get("gender"), key, nik),
            )
        else:  # ended: non-aktif, the KPJ stays the person's
            self.db.execute(
                "UPDATE members SET active = 0, end_date = ?, end_reason = ?, last_key = ?"
                " WHERE nik = ?",
                (m["end_date"], m["reason"], key, nik),
            )
        return outcome

    def minimum_wage(self, m: Mapping[str, Any]) -> tuple[str, int | None]:
        """The work region's minimum wage (the regency's UMK, else the province's UMP): the
        mutation's `region`, else the NIK's place of registration."""
        region = m.get("region") or f"{m['nik'][:2]}.{m['nik'][2:4]}"
        table = self.rules.minimum_wages
        for code in (region, region[:2]):
            if code in table:
                return code, table[code]
        return region, None

    # -- reading -----------------------------------------------------------------------------
    def count(self) -> int:
        """How many distinct idempotency keys BPJS has received."""
        with self.lock:
            return self.db.execute("SELECT count(*) FROM received").fetchone()[0]

    def pending(self) -> int:
        with self.lock:
            cur = self.db.execute("SELECT count(*) FROM received WHERE processed_at IS NULL")
            return cur.fetchone()[0]

    def acks(self, after: int, limit: int) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.db.execute(
                "SELECT seq, idempotency_key, status, kpj, reason_code, reason_id, reason_en,"
                " repeat, acked_at FROM acks WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        names = ("cursor", "idempotency_key", "status", "kpj", "reason_code", "reason_id",
                 "reason_en", "repeat", "acked_at")  # fmt: skip
        out = [dict(zip(names, row, strict=True)) for row in rows]
        for ack in out:
            ack["cursor"], ack["repeat"] = str(ack["cursor"]), bool(ack["repeat"])
        return out

    def received(self) -> dict[str, dict[str, Any]]:
        """Every key BPJS received: times received, payload mismatches, outcome (for tests)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT idempotency_key, times_received, payload_mismatches, status, kpj,"
                " reason_code, payload FROM received ORDER BY seq"
            ).fetchall()
        return {
            r[0]: {"times_received": r[1], "payload_mismatches": r[2], "status": r[3],
                   "kpj": r[4], "reason_code": r[5], "mutation": json.loads(r[6])}
            for r in rows
        }  # fmt: skip

    def members(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            self.db.row_factory = sqlite3.Row
            try:
                rows = self.db.execute("SELECT * FROM members").fetchall()
            finally:
                self.db.row_factory = None
        return {r["nik"]: dict(r) for r in rows}


def _same_employer(member: Any, m: Mapping[str, Any]) -> bool:
    """Same NPP (a move between its divisions is the same employer), or same wadah."""
    if m.get("npp"):
        return member[1] == m["npp"]
    return member[3] == m.get("wadah")


