"""Endings are confirmed (issue 16, finding 2): a roster that would end more than a share of
the agency's active workers is applied only when the sender confirms that very number.

A roster is the agency's complete list, so a partial file (one sheet of three, a filtered
export) ends everyone it leaves out: 287 of 298 workers in one click. A check says how many a
submit would end, with a masked sample; a submit above `ENDING_CONFIRM_SHARE` (default 20 %)
of the agency's active workers is refused, nothing written, unless `confirm_endings` equals
the number it would end (a wrong number is refused too: a confirmation is of one count).

The guard runs inside the apply's transaction, after the snapshot's end was computed under
the agency's lock: the count it refuses is the one that would be committed, whatever ran
meanwhile. Refused, the transaction rolls back and the run is recorded `failed` with the
count in its error (`endings_unconfirmed (N/M): ...`), which `Endings.from_error` reads back:
failed, not rejected, because a failed run is not a replay target (the same file sent again
with the confirmation is applied) and the feed shows it needs attention.

Syncs (roster/sync.py) are unattended: nobody can confirm, so a sync above the share fails
the same way, recorded with the cause; an operator who has checked the feed lets that one
sync through with `JAMSOS_ENDING_CONFIRM_SHARE=1 jamsos sync SOURCE`. A plugin's first sync
ends nobody (the agency has no active worker yet), so it always passes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SHARE = 0.20  # ENDING_CONFIRM_SHARE: of the agency's active workers
_ERROR = re.compile(r"^endings_unconfirmed \((\d+)/(\d+)\)")


@dataclass(frozen=True)
class EndingsGuard:
    """The share above which endings need a confirmation, and the number confirmed."""

    share: float = DEFAULT_SHARE
    confirmed: int | None = None


# No confirmation ever needed: `submit_roster` called by a program (the intake gives its own).
NO_LIMIT = EndingsGuard(share=1.0)


@dataclass
class Endings:
    """How many of the agency's `active` workers a roster ends (`would_end`)."""

    would_end: int
    active: int
    share: float = DEFAULT_SHARE  # the threshold it was judged against
    sample: list[dict[str, Any]] = field(default_factory=list)  # masked NIK, position, unit

    @property
    def fraction(self) -> float:
        return self.would_end / self.active if self.active else 0.0

    @property
    def needs_confirmation(self) -> bool:
        return self.would_end > 0 and self.fraction > self.share

    def allowed(self, confirmed: int | None) -> bool:
        """A confirmation given must be this count; none is needed at or below the share."""
        if confirmed is not None:
            return confirmed == self.would_end
        return not self.needs_confirmation

    def as_dict(self) -> dict[str, Any]:
        return {
            "would_end": self.would_end,
            "active": self.active,
            "share": round(self.fraction, 4),
            "threshold": self.share,
            "needs_confirmation": self.needs_confirmation,
            "sample": self.sample,
        }

    def error_text(self, confirmed: int | None) -> str:
        """The refusal as a run records it: code and counts first (machine-read back by
        `from_error`), then the words."""
        percent = round(100 * self.fraction)
        wrong = (
            f" Angka konfirmasi {confirmed} tidak sama dengan {self.would_end}."
            if confirmed is not None else ""
        )  # fmt: skip
        wrong_en = (
            f" The confirmed number {confirmed} is not {self.would_end}."
            if confirmed is not None else ""
        )  # fmt: skip
        return (
            f"endings_unconfirmed ({self.would_end}/{self.active}): Roster ini akan mengakhiri "
            f"kepesertaan {self.would_end} dari {self.active} pekerja aktif ({percent} %), "
            f"tidak ada yang diubah.{wrong} Jika benar, kirim ulang dengan konfirmasi "
            f"{self.would_end} pekerja diakhiri. / This roster would end {self.would_end} of "
            f"{self.active} active workers ({percent} %); nothing was changed.{wrong_en} If "
            f"that is right, send it again confirming {self.would_end} endings."
        )

    @classmethod
    def from_error(cls, error: str | None) -> Endings | None:
        """The refusal recorded on a failed run, or None."""
        found = _ERROR.match(error or "")
        if found is None:
            return None
        return cls(would_end=int(found[1]), active=int(found[2]))


class EndingsUnconfirmed(Exception):
    """A roster would end more than the share without the matching confirmation."""

    def __init__(self, endings: Endings, confirmed: int | None) -> None:
        self.endings = endings
        self.confirmed = confirmed
        super().__init__(endings.error_text(confirmed))


def share_of(config: dict[str, Any]) -> float:
    """ENDING_CONFIRM_SHARE as a fraction (0.2, or 20 for 20 %)."""
    value = float(config.get("ENDING_CONFIRM_SHARE", DEFAULT_SHARE))
    return value / 100 if value > 1 else value


def guard_from_env() -> EndingsGuard:
    """The guard of a run given none (a sync): JAMSOS_ENDING_CONFIRM_SHARE or the default,
    nothing confirmed. Read at each run, so an operator can let one sync through."""
    configured = os.environ.get("JAMSOS_ENDING_CONFIRM_SHARE", "").strip()
    return EndingsGuard(share_of({"ENDING_CONFIRM_SHARE": configured or DEFAULT_SHARE}))
