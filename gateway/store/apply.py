"""Applying a validated roster to the registry: one transaction, snapshot semantics.

The roster arrives as batches of RowResults (or of rows already sealed by a worker process,
see `sealed.py`). Each batch is written as it comes (memory stays flat); the whole apply is still
one transaction, so it lands completely or not at all. After the last batch, enrollments of the
agency that the roster did not name are ended, never deleted, and every change is written to
`enrollment_history`. The row-by-row writes go through `bulk.py` (DB-API, COPY on PostgreSQL).

Rows are counted once, by the run's report (`roster.run.RosterReport`): `finish` writes those
counts on the run, so the report and the signed receipt say the same. What the apply itself
counts is what it changed (`ApplyChanges`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy import Connection, and_, select, update

from gateway.domain.records import EnrollmentRecord, Problem
from gateway.security.crypto import KeyRing
from gateway.store.bulk import (
    HISTORY_COLUMNS,
    NEW_ENROLLMENT_COLUMNS,
    PROBLEM_COLUMNS,
    TRACKED,
    writer_for,
)
from gateway.store.identity import IdentityGuard, Verdicts, conflict_problem
from gateway.store.sealed import Sealed, seal
from gateway.store.tables import RUN_CHANGES, RUN_COUNTS, enrollments, runs, workers
from gateway.store.worker_reads import WorkerDatabase

__all__ = [
    "TRACKED",
    "ApplyChanges",
    "RosterApply",
    "changes_of",
    "problem_row",
]


@dataclass
class ApplyChanges:
    """What an apply changed in the registry (its rows are counted by the run's report)."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    ended: int = 0
    kept: int = 0  # rejected rows of already-enrolled workers: left as they were, not ended

    def as_dict(self) -> dict[str, int]:
        """As a run records them and its report gives them: new / changed / unchanged / ended."""
        return {name: getattr(self, name) for name in RUN_CHANGES}


def changes_of(run: Mapping[str, object]) -> dict[str, int]:
    """The changes a recorded run made, as its report gives them."""
    return {name: run[name] for name in RUN_CHANGES}  # type: ignore[misc]


def problem_row(run_id: int, p: Problem) -> dict:
    return {
        "run_id": run_id,
        "row": p.row,
        "field": p.field,
        "code": p.code,
        "severity": p.severity.value,
        "message_id": p.message_id,
        "message_en": p.message_en,
    }


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


class RowOutcome(Protocol):
    """A validated row: a RowResult, or the roster run's PreparedRow (record already sealed)."""

    row: int
    record: EnrollmentRecord | Sealed | None
    problems: list[Problem]


class RosterApply:
    """Writes one run's batches inside the caller's transaction (`conn`)."""

    def __init__(
        self, conn: Connection, keyring: KeyRing, run_id: int, agency: str, today: date
    ) -> None:
        self.conn = conn
        self.keyring = keyring
        self.run_id = run_id
        self.agency = agency
        self.today = today
        self.now = datetime.now(UTC)
        self.changes = ApplyChanges()
        # The driver's own connection: same transaction, none of Core's per-row overhead.
        self.writer = writer_for(conn.connection.driver_connection, conn.dialect.name)
        self.writer.lock_agency(agency)
        self._now = self.writer.timestamp(self.now)
        self.identity = IdentityGuard(conn, self.writer, keyring, agency, run_id, self.now)

    # -- one batch ---------------------------------------------------------------------
    def add_batch(
        self,
        results: Sequence[RowOutcome],
        kept_indexes: Iterable[str] = (),
        known: Sequence[int] = (),
        found: dict[str, tuple] | None = None,
    ) -> None:
        """Write one batch. `kept_indexes`: blind indexes of rejected rows whose NIK itself is
        valid (their workers are kept, not ended). `known`: enrollments named again by rows
        exactly as the registry holds them (prepare.py): accepted, unchanged, only marked.
        `found`: the accepted rows' workers already in the registry, as `BulkWriter.lookup`
        gives them, when a worker process looked them up (else they are looked up here)."""
        good: list[Sealed] = []
        sources: list[RowOutcome] = []  # the row each of `good` came from
        run_id, keyring = self.run_id, self.keyring
        for res in results:
            record = res.record
            if record is not None:
                good.append(record if isinstance(record, Sealed) else seal(keyring, record))
                sources.append(res)
        if good:
            conflicts = self._apply_records(good, found, [res.row for res in sources])
            # Known only now, against the registry: the row's warning goes into the run's
            # problems and, being on the row, into the report's count and list (run.py).
            for res, s in zip(sources, good, strict=True):
                fields = conflicts.get(s.nik_index)
                if fields:
                    res.problems = [*res.problems, conflict_problem(res.row, fields)]
        problem_rows = [_problem_tuple(run_id, p) for res in results for p in res.problems]
        if problem_rows:
            self.writer.insert("problems", PROBLEM_COLUMNS, problem_rows)
        if known:
            self.writer.remember_known(known)
            self.changes.unchanged += len(known)
        kept = list(kept_indexes)
        if kept:
            self._mark_kept(kept)

    def known_digests(self, digests: list[str]) -> dict[str, int]:
        """{row digest: enrollment id} of the agency's active enrollments last sent as one of
        these clean rows (see prepare.py), in this transaction."""
        return self.writer.known_digests(self.agency, digests)

    def worker_database(self) -> WorkerDatabase | None:
        """Where worker processes preparing this run's rows read the registry (what was
        committed before it), or None when they cannot (an in-memory SQLite)."""
        return WorkerDatabase.of(self.conn.engine.url, self.agency)

    def add_notices(self, notices: Sequence[Problem]) -> None:
        """File-level warnings: stored with the run's problems."""
        if notices:
            self.writer.insert(
                "problems", PROBLEM_COLUMNS, [_problem_tuple(self.run_id, p) for p in notices]
            )

    def _apply_records(
        self, records: list[Sealed], found: dict[str, tuple] | None, rows: list[int]
    ) -> dict[str, list[str]]:
        """Write accepted rows (`rows`: their spreadsheet rows, kept on the history for the
        clerk, docs/verification.md); {nik_index: differing fields} of the rows whose identity
        conflicts with another agency's (store/identity.py): applied, identity unchanged."""
        row_of = dict(zip((s.nik_index for s in records), rows, strict=True))
        writer, c, run, now = self.writer, self.changes, self.run_id, self._now
        # (nik_index, worker_id, enrollment id, status, record_hash, *facts) per known worker
        if found is None:
            found = {r[0]: r for r in writer.lookup(self.agency, [s.nik_index for s in records])}
        fresh = [s[:6] for s in records if s.nik_index not in found]
        worker_ids = {ix: r[1] for ix, r in found.items()}
        if fresh:
            worker_ids.update(writer.insert_workers(fresh, now))

        inserts: list[Sealed] = []
        touched: list[int] = []
        redigested: list[tuple[str, int, int]] = []  # (row digest, enrollment, worker)
        updates: list[tuple[tuple, Sealed]] = []
        # Rows naming a worker the registry already holds may claim another identity.
        claims: list[tuple[int, Sealed]] = []  # new to this agency, or changed
        unchanged: list[int] = []  # worker ids of rows as this agency last sent them
        for s in records:
            old = found.get(s.nik_index)
            if old is None or old[2] is None:
                inserts.append(s)
                if old is not None:
                    claims.append((old[1], s))
            elif old[3] == "active" and old[4] == s.record_hash:
                touched.append(old[2])
                unchanged.append(old[1])
                if s.row_digest is not None:  # same facts, written differently: remember it
                    redigested.append((s.row_digest, old[2], old[1]))
            else:
                updates.append((old, s))
                claims.append((old[1], s))

        # The shared record takes an identity only from an agency that alone enrolls the
        # worker; otherwise a different one is a conflict (store/identity.py).
        verdicts = self.identity.screen(claims, unchanged)
        conflicted = verdicts.conflicts
        if conflicted:
            # A row in conflict keeps no row digest: the unchanged-row shortcut (prepare.py)
            # would skip its warning next time. It is warned about each time it is sent.
            inserts = [_undigested(s) if worker_ids[s.nik_index] in conflicted else s
                       for s in inserts]  # fmt: skip
            redigested = [r for r in redigested if r[2] not in conflicted]
        renamed = [(s.name_enc, s.birth_date, s.gender, now, wid) for wid, s in claims
                   if wid in verdicts.rename and found[s.nik_index][2] is None]  # fmt: skip
        if renamed:  # a worker no enrollment shows (none left to show it): this one's
            writer.rename_workers(renamed)

        if inserts:
            ids = writer.new_ids("enrollments", len(inserts))
            writer.insert_with(
                "enrollments",
                NEW_ENROLLMENT_COLUMNS,
                [
                    (eid, worker_ids[s.nik_index], s.category, s.position, s.work_unit, s.wage,
                     s.start_date, s.record_hash, s.row_digest)
                    for eid, s in zip(ids, inserts, strict=True)
                ],
                {"agency": self.agency, "end_date": None, "status": "active",
                 "first_run_id": run, "last_run_id": run, "seen_run_id": run,
                 "created_at": now, "updated_at": now},
            )  # fmt: skip
            writer.insert_with(
                "enrollment_history",
                ("enrollment_id", "after", "row"),
                [(eid, s.snapshot, row_of[s.nik_index])
                 for eid, s in zip(ids, inserts, strict=True)],
                {"run_id": run, "change": "new", "before": None, "at": now},
            )
            c.new += len(inserts)
        if touched:
            writer.touch(run, touched)
            c.unchanged += len(touched)
        if redigested:
            writer.set_row_digests([(digest, eid) for digest, eid, _ in redigested])
        if updates:
            self._apply_updates(updates, verdicts, row_of)
        return {ix: conflicted[wid] for ix, wid in worker_ids.items() if wid in conflicted}

    def _apply_updates(self, updates: list[tuple[tuple, Sealed]], verdicts: Verdicts,
                       row_of: dict[str, int]) -> None:  # fmt: skip
        run, now = self.run_id, self._now
        history: list[tuple] = []
        params: list[tuple] = []
        renamed: list[tuple] = []
        for old, s in updates:
            _, worker_id, eid, status = old[:4]
            before = {k: _iso(v) for k, v in
                      zip(TRACKED, (*old[5:10], old[10], status), strict=True)}  # fmt: skip
            change = "reactivated" if status != "active" else "changed"
            conflict = worker_id in verdicts.conflicts
            params.append(
                (s.category, s.position, s.work_unit, s.wage, s.start_date, None, "active",
                 s.record_hash, None if conflict else s.row_digest, run, run, now, eid)
            )  # fmt: skip
            after = s.snapshot
            if change == "changed" and json.loads(after) == before:
                # The digest moved but no enrolled fact did: the name (or the birth date or
                # gender) was corrected, or, for a worker another agency enrolls, claimed
                # otherwise. The history never holds a name, but says so.
                after = after[:-1] + f', "identity": "{"conflict" if conflict else "changed"}"}}'
            history.append((eid, run, change, json.dumps(before), after, now,
                            row_of[s.nik_index]))  # fmt: skip
            # Name, birth date and gender are part of the digest but live on the worker,
            # shared by every agency enrolling them: the new values reach the record only
            # when this agency alone enrolls the worker (store/identity.py).
            if worker_id in verdicts.rename:
                renamed.append((s.name_enc, s.birth_date, s.gender, now, worker_id))
        self.writer.update_enrollments(params)
        if renamed:
            self.writer.rename_workers(renamed)
        self.writer.insert("enrollment_history", (*HISTORY_COLUMNS, "row"), history)
        self.changes.changed += len(updates)

    def _mark_kept(self, indexes: list[str]) -> None:
        """A rejected row still names its worker: keep (do not end) their enrollment."""
        result = self.conn.execute(
            update(enrollments)
            .where(
                and_(
                    enrollments.c.agency == self.agency,
                    enrollments.c.status == "active",
                    enrollments.c.worker_id.in_(
                        select(workers.c.id).where(workers.c.nik_index.in_(indexes))
                    ),
                )
            )
            .values(seen_run_id=self.run_id)
        )
        self.changes.kept += result.rowcount or 0

    # -- the end of the snapshot -----------------------------------------------------------
    def end_absent(self) -> None:
        """End the agency's active enrollments this roster did not name (history first)."""
        self.changes.ended += self.writer.end_absent(
            self.agency, self.run_id, self.today.isoformat(), self._now
        )

    def finish(self, status: str, counted: Mapping[str, int]) -> None:
        """Record the run's outcome: `counted` is the report's rows / accepted / rejected /
        warnings (the one count of them), beside what this apply changed."""
        counts = {**counted, **self.changes.as_dict()}
        self.conn.execute(
            update(runs)
            .where(runs.c.id == self.run_id)
            .values(
                status=status,
                finished_at=datetime.now(UTC),
                **{name: counts[name] for name in RUN_COUNTS},
            )
        )


def _undigested(s: Sealed) -> Sealed:
    return s._replace(row_digest=None) if s.row_digest is not None else s


def _problem_tuple(run_id: int, p: Problem) -> tuple:
    return (run_id, p.row, p.field, p.code, p.severity.value, p.message_id, p.message_en)
