"""Budget-allocation check: has a government budgeted enough for the workers it rostered?

Pure arithmetic over plain values (docs/domain.md §5). The obligation of a fiscal year is the
employer share of every enrolled worker's contributions for the months of that year they are
enrolled (the government is the employer; the worker share is deducted from the wage and is not
a budget line). It is compared, per program, with what the government allocated under the
Permendagri 90/2019 account codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

# Permendagri 90/2019, Belanja Barang dan Jasa: contributions for non-ASN workers.
# (.0005 is health insurance, not ours.) JP has no object code of its own in the guideline we
# follow, so a JP obligation can only be met by an allocation declared as "jp".
ACCOUNT_CODES: dict[str, str] = {
    "jkk": "5.1.02.02.02.0006",
    "jkm": "5.1.02.02.02.0007",
    "jht": "5.1.02.02.02.0010",
}
PROGRAM_OF_ACCOUNT: dict[str, str] = {code: program for program, code in ACCOUNT_CODES.items()}
# The vulnerable-worker (BPU) package is paid from the same JKK / JKM lines.
BUDGET_PROGRAM: dict[str, str] = {"bpu_jkk": "jkk", "bpu_jkm": "jkm", "bpu_jht": "jht"}
BUDGET_PROGRAMS = ("jkk", "jkm", "jht", "jp")

SUFFICIENT = "sufficient"
SHORTFALL = "shortfall"
NO_BUDGET = "no_budget"


def budget_program(program: str) -> str:
    """The budget line a contribution program is paid from."""
    return BUDGET_PROGRAM.get(program, program)


@dataclass
class ObligationTally:
    """Accumulates a government's obligation for one fiscal year, program by program."""

    by_program: dict[str, int] = field(default_factory=dict)
    workers: int = 0  # enrollments costing anything in the year
    worker_months: int = 0

    def add(self, costs: Mapping[str, int], months: int) -> None:
        if months <= 0:
            return
        self.workers += 1
        self.worker_months += months
        for program, amount in costs.items():
            key = budget_program(program)
            self.by_program[key] = self.by_program.get(key, 0) + amount

    @property
    def total(self) -> int:
        return sum(self.by_program.values())


@dataclass(frozen=True)
class BudgetLine:
    program: str
    account_code: str | None
    allocated: int | None  # None: no such line in the budget
    obligation: int

    @property
    def gap(self) -> int:
        return max(0, self.obligation - (self.allocated or 0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "account_code": self.account_code,
            "allocated": self.allocated,
            "obligation": self.obligation,
            "gap": self.gap,
        }


@dataclass(frozen=True)
class BudgetCheck:
    government: str
    fiscal_year: int
    status: str  # sufficient | shortfall | no_budget
    lines: tuple[BudgetLine, ...]
    workers: int
    worker_months: int
    allocation_source: str | None  # "apbd" (the feed wins) | "declared" | None
    allocations: dict[str, int | None]  # total per source, to show both when both exist
    disagreement: bool  # the feed and the declaration differ

    @property
    def allocated(self) -> int:
        return sum(line.allocated or 0 for line in self.lines)

    @property
    def obligation(self) -> int:
        return sum(line.obligation for line in self.lines)

    @property
    def gap(self) -> int:
        return sum(line.gap for line in self.lines)

    @property
    def share_covered(self) -> Fraction:
        """The share of the obligation the allocation pays, line by line: the least of them.
        Each program is its own account code, so money left over on one line (JHT) pays
        nothing of another (JKK)."""
        shares = [Fraction(line.allocated or 0, line.obligation) for line in self.lines
                  if line.obligation]  # fmt: skip
        return min(shares, default=Fraction(1))

    @property
    def workers_covered(self) -> int:
        """How many of its workers the allocation pays for a full enrolled year (on average)."""
        if not self.workers:
            return 0
        return min(self.workers, int(self.workers * self.share_covered))

    @property
    def months_covered(self) -> int:
        """How many months of the year the allocation pays for all workers (0-12)."""
        return min(12, int(12 * self.share_covered))

    def as_dict(self) -> dict[str, Any]:
        return {
            "government": self.government,
            "fiscal_year": self.fiscal_year,
            "status": self.status,
            "allocated": self.allocated,
            "obligation": self.obligation,
            "gap": self.gap,
            "workers": self.workers,
            "worker_months": self.worker_months,
            "workers_covered": self.workers_covered,
            "months_covered": self.months_covered,
            "allocation_source": self.allocation_source,
            "allocations": self.allocations,
            "disagreement": self.disagreement,
            "lines": [line.as_dict() for line in self.lines],
        }


def allocations_by_program(per_account: Mapping[str, int]) -> dict[str, int]:
    """Account code or program name -> amount, folded onto programs; unknown codes dropped."""
    out: dict[str, int] = {}
    for key, amount in per_account.items():
        program = PROGRAM_OF_ACCOUNT.get(key, key if key in BUDGET_PROGRAMS else None)
        if program is not None:
            out[program] = out.get(program, 0) + amount
    return out


def assess(
    government: str,
    fiscal_year: int,
    tally: ObligationTally,
    apbd: Mapping[str, int] | None,
    declared: Mapping[str, int] | None,
) -> BudgetCheck:
    """Compare the obligation with the allocation. The `apbd` feed's figures win over a
    declaration made with the roster; both are reported and a difference is flagged."""
    feed = allocations_by_program(apbd) if apbd else None
    own = allocations_by_program(declared) if declared else None
    chosen = feed if feed else own
    source = "apbd" if feed else "declared" if own else None
    programs = [p for p in BUDGET_PROGRAMS if p in tally.by_program or (chosen and p in chosen)]
    lines = tuple(
        BudgetLine(
            program=p,
            account_code=ACCOUNT_CODES.get(p),
            allocated=chosen.get(p) if chosen else None,
            obligation=tally.by_program.get(p, 0),
        )
        for p in programs
    )
    if not chosen or not any(line.allocated for line in lines):
        status = NO_BUDGET
    elif any(line.gap for line in lines):
        status = SHORTFALL
    else:
        status = SUFFICIENT
    return BudgetCheck(
        government=government,
        fiscal_year=fiscal_year,
        status=status,
        lines=lines,
        workers=tally.workers,
        worker_months=tally.worker_months,
        allocation_source=source,
        allocations={
            "apbd": sum(feed.values()) if feed else None,
            "declared": sum(own.values()) if own else None,
        },
        disagreement=bool(feed and own and feed != own),
    )
