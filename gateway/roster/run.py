"""One way through: roster file -> raw rows -> validation -> registry -> report.

`check_roster` and `submit_roster` run the same loop (`_run_rows`): read, validate, find
in-file duplicates, count. A submit also encrypts and writes each batch, inside one registry
transaction, and records the run whatever happens; a check encrypts, writes and looks up
nothing, so it reports what a submit of the same file would on an empty registry.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from gateway.domain.agencies import Agency
from gateway.domain.records import Problem, RawRow
from gateway.roster.cancel import Stopped, commit_gate
from gateway.roster.endings import (
    Endings,
    EndingsGuard,
    EndingsUnconfirmed,
    guard_from_env,
)
from gateway.roster.parallel import PARALLEL_MIN_BYTES, ChunkedRead, prepared_batches
from gateway.roster.prepare import RowCheck, index_prefix
from gateway.roster.read.chunks import plan_chunks
from gateway.roster.read.reader import RosterFileError, RosterReader, open_roster
from gateway.roster.report import REPORT_PROBLEM_LIMIT, RosterReport
from gateway.security.crypto import KeyRing, generate_keyring
from gateway.store.apply import RosterApply, changes_of
from gateway.store.endings import absent_from, active_count, ended_sample
from gateway.store.registry import Registry

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = [
    "Progress",
    "RosterReport",
    "RowCheck",
    "RowReader",
    "RunFailed",
    "apply_rows",
    "check_roster",
    "recorded",
    "require_data_rows",
    "stored_report",
]

Progress = Callable[[int, float | None], None]  # rows done, fraction of the input read


class RowReader(Protocol):
    """What the loop reads: a RosterReader, or a plugin source's equivalent."""

    columns: dict[str, str]
    unknown_columns: list[str]

    def __iter__(self) -> Iterator[RawRow]: ...

    @property
    def progress(self) -> float | None: ...

    def notices(self) -> list[Problem]: ...

    def __enter__(self) -> RowReader: ...

    def __exit__(self, *exc: object) -> None: ...


class AppliedMeanwhile(Exception):
    """Found under the agency's lock: the same input was applied while this run waited."""

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


def require_data_rows(
    rows: int,
    notices: list[Problem],
    columns: dict[str, str] | None = None,
    unknown_columns: list[str] | None = None,
) -> None:
    """Refuse a snapshot with no data row. A header alone (or a source that sent nothing) is
    not a statement that the agency has no workers (or a government no budget): rejected
    with a reason, rather than with no problem, keeping the warnings about the file."""
    if rows:
        return
    refused = RosterFileError.from_catalog("no_data_rows")
    refused.notices = notices
    refused.columns, refused.unknown_columns = columns, unknown_columns
    raise refused


def _run_rows(
    reader: RowReader,
    report: RosterReport,
    *,
    agency: Agency,
    today: date,
    mode: str,
    batch_size: int,
    progress: Progress | None,
    check_row: RowCheck | None,
    apply: RosterApply | None,
    keyring: KeyRing | None = None,
    named: array | None = None,
) -> list[Problem]:
    """The one loop over a roster's rows, for a check and a run alike: validate (with the
    agency's `check_row`), reject a NIK's repeats, count into `report`. With `apply`, each
    batch is also sealed and written, rows the registry holds unchanged skipped. Without it
    (a check) nothing is encrypted, written or looked up, and NIKs are indexed under a
    throwaway key (or `keyring`'s, collecting into `named` the first 64 bits of the blind
    index of each NIK a row names: what a check needs to count the workers a submit would
    end). Returns the file's notices, counted; a snapshot with no row is refused."""
    report.columns = dict(reader.columns)
    report.unknown_columns = list(reader.unknown_columns)
    # Validation and encryption run in worker processes on a large input, which read a
    # large CSV file themselves (parallel.py, read/chunks.py).
    size = getattr(reader, "total_bytes", None) or 0
    parallel = apply is not None and size >= PARALLEL_MIN_BYTES and check_row is None
    chunked = None
    if parallel and isinstance(reader, RosterReader):
        chunks = plan_chunks(reader)
        chunked = ChunkedRead(chunks, size, reader.skipped_totals) if chunks else None
    for batch in prepared_batches(
        iter(reader),
        apply.keyring if apply is not None else keyring or generate_keyring(),
        today=today,
        default_category=agency.default_category,
        batch_size=batch_size,
        check_row=check_row,
        parallel=parallel,
        seal=apply is not None,
        probe=apply.known_digests if apply is not None else None,
        chunked=chunked,
        database=apply.worker_database() if apply is not None and parallel else None,
    ):
        if apply is not None:
            apply.add_batch(batch.rows, batch.kept, batch.known_ids, batch.found)
        report.add(batch.rows)
        report.add_unchanged(len(batch.known_ids))
        if named is not None:
            named.extend(index_prefix(p.nik_index) for p in batch.rows if p.nik_index)
        if progress:
            progress(report.rows, chunked.progress if chunked else reader.progress)
    notices = reader.notices()
    if mode == "snapshot":
        require_data_rows(report.rows, notices, report.columns, report.unknown_columns)
    report.add_notices(notices)
    return notices


def check_roster(
    source: Path | BinaryIO,
    *,
    agency: Agency,
    today: date,
    batch_size: int = 2000,
    progress: Progress | None = None,
    filename: str | None = None,
    check_row: RowCheck | None = None,
    registry: Registry | None = None,
    share: float | None = None,
) -> RosterReport:
    """Validate a roster without writing anything (`check_row`: as for `apply_rows`): the
    counts and problems a submit of it would report on an empty registry. With `registry`,
    also how many of the agency's active workers a submit would end (`report.endings`,
    judged against `share`), read as committed now; nothing else is looked up."""
    report = RosterReport()
    named = array("q") if registry is not None else None
    try:
        with open_roster(source, filename=filename) as reader:
            _run_rows(reader, report, agency=agency, today=today, mode="snapshot",
                      batch_size=batch_size, progress=progress, check_row=check_row,
                      apply=None, keyring=registry.keyring if registry else None,
                      named=named)  # fmt: skip
    except RosterFileError as exc:
        # As a run refused as a whole reports it (`recorded`): no row counted, the reason
        # first, then the warnings found before it; the header, when it was read.
        refused = RosterReport(columns=report.columns, unknown_columns=report.unknown_columns)
        refused.add_notices(exc.notices)
        refused.reject_file(exc.as_problem())
        return refused
    if registry is not None and named is not None and report.accepted:
        named = array("q", sorted(named))
        would_end, active, sample = absent_from(registry.engine, registry.keyring, agency.code,
                                                named)  # fmt: skip
        report.endings = Endings(would_end, active, guard_from_env().share
                                 if share is None else share, sample)  # fmt: skip
    return report


def apply_rows(
    registry: Registry,
    run_id: int,
    open_rows: Callable[[], RowReader],
    *,
    agency: Agency,
    today: date,
    mode: str = "snapshot",
    batch_size: int = 2000,
    progress: Progress | None = None,
    check_row: RowCheck | None = None,
    on_success: Callable[[Connection], None] | None = None,
    replay_of: Callable[[Connection], dict | None] | None = None,
    endings: EndingsGuard | None = None,
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
    `endings`: a snapshot that ends more than its share of the agency's active workers
    without confirming that number fails, nothing written (gateway/roster/endings.py; the
    default share is JAMSOS_ENDING_CONFIRM_SHARE or 20 %, unconfirmed: what syncs get).
    Raises RunFailed (after recording the failed run) when the apply could not complete.
    """
    guard = endings or guard_from_env()

    def work(report: RosterReport) -> None:
        with commit_gate() as gate, open_rows() as reader, \
                registry.applying(run_id, agency.code, today) as apply:
            earlier = replay_of(apply.conn) if replay_of is not None else None
            if earlier is not None:
                raise AppliedMeanwhile(earlier)
            # Counted under the agency's lock, before this run writes anything.
            active = active_count(apply.conn, agency.code) if mode == "snapshot" else 0
            registry.set_columns(apply.conn, run_id, dict(reader.columns),
                                 list(reader.unknown_columns))  # fmt: skip
            notices = _run_rows(reader, report, agency=agency, today=today, mode=mode,
                                batch_size=batch_size, progress=progress,
                                check_row=check_row, apply=apply)  # fmt: skip
            apply.add_notices(notices)
            # A roster with no acceptable row is a wrong or broken file, not a statement
            # that the agency has no workers: it ends nobody.
            # An incremental feed with nothing changed since its cursor is a success.
            if report.accepted or (mode == "incremental" and not report.rows):
                if mode == "snapshot":
                    apply.end_absent()
                    _guard(registry, apply, guard, active)
                report.status = "succeeded"
            else:
                report.status = "rejected"
            apply.finish(report.status, report.row_counts())
            # Before the seal: what on_success records (a declared allocation) is stated on
            # the run's receipt.
            if on_success is not None and report.status == "succeeded":
                on_success(apply.conn)
            report.receipt = registry.seal_run(apply.conn, run_id)
            report.changes = apply.changes.as_dict()
            gate.close()  # a SIGTERM from here on waits for the commit (roster/cancel.py)

    return recorded(registry, run_id, work)


def _guard(registry: Registry, apply: RosterApply, guard: EndingsGuard, active: int) -> None:
    """Refuse (roll back) a snapshot's end above the share, unless confirmed."""
    ended = Endings(apply.changes.ended, active, guard.share)
    if not ended.allowed(guard.confirmed):
        ended.sample = ended_sample(apply.conn, registry.keyring, apply.agency, apply.run_id)
        raise EndingsUnconfirmed(ended, guard.confirmed)


def recorded(registry: Registry, run_id: int, work: Callable[[RosterReport], None]) -> RosterReport:
    """Run `work` on a started run and record how it ended, the same way for every kind of
    run: a file-level problem rejects the run; any other error fails it (RunFailed raised
    after the failure is recorded, so the run is visible and safe to retry)."""
    report = RosterReport(run_id=run_id)
    try:
        work(report)
    except AppliedMeanwhile as replay:  # rolled back before it wrote anything
        registry.discard_run(run_id)
        return stored_report(registry, replay.earlier, replayed=True)
    except RosterFileError as exc:
        # Found before or while reading (no header, undecodable bytes): whatever was written
        # is rolled back; the run is recorded as rejected with the reason on the file.
        registry.record_file_problem(
            run_id, exc.as_problem(), exc.notices, exc.columns, exc.unknown_columns
        )
        return stored_report(registry, registry.get_run(run_id) or {}, replayed=False)
    except EndingsUnconfirmed as refused:  # rolled back: recorded failed, safe to resend
        report.status, report.error = "failed", str(refused)
        report.endings = refused.endings
        registry.fail_run(run_id, report.error)
        raise RunFailed(report) from refused
    except BaseException as exc:
        # BaseException too: Ctrl-C, SystemExit and Airflow's task timeout are not Exceptions,
        # and left the run `running` (no error, feed health "running") for hours.
        if isinstance(exc, Stopped) and exc.committed:
            raise  # the stop came during the commit: the run was applied and says so
        report.status = "failed"
        report.error = (str(exc) if isinstance(exc, Stopped) else
                        f"{type(exc).__name__}: {exc or 'interrupted, nothing was applied'}")
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
        changes=changes_of(run),
        receipt=registry.receipt(run["id"]),
        endings=Endings.from_error(run["error"]) if run["status"] == "failed" else None,
    )
    return report
