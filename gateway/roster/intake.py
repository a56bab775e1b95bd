"""One intake for a roster sent by a person: the JSON API, the dashboard's upload page and
`jamsos roster check|submit` take it the same way.

1. `spooled(upload)`: the uploaded file saved to a temporary file, deleted afterwards (the CLI
   already has its file).
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
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from gateway import clock
from gateway.budget.allocation import Declaration, declare_allocation
from gateway.roster.report import ALLOCATION_NOT_RECORDED
from gateway.roster.run import (
    Progress,
    RosterReport,
    RowCheck,
    RunFailed,
    check_roster,
    submit_roster,
)
from gateway.roster.sync import make_row_check
from gateway.sources.base import Source
from gateway.store.allocations import record_declared

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from gateway.domain.agencies import Agency
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


class Upload(Protocol):
    """An uploaded file as Flask gives it (werkzeug's FileStorage)."""

    filename: str | None

    def save(self, dst: BinaryIO) -> None: ...


class UploadMissing(ValueError):
    """The request carried no file."""


@contextmanager
def spooled(upload: Upload | None) -> Iterator[tuple[Path, str]]:
    """The uploaded roster in a temporary file, with the name it was sent under; the file is
    deleted when the block ends. UploadMissing when no file was sent."""
    if upload is None or not upload.filename:
        raise UploadMissing("no roster file in the request")
    # The suffix tells CSV from XLSX; a long or odd one is cut, the reader sniffs the bytes.
    fd, name = tempfile.mkstemp(prefix="roster-", suffix=Path(upload.filename).suffix[:8])
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            upload.save(fh)
        yield path, upload.filename
    finally:
        path.unlink(missing_ok=True)


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

    @property
    def status(self) -> str:
        return self.report.status

    def as_dict(self) -> dict[str, Any]:
        """The machine report (API and `--json`): the run's, and `declared_allocation` as
        recorded, or null with an `allocation_note` saying why it was not."""
        out = self.report.as_dict()
        if self.declaration is not None and self.allocation_recorded:
            out["declared_allocation"] = self.declaration.as_dict()
        elif self.declaration is not None:
            out["declared_allocation"] = None
            out["allocation_note"] = ALLOCATION_NOT_RECORDED.as_message()
        return out


def check(
    runtime: Runtime, path: Path, *, agency: Agency, filename: str | None = None,
    progress: Progress | None = None,
) -> RosterReport:
    """Validate a roster as `submit` would, writing nothing."""
    return check_roster(
        path, agency=agency, today=clock.today(), filename=filename, progress=progress,
        batch_size=runtime.config["BATCH_SIZE"], check_row=agency_rules(runtime, agency),
    )  # fmt: skip


def submit(
    runtime: Runtime, path: Path, *, agency: Agency, trigger: str,
    filename: str | None = None, declaration: Declaration | None = None,
    progress: Progress | None = None,
) -> Submitted:
    """Apply a roster as the agency's snapshot, recording `declaration` with it. A run that
    failed is answered like any other (`status` "failed"): it is recorded and safe to retry."""
    registry = runtime.registry
    written = False  # set inside the run's transaction; it counts only if that commits

    def record_allocation(conn: Connection, run_id: int) -> None:
        nonlocal written
        if declaration is not None:
            record_declared(conn, agency.code, declaration.fiscal_year, declaration.amounts,
                            run_id)  # fmt: skip
            written = True

    try:
        report = submit_roster(
            registry, path, agency=agency, today=clock.today(), trigger=trigger,
            filename=filename, batch_size=runtime.config["BATCH_SIZE"], progress=progress,
            on_success=record_allocation, check_row=agency_rules(runtime, agency),
        )  # fmt: skip
    except RunFailed as exc:
        # Rolled back with the run, allocation and all.
        return Submitted(exc.report, declaration, allocation_recorded=False)
    if declaration is not None and report.replayed and report.status == "succeeded":
        declare_allocation(registry.engine, agency.code, declaration.fiscal_year,
                           declaration.amounts, report.run_id)  # fmt: skip
        written = True
    return Submitted(report, declaration, allocation_recorded=written)
