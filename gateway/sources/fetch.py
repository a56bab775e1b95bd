"""One sync's plan (`Source.prepare` returns it): how to open the rows, and what the run
record should say. Re-exported by `gateway.sources.base`, `gateway.sources` and `gateway`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.roster.run import RowReader


@dataclass
class Fetch:
    """One sync's plan: how to open the rows, and what the run record should say.

    `cursor_after` is set by the source while it reads (e.g. the server time of the first
    page); the gateway saves it only when the run succeeds. `sha256` is the input's digest,
    what the receipt states: known when planned for a file, set by the fetch for a feed (the
    canonical rows of a SOAP feed, the bytes of a download), then recorded on the run.
    `nothing_new` (a reason) means there is nothing to apply: no run is started.
    """

    open: Callable[[], RowReader]
    mode: str = "snapshot"  # snapshot: the absent end | incremental: ends nobody
    filename: str | None = None
    sha256: str | None = None
    cursor_after: str | None = None
    nothing_new: tuple[str, str] | None = None  # (Bahasa Indonesia, English)
    stats: dict[str, Any] = field(default_factory=dict)  # pages, bytes: for the summary
