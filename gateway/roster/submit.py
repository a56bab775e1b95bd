"""Submitting a roster: start the run (or recognise a replay), then apply it.

Two steps, so an upload can be answered (202, the run's URL) as soon as its run is recorded
and applied in the background (gateway/roster/intake.py); `submit_roster` does both at once
for the CLI, syncs and tests. The loop itself, shared with a check, is `roster/run.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from gateway.domain.agencies import Agency
from gateway.roster.endings import NO_LIMIT, EndingsGuard
from gateway.roster.prepare import RowCheck
from gateway.roster.read.reader import RosterReader, open_roster
from gateway.roster.report import RosterReport
from gateway.roster.run import Progress, apply_rows, sha256_of, stored_report
from gateway.store.registry import Registry

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["RosterInput", "Spooled", "Started", "finish_submit", "start_submit", "submit_roster"]


class Spooled(Protocol):
    """An uploaded roster kept encrypted (gateway/roster/uploads.py): its SHA-256 and a
    readable, seekable plaintext view of it."""

    sha256: str
    name: str

    def open(self) -> BinaryIO: ...


RosterInput = Path | Spooled


@dataclass
class Started:
    """A submission's first step: a run started (`run_id`), or the replay it turned out to be."""

    digest: str
    run_id: int | None = None
    replay: RosterReport | None = None


@contextmanager
def _opened(source: RosterInput, filename: str) -> Iterator[RosterReader]:
    if isinstance(source, Path):
        with open_roster(source, filename=filename) as reader:
            yield reader
    else:
        with source.open() as stream, open_roster(stream, filename=filename) as reader:
            yield reader


def start_submit(
    registry: Registry,
    source: RosterInput,
    *,
    agency: Agency,
    trigger: str,
    filename: str | None = None,
    external_id: str | None = None,
    actor: str | None = None,
) -> Started:
    """Recognise a replay (the same bytes as the agency's latest applied run) or record the
    run as started (`running`): quick, so an upload is answered before it is applied."""
    digest = sha256_of(source) if isinstance(source, Path) else source.sha256
    earlier = registry.find_applied_run(agency.code, digest)
    if earlier is not None:
        return Started(digest, replay=stored_report(registry, earlier, replayed=True))
    run_id = registry.start_run(
        agency=agency.code,
        source="upload",
        trigger=trigger,
        filename=filename or source.name,
        input_sha256=digest,
        external_id=external_id,
        actor=actor,  # the key or user that sent it (api:<prefix>), recorded on the run
    )
    return Started(digest, run_id=run_id)


def finish_submit(
    registry: Registry,
    started: Started,
    source: RosterInput,
    *,
    agency: Agency,
    today: date,
    filename: str | None = None,
    batch_size: int = 2000,
    progress: Progress | None = None,
    on_success: Callable[[Connection, int], None] | None = None,
    check_row: RowCheck | None = None,
    endings: EndingsGuard | None = None,
) -> RosterReport:
    """Apply a started submission (`start_submit`); see `submit_roster`."""
    if started.replay is not None:
        return started.replay
    run_id, digest = started.run_id, started.digest
    assert run_id is not None
    return apply_rows(
        registry,
        run_id,
        lambda: _opened(source, filename or source.name),
        agency=agency,
        today=today,
        batch_size=batch_size,
        progress=progress,
        # Checked again under the agency's lock: a copy sent while this one was applied.
        replay_of=lambda conn: registry.find_applied_run(agency.code, digest, conn),
        on_success=None if on_success is None else lambda conn: on_success(conn, run_id),
        check_row=check_row,
        # The intake always gives the uploads' guard; a direct call is a program's (a test's).
        endings=endings or NO_LIMIT,
    )


def submit_roster(
    registry: Registry,
    path: RosterInput,
    *,
    agency: Agency,
    today: date,
    trigger: str,
    filename: str | None = None,
    batch_size: int = 2000,
    progress: Progress | None = None,
    external_id: str | None = None,
    on_success: Callable[[Connection, int], None] | None = None,
    check_row: RowCheck | None = None,
    actor: str | None = None,
    endings: EndingsGuard | None = None,
) -> RosterReport:
    """Apply a roster as a snapshot of `agency`'s workers; idempotent on the file's bytes.

    `on_success(conn, run_id)` runs inside the run's transaction when the run succeeds,
    before its receipt is signed (the intake records a declared allocation there, with the
    run's id: it is committed if and only if the run is, and the receipt states it).
    `check_row`: the agency's own rules (`apply_rows`); `endings`: the confirmation of
    endings above a share (gateway/roster/endings.py).
    Raises RunFailed (after recording the failed run) when the apply could not complete.
    """
    started = start_submit(registry, path, agency=agency, trigger=trigger, filename=filename,
                           external_id=external_id, actor=actor)  # fmt: skip
    return finish_submit(registry, started, path, agency=agency, today=today,
                         filename=filename, batch_size=batch_size, progress=progress,
                         on_success=on_success, check_row=check_row,
                         endings=endings)  # fmt: skip
