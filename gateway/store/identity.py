"""Identity per agency: who may change a worker's name, birth date and gender, and the
conflicts recorded when an agency may not.

A worker (one NIK, one `workers` row) is shared by every agency that enrolls them, and so is
their identity. An agency's roster writes it only while no other agency enrolls (or enrolled:
an ended enrollment is still shown) that worker; the record then holds that agency's own data
and a correction reaches nobody else. When another agency enrolls the worker, a roster that
claims another name, birth date or gender is applied (its wage, position, dates) but the
worker record is not changed: the claim is recorded here as an identity conflict for
compliance staff, and the row gets an `identity_conflict` warning. So what one agency sends
never changes what another agency's enrollment shows (docs/architecture.md, Decisions).

A conflict is one row per (worker, claiming agency): refreshed while the agency keeps
claiming otherwise, resolved when its roster agrees with the record again, reopened if the
claim comes back. It holds no NIK or name: the worker by id, the claimed name masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, select, update

from gateway.domain.records import Problem, make_problem
from gateway.domain.validation import MESSAGES
from gateway.security.crypto import KeyRing
from gateway.store.bulk import BulkWriter
from gateway.store.sealed import Sealed
from gateway.store.tables import identity_conflicts, workers

__all__ = [
    "IdentityGuard",
    "Verdicts",
    "conflict_count",
    "conflict_page",
    "conflict_problem",
    "mask_claimed_name",
]

IDENTITY_FIELDS = ("name", "birth_date", "gender")
_FIELD_WORDS = {  # as the warning names them (Bahasa Indonesia, English)
    "name": ("nama", "name"),
    "birth_date": ("tanggal lahir", "birth date"),
    "gender": ("jenis kelamin", "gender"),
}
_CHUNK = 4096
# What a conflict records of the claim (refreshed each time the claim is seen).
_CLAIM = ("holders", "fields", "claimed_name", "claimed_birth_date", "claimed_gender")


def conflict_problem(row: int, fields: Sequence[str]) -> Problem:
    """The warning on a row whose identity differs from the one another agency enrolled."""
    ids = [_FIELD_WORDS[f][0] for f in fields]
    ens = [_FIELD_WORDS[f][1] for f in fields]
    return make_problem(
        MESSAGES, "identity_conflict", row, fields[0] if fields else None,
        fields_id=_words(ids, "dan"), fields_en=_words(ens, "and"),
    )  # fmt: skip


def _words(words: list[str], conj: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conj} {words[-1]}"


def mask_claimed_name(name: str) -> str:
    """What a conflict keeps of a claimed name: the first two letters of the first word and
    the initials of the others ("Bu*** S."), enough to tell a typo from another person on
    the conflicts page, never the name (it is stored beside nothing that decrypts it)."""
    words = name.replace("_", " ").replace(".", " ").split()
    if not words:
        return ""
    return " ".join([f"{words[0][:2]}***", *(f"{w[0]}." for w in words[1:])])[:64]


def _same_name(a: str, b: str) -> bool:
    # Case and spacing are how a clerk typed it, not another identity.
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _iso(value: object) -> str:
    # SQLite's DB-API gives the stored text, psycopg a date.
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


@dataclass
class Verdicts:
    """What an apply may do with one batch's identities."""

    rename: set[int] = field(default_factory=set)  # workers whose record this agency writes
    conflicts: dict[int, list[str]] = field(default_factory=dict)  # worker id: fields


class IdentityGuard:
    """Decides, inside a run's transaction, whose identity reaches the shared worker record,
    and records the conflicts (`RosterApply` asks it once per batch)."""

    def __init__(
        self,
        conn: Connection,
        writer: BulkWriter,
        keyring: KeyRing,
        agency: str,
        run_id: int,
        now: datetime,
    ) -> None:
        self.conn, self.writer, self.keyring = conn, writer, keyring
        self.agency, self.run_id, self.now = agency, run_id, now
        self._open: dict[int, list[str]] | None = None  # this agency's open conflicts

    def open_conflicts(self) -> dict[int, list[str]]:
        """{worker id: fields} of this agency's open conflicts, read once per run (few)."""
        if self._open is None:
            rows = self.conn.execute(
                select(identity_conflicts.c.worker_id, identity_conflicts.c.fields).where(
                    identity_conflicts.c.agency == self.agency,
                    identity_conflicts.c.resolved_at.is_(None),
                )
            )
            self._open = {wid: list(fields) for wid, fields in rows}
        return self._open

    def screen(self, claims: Sequence[tuple[int, Sealed]], unchanged: Sequence[int]) -> Verdicts:
        """`claims`: (worker id, sealed row) of rows naming a worker the registry holds, new
        to this agency or changed since its last roster; `unchanged`: worker ids of rows as
        this agency last sent them (still in conflict if they were)."""
        verdicts = Verdicts()
        if claims:
            others = self._other_agencies([wid for wid, _ in claims])
            shared = [(wid, s) for wid, s in claims if wid in others]
            verdicts.rename = {wid for wid, _ in claims if wid not in others}
            if shared:
                self._compare(shared, others, verdicts)
        open_now = self.open_conflicts() if unchanged else {}
        still = [wid for wid in unchanged if wid in open_now]
        for wid in still:
            verdicts.conflicts[wid] = open_now[wid]
        if still:
            self._seen_again(still)
        return verdicts

    def _other_agencies(self, worker_ids: list[int]) -> dict[int, list[str]]:
        """{worker id: other agencies with an enrollment of them (any status)}. Plain DB-API
        on the apply's connection: a national roster of changed rows asks once per batch."""
        cur, found = self.writer.cur, {}  # type: ignore[var-annotated]
        ids = sorted(set(worker_ids))
        for start in range(0, len(ids), _CHUNK):
            where, params = self.writer._in("worker_id", ids[start : start + _CHUNK])
            cur.execute(
                self.writer.sql(
                    f"SELECT worker_id, agency FROM enrollments WHERE {where} AND agency <> ?"
                ),
                [*params, self.agency],
            )
            for wid, agency in cur.fetchall():
                found.setdefault(wid, []).append(agency)
        return {wid: sorted(set(agencies)) for wid, agencies in found.items()}

    def _compare(
        self, shared: list[tuple[int, Sealed]], others: dict[int, list[str]], verdicts: Verdicts
    ) -> None:
        ids = sorted({wid for wid, _ in shared})
        held: dict[int, tuple[str, str, str]] = {}
        cur = self.writer.cur
        for start in range(0, len(ids), _CHUNK):
            where, params = self.writer._in("id", ids[start : start + _CHUNK])
            cur.execute(
                self.writer.sql(
                    f"SELECT id, name_enc, birth_date, gender FROM workers WHERE {where}"
                ),
                params,
            )
            for wid, name_enc, born, gender in cur.fetchall():
                held[wid] = (name_enc, _iso(born), gender)
        decrypt = self.keyring.decrypt
        found: list[tuple[int, Sealed, list[str], str]] = []
        agreed: list[int] = []
        for wid, s in shared:
            name_enc, born, gender = held[wid]
            claimed = decrypt(s.name_enc, "workers.name")
            fields = [
                f for f, differs in (
                    ("name", not _same_name(decrypt(name_enc, "workers.name"), claimed)),
                    ("birth_date", born != s.birth_date),
                    ("gender", gender != s.gender),
                ) if differs
            ]  # fmt: skip
            if fields:
                verdicts.conflicts[wid] = fields
                found.append((wid, s, fields, claimed))
            else:
                agreed.append(wid)
        if found:
            self._record(found, others)
        resolved = [wid for wid in agreed if wid in self.open_conflicts()]
        if resolved:
            self._resolve(resolved)

    # -- writes (few: only conflicting rows) -------------------------------------------------
    def _record(
        self, found: list[tuple[int, Sealed, list[str], str]], others: dict[int, list[str]]
    ) -> None:
        """Insert new conflicts, refresh or reopen known ones: one statement each kind (a
        national roster re-sent with thousands of conflicts must not update row by row)."""
        t = identity_conflicts.c
        ids = [wid for wid, _, _, _ in found]
        existing = set()
        for start in range(0, len(ids), _CHUNK):
            existing.update(
                self.conn.execute(
                    select(t.worker_id).where(
                        t.agency == self.agency, t.worker_id.in_(ids[start : start + _CHUNK])
                    )
                ).scalars()
            )
        open_now = self.open_conflicts()
        fresh: list[dict[str, Any]] = []
        refreshed: list[dict[str, Any]] = []
        reopened: list[dict[str, Any]] = []
        for wid, s, fields, claimed in found:
            claim = {
                "holders": others[wid],
                "fields": fields,
                "claimed_name": mask_claimed_name(claimed),
                "claimed_birth_date": date.fromisoformat(s.birth_date),
                "claimed_gender": s.gender,
            }
            if wid not in existing:
                fresh.append({**claim, "worker_id": wid, "agency": self.agency,
                              "first_run_id": self.run_id, "last_run_id": self.run_id,
                              "detected_at": self.now, "last_seen_at": self.now})  # fmt: skip
            else:  # known; reopened when it was resolved before: a new conflict
                (refreshed if wid in open_now else reopened).append(
                    {f"b_{k}": v for k, v in claim.items()} | {"b_worker_id": wid}
                )
        if fresh:
            self.conn.execute(insert(identity_conflicts), fresh)
        claimed_values = {k: bindparam(f"b_{k}") for k in _CLAIM}
        same = update(identity_conflicts).where(
            t.worker_id == bindparam("b_worker_id"), t.agency == self.agency
        )
        seen = {"last_run_id": self.run_id, "last_seen_at": self.now}
        if refreshed:
            self.conn.execute(same.values(**claimed_values, **seen), refreshed)
        if reopened:
            again = {"first_run_id": self.run_id, "detected_at": self.now,
                     "resolved_at": None, "resolved_run_id": None}  # fmt: skip
            self.conn.execute(same.values(**claimed_values, **seen, **again), reopened)
        for wid, _, fields, _ in found:
            open_now[wid] = fields

    def _seen_again(self, worker_ids: list[int]) -> None:
        t = identity_conflicts.c
        for start in range(0, len(worker_ids), _CHUNK):
            self.conn.execute(
                update(identity_conflicts)
                .where(t.agency == self.agency, t.worker_id.in_(worker_ids[start : start + _CHUNK]))
                .values(last_run_id=self.run_id, last_seen_at=self.now)
            )

    def _resolve(self, worker_ids: list[int]) -> None:
        t = identity_conflicts.c
        self.conn.execute(
            update(identity_conflicts)
            .where(t.agency == self.agency, t.worker_id.in_(worker_ids), t.resolved_at.is_(None))
            .values(resolved_at=self.now, resolved_run_id=self.run_id, last_run_id=self.run_id)
        )
        open_now = self.open_conflicts()
        for wid in worker_ids:
            open_now.pop(wid, None)


# -- what compliance staff read -------------------------------------------------------------------


def conflict_count(engine: Engine, *, resolved: bool = False) -> int:
    """Open conflicts (or, with `resolved`, the settled ones)."""
    t = identity_conflicts.c
    cond = t.resolved_at.is_not(None) if resolved else t.resolved_at.is_(None)
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(identity_conflicts).where(cond)
        ).scalar_one()


def conflict_page(
    engine: Engine,
    *,
    resolved: bool = False,
    agency: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Conflicts newest first, keyset-paged on the id (`before`), with the worker's
    encrypted NIK and name for the caller to decrypt and mask: never shown whole."""
    t = identity_conflicts.c
    conds = [t.resolved_at.is_not(None) if resolved else t.resolved_at.is_(None)]
    if agency:
        conds.append(t.agency == agency)
    if before is not None:
        conds.append(t.id < before)
    columns = [
        t.id, t.worker_id, t.agency, t.holders, t.fields, t.claimed_name,
        t.claimed_birth_date, t.claimed_gender, t.first_run_id, t.last_run_id,
        t.detected_at, t.last_seen_at, t.resolved_at, t.resolved_run_id,
        workers.c.nik_enc, workers.c.name_enc, workers.c.birth_date, workers.c.gender,
    ]  # fmt: skip
    query = (
        select(*columns)
        .join(workers, workers.c.id == t.worker_id)
        .where(and_(*conds))
        .order_by(t.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
