"""Applying a validated roster to the registry: one transaction, snapshot semantics.

The roster arrives as batches of RowResults. Each batch is written as it comes (memory stays
flat); the whole apply is still one transaction, so it lands completely or not at all. After the
last batch, enrollments of the agency that the roster did not name are ended, never deleted,
and every change is written to `enrollment_history`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from gateway.domain.records import EnrollmentRecord, Problem, RowResult, Severity
from gateway.security.crypto import KeyRing
from gateway.store.tables import enrollment_history, enrollments, problems, runs, workers

# The enrollment facts a roster states; history records them before and after each change.
# No NIK and no name: history is read by people who should not see PII.
TRACKED = ("category", "position", "work_unit", "wage", "start_date", "end_date", "status")


@dataclass
class ApplyCounts:
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    warnings: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    ended: int = 0
    kept: int = 0  # rejected rows of already-enrolled workers: left as they were, not ended
    extra: dict[str, int] = field(default_factory=dict)


def record_hash(rec: EnrollmentRecord) -> str:
    """A digest of everything a roster says about one enrollment (name included)."""
    parts = (
        rec.name,
        rec.category.value,
        rec.position or "",
        rec.work_unit or "",
        str(rec.wage),
        rec.start_date.isoformat(),
        rec.birth_date.isoformat(),
        rec.gender.value,
    )
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


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


def _snapshot(row: dict) -> dict:
    out = {}
    for key in TRACKED:
        value = row.get(key)
        out[key] = value.isoformat() if isinstance(value, date) else value
    return out


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
        self.counts = ApplyCounts()

    # -- one batch ---------------------------------------------------------------------
    def add_batch(self, results: Sequence[RowResult], kept_niks: Iterable[str] = ()) -> None:
        """Write one batch. `kept_niks`: NIKs of rejected rows whose NIK itself is valid."""
        c = self.counts
        good: list[EnrollmentRecord] = []
        problem_rows: list[dict] = []
        for res in results:
            c.rows += 1
            if res.record is not None:
                c.accepted += 1
                good.append(res.record)
            else:
                c.rejected += 1
            for p in res.problems:
                if p.severity is Severity.WARNING:
                    c.warnings += 1
                problem_rows.append(problem_row(self.run_id, p))
        if problem_rows:
            self.conn.execute(insert(problems), problem_rows)
        if good:
            self._apply_records(good)
        kept = [self.keyring.blind_index(n) for n in kept_niks]
        if kept:
            self._mark_kept(kept)

    def add_notices(self, notices: Sequence[Problem]) -> None:
        """File-level warnings: stored with the run's problems, counted as warnings."""
        for p in notices:
            if p.severity is Severity.WARNING:
                self.counts.warnings += 1
        if notices:
            self.conn.execute(insert(problems), [problem_row(self.run_id, p) for p in notices])

    def _apply_records(self, records: list[EnrollmentRecord]) -> None:
        conn, ring, c = self.conn, self.keyring, self.counts
        indexes = [ring.blind_index(r.nik) for r in records]
        worker_ids: dict[str, int] = dict(
            conn.execute(
                select(workers.c.nik_index, workers.c.id).where(workers.c.nik_index.in_(indexes))
            ).all()
        )
        fresh = [(ix, r) for ix, r in zip(indexes, records, strict=True) if ix not in worker_ids]
        if fresh:
            created = conn.execute(
                insert(workers).returning(
                    workers.c.nik_index, workers.c.id, sort_by_parameter_order=True
                ),
                [
                    {
                        "nik_index": ix,
                        "nik_enc": ring.encrypt(r.nik, "workers.nik"),
                        "name_enc": ring.encrypt(r.name, "workers.name"),
                        "birth_date": r.birth_date,
                        "gender": r.gender.value,
                        "nik_region": f"{r.nik[:2]}.{r.nik[2:4]}",
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                    for ix, r in fresh
                ],
            ).all()
            worker_ids.update(dict(created))

        ids = [worker_ids[ix] for ix in indexes]
        existing = {
            row.worker_id: row._asdict()
            for row in conn.execute(
                select(enrollments).where(
                    and_(enrollments.c.agency == self.agency, enrollments.c.worker_id.in_(ids))
                )
            )
        }
        inserts: list[dict] = []
        touched: list[int] = []
        updates: list[tuple[dict, dict, EnrollmentRecord]] = []
        for wid, rec in zip(ids, records, strict=True):
            digest = record_hash(rec)
            old = existing.get(wid)
            if old is None:
                inserts.append(self._enrollment_values(wid, rec, digest))
            elif old["status"] == "active" and old["record_hash"] == digest:
                touched.append(old["id"])
            else:
                updates.append((old, self._enrollment_values(wid, rec, digest), rec))

        if inserts:
            created = conn.execute(
                insert(enrollments).returning(enrollments.c.id, sort_by_parameter_order=True),
                inserts,
            ).scalars()
            conn.execute(
                insert(enrollment_history),
                [
                    {
                        "enrollment_id": eid,
                        "run_id": self.run_id,
                        "change": "new",
                        "before": None,
                        "after": _snapshot(vals),
                        "at": self.now,
                    }
                    for eid, vals in zip(created, inserts, strict=True)
                ],
            )
            c.new += len(inserts)
        if touched:
            conn.execute(
                update(enrollments)
                .where(enrollments.c.id == bindparam("eid"))
                .values(seen_run_id=self.run_id),
                [{"eid": eid} for eid in touched],
            )
            c.unchanged += len(touched)
        if updates:
            self._apply_updates(updates)

    def _enrollment_values(self, worker_id: int, rec: EnrollmentRecord, digest: str) -> dict:
        return {
            "worker_id": worker_id,
            "agency": self.agency,
            "category": rec.category.value,
            "position": rec.position,
            "work_unit": rec.work_unit,
            "wage": rec.wage,
            "start_date": rec.start_date,
            "end_date": None,
            "status": "active",
            "record_hash": digest,
            "first_run_id": self.run_id,
            "last_run_id": self.run_id,
            "seen_run_id": self.run_id,
            "created_at": self.now,
            "updated_at": self.now,
        }

    def _apply_updates(self, updates: list[tuple[dict, dict, EnrollmentRecord]]) -> None:
        conn, ring = self.conn, self.keyring
        history: list[dict] = []
        params: list[dict] = []
        renamed: list[dict] = []
        for old, new, rec in updates:
            change = "reactivated" if old["status"] != "active" else "changed"
            params.append(
                {
                    "eid": old["id"],
                    **{f"p_{k}": new[k] for k in TRACKED},
                    "p_record_hash": new["record_hash"],
                }
            )
            history.append(
                {
                    "enrollment_id": old["id"],
                    "run_id": self.run_id,
                    "change": change,
                    "before": _snapshot(old),
                    "after": _snapshot(new),
                    "at": self.now,
                }
            )
            # The name is part of the digest but lives on the worker: re-encrypt it so a
            # corrected spelling reaches the registry (a no-op when only the wage changed).
            renamed.append(
                {"wid": old["worker_id"], "p_name_enc": ring.encrypt(rec.name, "workers.name")}
            )
        conn.execute(
            update(enrollments)
            .where(enrollments.c.id == bindparam("eid"))
            .values(
                {
                    # Bind names may not equal column names in an executemany UPDATE.
                    **{k: bindparam(f"p_{k}") for k in TRACKED},
                    "record_hash": bindparam("p_record_hash"),
                    "last_run_id": self.run_id,
                    "seen_run_id": self.run_id,
                    "updated_at": self.now,
                }
            ),
            params,
        )
        conn.execute(
            update(workers)
            .where(workers.c.id == bindparam("wid"))
            .values(name_enc=bindparam("p_name_enc"), updated_at=self.now),
            renamed,
        )
        conn.execute(insert(enrollment_history), history)
        self.counts.changed += len(updates)

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
        self.counts.kept += result.rowcount or 0

    # -- the end of the snapshot -----------------------------------------------------------
    def end_absent(self) -> None:
        """End the agency's active enrollments this roster did not name (history first)."""
        conn = self.conn
        absent = and_(
            enrollments.c.agency == self.agency,
            enrollments.c.status == "active",
            enrollments.c.seen_run_id != self.run_id,
        )
        # Streamed in chunks: a national roster can end many thousands at once.
        result = conn.execute(select(enrollments).where(absent)).mappings()
        while chunk := result.fetchmany(5000):
            history = []
            for old in chunk:
                after = dict(old, status="ended", end_date=self.today)
                history.append(
                    {
                        "enrollment_id": old["id"],
                        "run_id": self.run_id,
                        "change": "ended",
                        "before": _snapshot(old),
                        "after": _snapshot(after),
                        "at": self.now,
                    }
                )
            conn.execute(insert(enrollment_history), history)
            self.counts.ended += len(history)
        conn.execute(
            update(enrollments)
            .where(absent)
            .values(
                status="ended",
                end_date=self.today,
                last_run_id=self.run_id,
                updated_at=self.now,
            )
        )

    def finish(self, status: str) -> None:
        c = self.counts
        self.conn.execute(
            update(runs)
            .where(runs.c.id == self.run_id)
            .values(
                status=status,
                finished_at=datetime.now(UTC),
                rows=c.rows,
                accepted=c.accepted,
                rejected=c.rejected,
                warnings=c.warnings,
                new=c.new,
                changed=c.changed,
                unchanged=c.unchanged,
                ended=c.ended,
            )
        )
