"""One way through: roster file -> raw rows -> validation -> registry -> report.

`check_roster` runs the first half (nothing is written); `submit_roster` runs all of it inside
one registry transaction and records the run, whatever happens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlalchemy import Connection

from gateway.domain.agencies import Agency
from gateway.domain.records import Category, Problem, RawRow, RowResult, Severity
from gateway.domain.validation import duplicate_problem, validate_row
from gateway.roster.dedupe import DuplicateTracker
from gateway.roster.parallel import PARALLEL_MIN_BYTES, ChunkedRead, Database, prepared_batches
from gateway.roster.prepare import PreparedRow, batched, nik_key
from gateway.roster.read.chunks import plan_chunks
from gateway.roster.read.reader import RosterFileError, RosterReader, open_roster
from gateway.store.registry import Registry
from gateway.store.tables import RUN_CHANGES

# A report keeps at most this many problems in memory; the registry keeps all of them.
REPORT_PROBLEM_LIMIT = 10_000

Progress = Callable[[int, float | None], None]  # rows done, fraction of the input read
# Adds problems to a row's result (and clears its record on an error): agency-specific rules.
RowCheck = Callable[[RawRow, RowResult], None]


@dataclass
class RosterReport:
    """What happened to a roster: the machine report of the CLI and the API."""

    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    warnings: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    problems_total: int = 0
    run_id: int | None = None
    status: str = "checked"  # checked | succeeded | rejected | failed
    replayed: bool = False  # the same input was applied before: this is that run's report
    changes: dict[str, int] | None = None  # new / changed / unchanged / ended, when applied
    error: str | None = None
    receipt: dict[str, Any] | None = None  # signed, when the run applied

    def add(self, results: Sequence[RowResult | PreparedRow]) -> None:
        for res in results:
            self.rows += 1
            if res.record is None:
                self.rejected += 1
            else:
                self.accepted += 1
            for p in res.problems:
                self.problems_total += 1
                if p.severity is Severity.WARNING:
                    self.warnings += 1
                if len(self.problems) < REPORT_PROBLEM_LIMIT:
                    self.problems.append(p.as_dict())

    def add_unchanged(self, count: int) -> None:
        """Rows known unchanged without being validated (clean the last time: no problems)."""
        self.rows += count
        self.accepted += count

    def add_notices(self, notices: list[Problem]) -> None:
        """File-level warnings (unknown columns, skipped totals rows): not rows themselves.
        Given at the end of a file, they are put in row order among the rows' problems, as
        the run's stored problems are listed (an unknown column is on row 1)."""
        for p in notices:
            self.problems_total += 1
            if p.severity is Severity.WARNING:
                self.warnings += 1
            if len(self.problems) < REPORT_PROBLEM_LIMIT:
                self.problems.append(p.as_dict())
        if notices:
            self.problems.sort(key=_row_of)

    def reject_file(self, problem: Problem) -> None:
        # First, as the run's stored problems list it (by row; a file problem is on row 1).
        self.problems.insert(0, problem.as_dict())
        self.problems_total += 1
        self.status = "rejected"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "warnings": self.warnings,
            "columns": self.columns,
            "unknown_columns": self.unknown_columns,
            "problems": self.problems,
        }
        if self.problems_total > len(self.problems):
            out["problems_total"] = self.problems_total
            out["problems_truncated"] = True
        if self.run_id is not None:
            out.update(run_id=self.run_id, status=self.status, replayed=self.replayed)
            if self.changes is not None:
                out["changes"] = self.changes
            if self.error:
                out["error"] = self.error
            if self.receipt is not None:
                out["receipt"] = self.receipt
        return out


def _row_of(problem: dict[str, Any]) -> int:
    return problem["row"]


class _Replay(Exception):
    """Found under the agency's lock: the same file was applied while this run waited."""

    def __init__(self, earlier: dict) -> None:
        self.earlier = earlier
        super().__init__(f"replay of run {earlier['id']}")


class RunFailed(Exception):
    """The run could not be applied; it is recorded as failed and is safe to retry."""

    def __init__(self, report: RosterReport) -> None:
        self.report = report
        super().__init__(f"run {report.run_id} failed: {report.error}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def validated_batches(
    rows: Iterator[RawRow],
    *,
    today: date,
    default_category: Category | None,
    batch_size: int,
    check_row: RowCheck | None = None,
) -> Iterator[tuple[list[RowResult], list[str]]]:
    """Validate rows in batches; yields (results, NIKs of rejected-but-identifiable rows)."""
    with DuplicateTracker() as seen:
        for batch in batched(rows, batch_size):
            results = [
                validate_row(r, today=today, default_category=default_category) for r in batch
            ]
            keyed = [(r.row, nik) for r in batch if (nik := nik_key(r)) is not None]
            niks = dict(keyed)
            if check_row is not None:
                for raw, res in zip(batch, results, strict=True):
                    check_row(raw, res)
            repeats = seen.check_batch(keyed)
            kept: list[str] = []
            for res in results:
                if res.row in repeats:
                    res.problems.append(duplicate_problem(res.row, repeats[res.row]))
                    res.record = None
                elif res.record is None and res.row in niks:
                    kept.append(niks[res.row])
            yield results, kept


def check_roster(
    source: Path | BinaryIO,
    *,
    agency: Agency,
    today: date,
    batch_size: int = 2000,
    progress: Progress | None = None,
    filename: str | None = None,
    check_row: RowCheck | None = None,
) -> RosterReport:
    """Validate a roster without writing anything (`check_row`: as for `apply_rows`)."""
    report = RosterReport()
    try:
        with open_roster(source, filename=filename) as reader:
            report.columns = dict(reader.columns)
            report.unknown_columns = list(reader.unknown_columns)
            for results, _ in validated_batches(
                iter(reader),
                today=today,
                default_category=agency.default_category,
                batch_size=batch_size,
                check_row=check_row,
            ):
                report.add(results)
                if progress:
                    progress(report.rows, reader.progress)
            report.add_notices(reader.notices())
            if not report.rows:  # a header alone: say so, rather than "no problems"
                raise RosterFileError.from_catalog("no_data_rows")
    except RosterFileError as exc:
        report.reject_file(exc.as_problem())
    return report


def submit_roster(
    registry: Registry,
    path: Path,
    *,
    agency: Agency,
    today: date,
    trigger: str,
    source: str = "upload",
    filename: str | None = None,
    batch_size: int = 2000,
    progress: Progress | None = None,
    external_id: str | None = None,
    on_success: Callable[[Connection, int], None] | None = None,
    check_row: RowCheck | None = None,
) -> RosterReport:
    """Apply a roster as a snapshot of `agency`'s workers; idempotent on the file's bytes.

    `on_success(conn, run_id)` runs inside the run's transaction when the run succeeds,
    before its receipt is signed (the intake records a declared allocation there, with the
    run's id: it is committed if and only if the run is, and the receipt states it).
    `check_row`: the agency's own rules (`apply_rows`).
    Raises RunFailed (after recording the failed run) when the apply could not complete.
    """
    digest = sha256_of(path)
    earlier = registry.find_applied_run(agency.code, digest)
    if earlier is not None:
        return stored_report(registry, earlier, replayed=True)
    run_id = registry.start_run(
        agency=agency.code,
        source=source,
        trigger=trigger,
        filename=filename or path.name,
        input_sha256=digest,
        external_id=external_id,
    )
    return apply_rows(
        registry,
        run_id,
        lambda: open_roster(path, filename=filename or path.name),
        agency=agency,
        today=today,
        batch_size=batch_size,
        progress=progress,
        # Checked again under the agency's lock: a copy sent while this one was applied.
        replay_of=lambda conn: registry.find_applied_run(agency.code, digest, conn),
        on_success=None if on_success is None else lambda conn: on_success(conn, run_id),
        check_row=check_row,
    )


class RowSource(Protocol):
    """What the pipeline reads: a RosterReader, or a plugin source's equivalent."""

    columns: dict[str, str]
    unknown_columns: list[str]

    def __iter__(self) -> Iterator[RawRow]: ...

    @property
    def progress(self) -> float | None: ...

    def notices(self) -> list[Problem]: ...

    def __enter__(self) -> RowSource: ...

    def __exit__(self, *exc: object) -> None: ...


def apply_rows(
    registry: Registry,
    run_id: int,
    open_rows: Callable[[], RowSource],
    *,
    agency: Agency,
    today: date,
    mode: str = "snapshot",
    batch_size: int = 2000,
    progress: Progress | None = None,
    check_row: RowCheck | None = None,
    on_success: Callable[[Connection], None] | None = None,
    replay_of: Callable[[Connection], dict | None] | None = None,
) -> RosterReport:
    """Validate and apply the rows of a started run in one transaction; record the outcome.

    `mode` "snapshot" ends the agency's workers the rows do not name; "incremental" (a feed
    that sends only what changed since its cursor) ends nobody. `check_row` adds
    agency-specific problems to a row's result (the plugins' `validate_record` hook).
    `on_success(conn)` runs inside the apply's transaction when the run succeeds (a sync
    moves its cursor there: it moves if and only if the changes are committed).
    `replay_of(conn)`: asked once the agency's lock is held, before anything is written; it
    returns the run this one turns out to repeat, if any (the same file sent twice at once, a
    double click; a second sync of a source started while the first ran). Such a run is
    discarded and answered with the earlier one's report, as a replay.
    Raises RunFailed (after recording the failed run) when the apply could not complete.
    """

    def work(report: RosterReport) -> None:
        with open_rows() as reader, registry.applying(run_id, agency.code, today) as apply:
            earlier = replay_of(apply.conn) if replay_of is not None else None
            if earlier is not None:
                raise _Replay(earlier)
            report.columns = dict(reader.columns)
            report.unknown_columns = list(reader.unknown_columns)
            registry.set_columns(apply.conn, run_id, report.columns, report.unknown_columns)
            # Validation and encryption run in worker processes on a large input, which read
            # a large CSV file themselves (prepare_pool.py, feeds/csv_chunks.py).
            size = getattr(reader, "total_bytes", None) or 0
            parallel = size >= PARALLEL_MIN_BYTES and check_row is None
            chunks = plan_chunks(reader) if parallel and isinstance(reader, RosterReader) else None
            chunked = ChunkedRead(chunks, size, reader.skipped_totals) if chunks else None
            for batch in prepared_batches(
                iter(reader),
                registry.keyring,
                today=today,
                default_category=agency.default_category,
                batch_size=batch_size,
                check_row=check_row,
                parallel=parallel,
                probe=apply.known_digests,
                chunked=chunked,
                database=Database.of(registry.engine.url, agency.code) if parallel else None,
            ):
                apply.add_batch(batch.rows, batch.kept, batch.known_ids, batch.found)
                report.add(batch.rows)
                report.add_unchanged(len(batch.known_ids))
                if progress:
                    progress(report.rows, chunked.progress if chunked else reader.progress)
            notices = reader.notices()
            if mode == "snapshot" and not apply.counts.rows:
                # A header alone (or a source that sent nothing) is not a statement that the
                # agency has no workers: rejected with a reason, rather than with no problem.
                refused = RosterFileError.from_catalog("no_data_rows")
                refused.notices = notices
                refused.columns, refused.unknown_columns = report.columns, report.unknown_columns
                raise refused
            apply.add_notices(notices)
            report.add_notices(notices)
            # A roster with no acceptable row is a wrong or broken file, not a statement
            # that the agency has no workers: it ends nobody.
            # An incremental feed with nothing changed since its cursor is a success.
            if apply.counts.accepted or (mode == "incremental" and not apply.counts.rows):
                if mode == "snapshot":
                    apply.end_absent()
                report.status = "succeeded"
            else:
                report.status = "rejected"
            apply.finish(report.status)
            # Before the seal: what on_success records (a declared allocation) is stated on
            # the run's receipt.
            if on_success is not None and report.status == "succeeded":
                on_success(apply.conn)
            report.receipt = registry.seal_run(apply.conn, run_id)
            c = apply.counts
            report.changes = {
                "new": c.new,
                "changed": c.changed,
                "unchanged": c.unchanged,
                "ended": c.ended,
            }

    return recorded(registry, run_id, work)


def recorded(registry: Registry, run_id: int, work: Callable[[RosterReport], None]) -> RosterReport:
    """Run `work` on a started run and record how it ended, the same way for every kind of
    run: a file-level problem rejects the run; any other error fails it (RunFailed raised
    after the failure is recorded, so the run is visible and safe to retry)."""
    report = RosterReport(run_id=run_id)
    try:
        work(report)
    except _Replay as replay:  # rolled back before it wrote anything
        registry.discard_run(run_id)
        return stored_report(registry, replay.earlier, replayed=True)
    except RosterFileError as exc:
        # Found before or while reading (no header, undecodable bytes): whatever was written
        # is rolled back; the run is recorded as rejected with the reason on the file.
        registry.record_file_problem(
            run_id, exc.as_problem(), exc.notices, exc.columns, exc.unknown_columns
        )
        return stored_report(registry, registry.get_run(run_id) or {}, replayed=False)
    except BaseException as exc:
        # BaseException too: Ctrl-C, SystemExit and Airflow's task timeout are not Exceptions,
        # and left the run `running` (no error, feed health "running") for hours.
        report.status = "failed"
        report.error = f"{type(exc).__name__}: {exc or 'interrupted, nothing was applied'}"
        registry.fail_run(run_id, report.error)
        if not isinstance(exc, Exception):
            raise  # the interruption goes on: the process or the task is being stopped
        raise RunFailed(report) from exc
    return report


def stored_report(registry: Registry, run: dict, *, replayed: bool) -> RosterReport:
    """The report of a recorded run, rebuilt from the registry."""
    problems = registry.run_problems(run["id"], limit=REPORT_PROBLEM_LIMIT)
    report = RosterReport(
        rows=run["rows"],
        accepted=run["accepted"],
        rejected=run["rejected"],
        warnings=run["warnings"],
        columns=run["columns"] or {},
        unknown_columns=run["unknown_columns"] or [],
        problems=problems,
        problems_total=len(problems),
        run_id=run["id"],
        status=run["status"],
        replayed=replayed,
        error=run["error"],
        changes={k: run[k] for k in RUN_CHANGES},
        receipt=registry.receipt(run["id"]),
    )
    return report
