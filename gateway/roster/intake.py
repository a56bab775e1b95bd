"""One intake for a roster sent by a person: the JSON API, the dashboard's upload page and
`jamsos roster check|submit` take it the same way.

1. `spooled(runtime, upload)`: the uploaded file sealed in the instance folder (gateway/
   roster/uploads.py), deleted afterwards or by the background apply it is handed to (the
   CLI already has its file).
2. `read_declaration` (gateway/budget/allocation.py): the fiscal year and budget allocation a
   regional government may send with its roster, named as each caller names its fields.
3. `check` or `submit`: the roster run (gateway/roster/run.py) under the agency's rules: the
   shared validation, plus the `validate_record` hooks of the plugins whose sources feed
   that agency (`agency_rules`), as its syncs get them.
4. `submit` records a declared allocation inside the run's own transaction (`on_success`),
   before the receipt is signed: the receipt states it, and a run that fails or is rejected
   records none. A replayed roster (that very file is already in force) has no run of its
   own: its allocation is recorded in a transaction of its own, the way a government
   declares its allocation without changing its roster, and the earlier run's receipt,
   which the answer repeats, does not state it.
5. An upload is `begin`-ed in the request (a replay is answered at once; otherwise its run is
   recorded `running`) and `complete`-d either there (`submit`, the CLI, `?wait=1`) or in
   the background (`submit_later`, gateway/roster/queue.py): the same code, the same run.
6. A submission ending more than ENDING_CONFIRM_SHARE of the agency's active workers needs
   `confirm_endings` equal to that number (gateway/roster/endings.py); `check` says it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gateway import clock
from gateway.budget.allocation import Declaration, allocation_coverage, declare_allocation
from gateway.roster import queue, uploads
from gateway.roster.endings import EndingsGuard, share_of
from gateway.roster.report import ALLOCATION_NOT_RECORDED, allocation_outcome
from gateway.roster.run import Progress, RosterReport, RowCheck, RunFailed, check_roster
from gateway.roster.submit import RosterInput, Started, finish_submit, start_submit
from gateway.roster.sync import make_row_check
from gateway.sources.base import Source
from gateway.store.allocations import record_declared
from gateway.store.liveness import fail_interrupted
from gateway.verify import queue as verification

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from gateway.domain.agencies import Agency
    from gateway.domain.budget import BudgetCheck
    from gateway.domain.records import RawRow, RowResult
    from gateway.store.registry import Registry


class Runtime(Protocol):
    """What the intake needs of the gateway's runtime (gateway/runtime.py, `gateway()`)."""

    config: dict[str, Any]

    @property
    def registry(self) -> Registry: ...

    @property
    def plugins(self) -> Any: ...

    def sources(self) -> dict[str, Any]: ...


Upload = uploads.Upload


class UploadMissing(ValueError):
    """The request carried no file."""


def _fail_interrupted(runtime: Runtime, run_id: int) -> None:
    # The same text and audit entry as the runs sweep gives it (store/liveness.py): whichever
    # of the two finds a killed upload first, it reads the same.
    fail_interrupted(runtime.registry.engine, run_id)


def sweep_uploads(runtime: Runtime) -> int:
    """Remove the spools a killed process left (gateway/roster/uploads.py), failing their
    runs as interrupted. `jamsos serve` runs it at start-up; each upload runs it too."""
    folder = uploads.upload_folder(runtime.config["INSTANCE_PATH"])
    return uploads.sweep(folder, lambda run_id: _fail_interrupted(runtime, run_id))


@contextmanager
def spooled(runtime: Runtime, upload: Upload | None) -> Iterator[tuple[uploads.SpooledUpload, str]]:
    """The uploaded roster sealed in the instance folder, with the name it was sent under;
    removed when the block ends unless handed to the background (`submit_later`).
    UploadMissing when no file was sent."""
    if upload is None or not upload.filename:
        raise UploadMissing("no roster file in the request")
    sweep_uploads(runtime)
    spool = uploads.SpooledUpload(uploads.upload_folder(runtime.config["INSTANCE_PATH"]), upload)
    try:
        yield spool, upload.filename
    finally:
        spool.discard()


class UploadSource(Source):
    """What a plugin's `validate_record` is given for an upload of its agency's roster:
    `id` "upload" (as the run records its source), the agency uploaded for, and `plugin`,
    the plugin asked. It is never synced."""

    id = "upload"
    title = "unggahan roster / roster upload"


def agency_rules(runtime: Runtime, agency: Agency) -> RowCheck | None:
    """The `validate_record` hooks of the plugins that feed `agency` (a source of theirs
    names it), for an upload of its roster: the rules its syncs get. As on the plugin's own
    feed, a hook that raises fails the run. None when no plugin with such a hook feeds the
    agency: its uploads keep the unchanged-row shortcut and the parallel preparation, which
    a row check turns off (gateway/roster/prepare.py)."""
    pm = runtime.plugins
    hooked = {impl.plugin_name for impl in pm.hook.validate_record.get_hookimpls()}
    owners = sorted(
        {e.plugin for e in runtime.sources().values() if e.agency == agency.code} & hooked
    )
    checks = []
    for name in owners:
        source = UploadSource({"agency": agency.code})
        source.plugin = name
        checks.append(make_row_check(pm, source, [], only=name))
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]

    def every(raw: RawRow, result: RowResult) -> None:
        for one in checks:
            one(raw, result)

    return every


@dataclass
class Submitted:
    """A submitted roster's report, and what became of the allocation sent with it."""

    report: RosterReport
    declaration: Declaration | None = None
    # The declaration is in the registry (and, but for a replay, on the run's receipt).
    allocation_recorded: bool = False
    # Once recorded: does the year's allocation cover the obligation (budget/allocation.py)?
    allocation_check: BudgetCheck | None = None

    @property
    def status(self) -> str:
        return self.report.status

    def as_dict(self) -> dict[str, Any]:
        """The machine report (API and `--json`): the run's, and `declared_allocation` as
        recorded, or null with an `allocation_note` saying why it was not."""
        out = self.report.as_dict()
        if self.declaration is not None and self.allocation_recorded:
            out["declared_allocation"] = self.declaration.as_dict()
            if self.allocation_check is not None:
                out["allocation_check"] = allocation_outcome(self.allocation_check)
        elif self.declaration is not None:
            out["declared_allocation"] = None
            out["allocation_note"] = ALLOCATION_NOT_RECORDED.as_message()
        return out


def check(
    runtime: Runtime,
    path: RosterInput,
    *,
    agency: Agency,
    filename: str | None = None,
    progress: Progress | None = None,
) -> RosterReport:
    """Validate a roster as `submit` would, writing nothing; for a known agency, also how
    many of its active workers a submit would end (`report.endings`)."""
    known = agency.code != "-"  # `jamsos roster check` without --agency: no registry read
    source = path.open() if not isinstance(path, Path) else path
    try:
        return check_roster(
            source, agency=agency, today=clock.today(), filename=filename, progress=progress,
            batch_size=runtime.config["BATCH_SIZE"], check_row=agency_rules(runtime, agency),
            registry=runtime.registry if known else None, share=share_of(runtime.config),
        )  # fmt: skip
    finally:
        if source is not path:
            source.close()  # type: ignore[union-attr]


def begin(
    runtime: Runtime,
    source: RosterInput,
    *,
    agency: Agency,
    trigger: str,
    filename: str | None = None,
    actor: str | None = None,
) -> Started:
    """A submission's quick first step: its replay, or its run recorded `running`."""
    return start_submit(runtime.registry, source, agency=agency, trigger=trigger,
                        filename=filename, actor=actor)  # fmt: skip


def complete(
    runtime: Runtime,
    started: Started,
    source: RosterInput,
    *,
    agency: Agency,
    filename: str | None = None,
    declaration: Declaration | None = None,
    progress: Progress | None = None,
    confirm_endings: int | None = None,
) -> Submitted:
    """Apply a begun submission as the agency's snapshot, recording `declaration` with it. A
    run that failed is answered like any other (`status` "failed"): it is recorded and safe
    to retry; one refused for unconfirmed endings has `report.endings`."""
    registry = runtime.registry
    written = False  # set inside the run's transaction; it counts only if that commits

    def record_allocation(conn: Connection, run_id: int) -> None:
        nonlocal written
        if declaration is not None:
            record_declared(conn, agency.code, declaration.fiscal_year, declaration.amounts,
                            run_id)  # fmt: skip
            written = True

    try:
        report = finish_submit(
            registry, started, source, agency=agency, today=clock.today(), filename=filename,
            batch_size=runtime.config["BATCH_SIZE"], progress=progress,
            on_success=record_allocation, check_row=agency_rules(runtime, agency),
            endings=EndingsGuard(share_of(runtime.config), confirm_endings),
        )  # fmt: skip
    except RunFailed as exc:
        # Rolled back with the run, allocation and all.
        return Submitted(exc.report, declaration, allocation_recorded=False)
    if report.status == "succeeded" and not report.replayed:
        verification.after_roster(runtime)  # in the background, docs/verification.md
    if declaration is not None and report.replayed and report.status == "succeeded":
        declare_allocation(registry.engine, agency.code, declaration.fiscal_year,
                           declaration.amounts, report.run_id)  # fmt: skip
        written = True
    coverage = None
    if declaration is not None and written:
        coverage = allocation_coverage(registry.engine, agency.code, declaration.fiscal_year)
    return Submitted(report, declaration, allocation_recorded=written, allocation_check=coverage)


def submit(
    runtime: Runtime,
    path: RosterInput,
    *,
    agency: Agency,
    trigger: str,
    filename: str | None = None,
    declaration: Declaration | None = None,
    progress: Progress | None = None,
    actor: str | None = None,
    confirm_endings: int | None = None,
) -> Submitted:
    """`begin` and `complete` in one go: the CLI, and an API client asking to wait."""
    started = begin(runtime, path, agency=agency, trigger=trigger, filename=filename,
                    actor=actor)  # fmt: skip
    return complete(runtime, started, path, agency=agency, filename=filename,
                    declaration=declaration, progress=progress,
                    confirm_endings=confirm_endings)  # fmt: skip


def submit_later(
    runtime: Runtime,
    started: Started,
    spool: uploads.SpooledUpload,
    *,
    agency: Agency,
    filename: str | None = None,
    declaration: Declaration | None = None,
    confirm_endings: int | None = None,
) -> Future[Submitted]:
    """`complete` a begun (not replayed) upload in the background; the spool goes with it."""
    run_id = started.run_id
    assert run_id is not None
    spool.for_run(run_id)
    spool.handed_off = True
    folder = spool.path.parent

    def done() -> None:
        spool.handed_off = False
        spool.discard()
        uploads.forget_progress(folder, run_id)

    return queue.in_background(
        lambda: complete(runtime, started, spool, agency=agency, filename=filename,
                         declaration=declaration, confirm_endings=confirm_endings,
                         progress=uploads.progress_writer(folder, run_id)),
        threads=int(runtime.config.get("UPLOAD_THREADS") or queue.DEFAULT_THREADS),
        cleanup=done,
    )  # fmt: skip
