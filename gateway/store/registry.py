"""The registry: run bookkeeping, reads and API keys over one engine (worker lookup:
`store/workers.py`).

Only the roster run writes enrollments (through `RosterApply`); everything here is bookkeeping
around it and the read side the API, CLI and dashboard use.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gateway.clock import aware
from gateway.domain.records import Problem, Severity
from gateway.security.crypto import KeyRing
from gateway.security.receipts import ReceiptSigner
from gateway.store import apikeys, audit
from gateway.store.allocations import declared_with_run
from gateway.store.apikeys import ApiKey
from gateway.store.apply import RosterApply, problem_row
from gateway.store.db import writing
from gateway.store.liveness import process_owner, sweep_runs
from gateway.store.problem_sets import holder_of, share_with_previous
from gateway.store.tables import (
    RUN_COUNTS,
    enrollments,
    problems,
    receipts,
    runs,
    source_state,
)
from gateway.store.workers import find_worker

# Sixteen digits standing alone: a NIK, kept only as its region and last four digits.
_NIK_LIKE = re.compile(r"(?<!\d)(\d{6})\d{6}(\d{4})(?!\d)")
# Rejected runs looked past when recognising a file sent again (find_applied_run): a clerk
# retrying between broken uploads, not a history to scan.
REPLAY_LOOKBACK = 50


class Registry:
    def __init__(
        self, engine: Engine, keyring: KeyRing, signer: ReceiptSigner | None = None
    ) -> None:
        self.engine = engine
        self.keyring = keyring
        self.signer = signer

    # -- trust: receipts and the audit log -------------------------------------------------
    def seal_run(self, conn: Connection, run_id: int) -> dict | None:
        """Inside the run's own transaction: sign its receipt and log it in the audit chain,
        so a run is applied, receipted and audited together or not at all."""
        run = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().one()
        actor = run["actor"] or run["trigger"]  # the key or user that acted (0010), else how
        receipt = None
        if self.signer is not None and run["status"] == "succeeded":
            # In UTC, said so: a receipt is proof, and Indonesia has three time zones.
            # A budget allocation declared with the roster (recorded by the intake in this
            # same transaction) is stated on the receipt too.
            receipt = self.signer.sign(dict(run, finished_at=aware(run["finished_at"])),
                                       declared_with_run(conn, run_id))
            conn.execute(insert(receipts).values(run_id=run_id, receipt=json.dumps(receipt)))
        details = {k: run[k] for k in ("source", "trigger", "status", *RUN_COUNTS)}
        details["input_sha256"] = run["input_sha256"]
        audit.append(conn, actor=actor, action="run_applied", subject=f"run:{run_id}",
                     details={"agency": run["agency"], **details})
        if run["ended"]:
            audit.append(conn, actor=actor, action="enrollments_ended",
                         subject=f"agency:{run['agency']}",
                         details={"run_id": run_id, "ended": run["ended"]})
        if self.signer is not None:
            # The chain's head and the runs' digest, signed with every run: a chain rewritten
            # or a run deleted afterwards no longer matches it (store/audit.py).
            audit.checkpoint(conn, self.signer)
        return receipt

    def receipt(self, run_id: int) -> dict | None:
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(receipts.c.receipt).where(receipts.c.run_id == run_id)
            ).scalar()
        return json.loads(stored) if stored else None

    def audit(self, action: str, subject: str, actor: str = "system", **details: Any) -> None:
        with writing(self.engine) as conn:
            audit.append(conn, actor=actor, action=action, subject=subject, details=details)

    # -- runs ----------------------------------------------------------------------------
    def start_run(
        self,
        *,
        agency: str,
        source: str,
        trigger: str,
        filename: str | None = None,
        input_sha256: str | None = None,
        external_id: str | None = None,
        mode: str = "snapshot",
        actor: str | None = None,
    ) -> int:
        """Record a run as `running` in its own transaction, so a crash leaves a trace.
        `actor`: who acted ("api:<key prefix>", "user:<name>"); the trigger when not given."""
        self.mark_interrupted()  # runs of processes killed since the last one started
        with writing(self.engine) as conn:
            return conn.execute(
                insert(runs)
                .values(
                    agency=agency,
                    source=source,
                    trigger=trigger,
                    actor=actor or trigger,
                    mode=mode,
                    filename=filename,
                    input_sha256=input_sha256,
                    external_id=external_id,
                    status="running",
                    started_at=datetime.now(UTC),
                    owner=process_owner(),  # a sweep fails it at once if this process dies
                )
                .returning(runs.c.id)
            ).scalar_one()

    @contextmanager
    def applying(self, run_id: int, agency: str, today: date) -> Iterator[RosterApply]:
        """One transaction for the whole apply; rolled back if anything raises."""
        with writing(self.engine) as conn:
            yield RosterApply(conn, self.keyring, run_id, agency, today)

    def fail_run(self, run_id: int, error: str) -> None:
        # An error text may come from anywhere (a plugin's exception, a service's answer) and
        # quote a NIK; it is stored in the clear and shown on the dashboard: masked first.
        error = _NIK_LIKE.sub(r"\1******\2", error)
        with writing(self.engine) as conn:
            audit.append(conn, actor=_run_actor(conn, run_id), action="run_failed",
                         subject=f"run:{run_id}",
                         details={"error": error[:200]})
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(status="failed", error=error[:4000], finished_at=datetime.now(UTC))
            )

    def record_file_problem(
        self,
        run_id: int,
        problem: Problem,
        notices: Sequence[Problem] = (),
        columns: dict[str, str] | None = None,
        unknown_columns: list[str] | None = None,
    ) -> None:
        """A file-level problem (no header, bad encoding) on a run that could not start, the
        warnings about the file found before it (`notices`) and its header when it was read
        (`columns`: a header alone)."""
        warnings = sum(1 for p in notices if p.severity is Severity.WARNING)
        with writing(self.engine) as conn:
            if columns is not None:
                self.set_columns(conn, run_id, columns, unknown_columns or [])
            audit.append(conn, actor=_run_actor(conn, run_id), action="run_rejected",
                         subject=f"run:{run_id}",
                         details={"code": problem.code})
            conn.execute(
                insert(problems), [problem_row(run_id, p) for p in (problem, *notices)]
            )
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    status="rejected",
                    finished_at=datetime.now(UTC),
                    error=problem.code,
                    warnings=warnings,
                )
            )

    def set_columns(self, conn: Connection, run_id: int, columns: dict, unknown: list) -> None:
        conn.execute(
            update(runs).where(runs.c.id == run_id).values(columns=columns, unknown_columns=unknown)
        )

    def find_applied_run(
        self, agency: str, input_sha256: str, conn: Connection | None = None
    ) -> dict | None:
        """The run that already answered this exact input, if nothing was applied since (read
        on `conn`, an apply's transaction, when given): the agency's latest succeeded run, or
        a rejected run after it, whose input had these bytes.

        Sending the same file twice (a retry, a double click) changes nothing, also when a
        broken file was rejected in between (a rejected run applies nothing); but sending last
        month's file after this month's is a deliberate statement and is applied again.
        """
        query = (
            select(runs)
            .where(and_(runs.c.agency == agency, runs.c.status.in_(("succeeded", "rejected"))))
            .order_by(runs.c.id.desc())
            .limit(REPLAY_LOOKBACK)
        )
        with self.engine.connect() if conn is None else contextlib.nullcontext(conn) as reading:
            for row in reading.execute(query).mappings():
                if row["input_sha256"] == input_sha256:
                    return dict(row)
                if row["status"] == "succeeded":
                    return None  # applied since: the same bytes again are a new statement
        return None

    def discard_run(self, run_id: int) -> None:
        """Remove a started run that applied nothing because it turned out to be a replay:
        the same file, sent twice at once, was applied by the first while this one waited
        for the agency's lock. The first run answers for both. Nothing refers to the run: its
        apply transaction, the only place its problems are written, was rolled back."""
        with writing(self.engine) as conn:
            conn.execute(delete(runs).where(runs.c.id == run_id))

    def mark_interrupted(
        self, older_than: timedelta = timedelta(hours=6), *, now: datetime | None = None
    ) -> int:
        """Runs left `running` by a process that is gone are failed ("interrupted"), so they
        show and can be retried: at once when their owner ran on this machine and is dead,
        else once older than `older_than`; a live run never (store/liveness.py)."""
        return sweep_runs(self.engine, older_than, now=now)

    def get_run(self, run_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        return dict(row) if row else None

    def list_runs(
        self, *, agency: str | None = None, limit: int = 50, before_id: int | None = None
    ) -> list[dict]:
        query = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if agency is not None:
            query = query.where(runs.c.agency == agency)
        if before_id is not None:
            query = query.where(runs.c.id < before_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def run_problems(self, run_id: int, limit: int | None = None) -> list[dict]:
        query = (
            select(
                problems.c.row,
                problems.c.field,
                problems.c.code,
                problems.c.severity,
                problems.c.message_id,
                problems.c.message_en,
            )
            .order_by(problems.c.row, problems.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            # An unchanged re-sync's problems are held by an earlier run (problem_sets.py).
            holder = holder_of(conn, run_id)
            return [dict(r) for r in conn.execute(query.where(problems.c.run_id == holder))
                    .mappings()]  # fmt: skip

    # -- workers -------------------------------------------------------------------------
    def find_worker(self, nik: str) -> dict | None:
        """A worker and their enrollments by NIK; the NIK comes back masked."""
        return find_worker(self.engine, self.keyring, nik)

    def count_active(self, agency: str | None = None) -> int:
        query = (
            select(func.count()).select_from(enrollments).where(enrollments.c.status == "active")
        )
        if agency is not None:
            query = query.where(enrollments.c.agency == agency)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    # -- plugin sources ------------------------------------------------------------------
    def get_cursor(self, source: str) -> str | None:
        """The source's saved cursor (None before its first successful sync)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(source_state.c.cursor).where(source_state.c.source == source)
            ).scalar()

    def cursor_state(self, conn: Connection, source: str) -> tuple[str | None, int | None]:
        """(cursor, id of the run that saved it) as `conn` sees them (an apply's transaction)."""
        row = conn.execute(
            select(source_state.c.cursor, source_state.c.run_id).where(
                source_state.c.source == source
            )
        ).first()
        return (row[0], row[1]) if row else (None, None)

    def set_input_sha256(self, run_id: int, digest: str) -> None:
        """A feed's input digest, known once its fetch is complete (the canonical rows of a
        SOAP feed, a downloaded file's bytes): before the apply, so the receipt states it."""
        with writing(self.engine) as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(input_sha256=digest))

    def share_problems(
        self, conn: Connection | None, run_id: int, source: str, agency: str
    ) -> None:
        """Keep a run's problems once if they are its source's previous run's
        (store/problem_sets.py): in the run's transaction `conn`, or (None) in one of its own
        once the run is recorded (a rejected run)."""
        if conn is not None:
            share_with_previous(conn, run_id, source, agency)
            return
        with writing(self.engine) as own:
            share_with_previous(own, run_id, source, agency)

    def set_run_cursor_before(self, run_id: int, cursor: str | None) -> None:
        with writing(self.engine) as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(cursor_before=cursor))

    def save_cursor(self, conn: Connection, source: str, cursor: str | None, run_id: int) -> None:
        """Move the source's cursor inside the run's own transaction (`conn`): it moves if and
        only if the run's changes are committed."""
        now = datetime.now(UTC)
        conn.execute(update(runs).where(runs.c.id == run_id).values(cursor_after=cursor))
        moved = conn.execute(
            update(source_state)
            .where(source_state.c.source == source)
            .values(cursor=cursor, run_id=run_id, updated_at=now)
        ).rowcount
        if not moved:
            conn.execute(
                insert(source_state).values(
                    source=source, cursor=cursor, run_id=run_id, updated_at=now
                )
            )

    def mark_checked(self, source: str) -> None:
        """A sync of `source` found nothing new: it was reachable and in order just now."""
        now = datetime.now(UTC)
        with writing(self.engine) as conn:
            checked = conn.execute(
                update(source_state).where(source_state.c.source == source)
                .values(checked_at=now)
            ).rowcount  # fmt: skip
            if not checked:
                # A concurrent sync of the same source may insert the row first (three
                # `jamsos sync apbd-sipd` at once on PostgreSQL): then it is there to update.
                try:
                    with conn.begin_nested():
                        conn.execute(insert(source_state).values(source=source, updated_at=now,
                                                                 checked_at=now))  # fmt: skip
                except IntegrityError:
                    conn.execute(update(source_state).where(source_state.c.source == source)
                                 .values(checked_at=now))  # fmt: skip

    def last_runs_by_source(self) -> dict[str, dict]:
        """Each source's latest run (uploads are the source "upload")."""
        latest = select(func.max(runs.c.id)).group_by(runs.c.source).scalar_subquery()
        with self.engine.connect() as conn:
            rows = conn.execute(select(runs).where(runs.c.id.in_(latest))).mappings()
            return {r["source"]: dict(r) for r in rows}

    # -- API keys (gateway/store/apikeys.py) ---------------------------------------------
    def create_api_key(self, agency: str, label: str | None = None,
                       expires_at: datetime | None = None) -> str:
        """Create a key scoped to `agency`; the token is returned once and stored hashed."""
        return apikeys.create(self.engine, agency, label, expires_at=expires_at)

    def authenticate(self, token: str) -> ApiKey | None:
        """The live key a token belongs to, or None."""
        return apikeys.authenticate(self.engine, token)


def _run_actor(conn: Connection, run_id: int) -> str:
    """Who started the run, for the audit entries about its end: the key or user, not
    "system" (a failure or a refused file is still that actor's run)."""
    row = conn.execute(select(runs.c.actor, runs.c.trigger).where(runs.c.id == run_id)).first()
    return (row[0] or row[1]) if row else "system"
