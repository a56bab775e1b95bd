"""Budget-allocation checks over the registry: obligation of enrolled workers vs allocation.

The arithmetic is in `domain/budget.py` and `domain/obligations.py`; this module streams the
enrollments, month by month as the registry held them (`periods.py`), and the
allocations through it, so a check over a million enrollments holds one row at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from gateway.budget.periods import Enrolled, enrolled_periods
from gateway.budget.rates import Packages
from gateway.domain.budget import BudgetCheck, ObligationTally, assess
from gateway.domain.contributions import BPU_PROGRAMS, ContributionError, RateSchedule
from gateway.domain.obligations import year_rates

# The store's reads, named here too: the CLI and the budget tests know them as budget.check's.
from gateway.store.budget import allocations, governments_with_data

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = [
    "RatesNotInForce",
    "WageScenario",
    "allocations",
    "check_budget",
    "governments_with_data",
    "tally_obligation",
]


@dataclass(frozen=True)
class WageScenario:
    """A what-if: wages raised by a percentage and/or up to a (new) minimum wage."""

    raise_percent: Decimal = Decimal(0)
    minimum_wage: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "raise_percent", Decimal(str(self.raise_percent)))

    def apply(self, wage: int) -> int:
        if self.raise_percent:
            wage = int(
                (Decimal(wage) * (1 + self.raise_percent / 100)).quantize(Decimal(1), ROUND_HALF_UP)
            )
        return max(wage, self.minimum_wage)

    def as_dict(self) -> dict[str, object]:
        return {"raise_percent": float(self.raise_percent), "minimum_wage": self.minimum_wage}


def tally_obligation(
    rows: Iterable[Enrolled],
    *,
    government: str,
    fiscal_year: int,
    schedule: RateSchedule,
    packages: Packages,
    scenario: WageScenario | None = None,
) -> ObligationTally:
    """Sum the employer share per program over each enrollment's periods of the year
    (`periods.py`: the facts the registry held, month by month)."""
    tally = ObligationTally()
    rates: dict[tuple[str, int], object] = {}
    for birth, periods in rows:
        costs: dict[str, int] = {}
        months = 0
        for wage, category, position, start, end in periods:
            if end is not None and end < start:
                continue  # ended before it began (a future TMT withdrawn): never cost anything
            programs = packages.programs_for(category, government)
            # A what-if moves wages; a pekerja rentan's base is the income they declared (BPU),
            # which a minimum wage or a pay rise does not touch.
            if scenario is not None and not any(p in BPU_PROGRAMS for p in programs):
                wage = scenario.apply(wage)
            risk = packages.risk_class_for(government, position)
            period_months = 0
            for program in programs:
                in_year = rates.get((program, risk))
                if in_year is None:
                    in_year = rates[(program, risk)] = year_rates(
                        schedule, fiscal_year, frozenset({program}), risk
                    )
                cost = in_year.obligation(wage, start, end, birth)  # type: ignore[attr-defined]
                costs[program] = costs.get(program, 0) + cost.employer
                period_months = max(period_months, cost.months)
            months += period_months
        tally.add(costs, months)
    return tally


class RatesNotInForce(ValueError):
    """A fiscal year the rate tables do not cover for some enrolled worker's months (e.g. 2015,
    before the JKK/JKM tables begin): its obligation cannot be computed. Both languages."""

    code = "rates_not_in_force"

    def __init__(self, fiscal_year: int, cause: ContributionError) -> None:
        self.message_id = (
            f"Kewajiban tahun anggaran {fiscal_year} tidak dapat dihitung: {cause.message_id} "
            "Tabel tarif (config/rates) belum mencakup bulan itu; pilih tahun lain atau "
            "tambahkan tarif yang berlaku saat itu."
        )
        self.message_en = (
            f"The obligation for fiscal year {fiscal_year} cannot be computed: "
            f"{cause.message_en} The rate tables (config/rates) do not reach back to that "
            "month; choose another year or add the rates then in force."
        )
        super().__init__(f"{self.message_id} / {self.message_en}")


def check_budget(
    engine: Engine,
    government: str,
    fiscal_year: int,
    *,
    schedule: RateSchedule,
    packages: Packages,
    scenario: WageScenario | None = None,
) -> BudgetCheck:
    """Raises RatesNotInForce when a worker's month in the year has no rate in the tables."""
    try:
        tally = tally_obligation(
            enrolled_periods(engine, government, fiscal_year),
            government=government,
            fiscal_year=fiscal_year,
            schedule=schedule,
            packages=packages,
            scenario=scenario,
        )
    except ContributionError as exc:
        if exc.code != "not_in_force":
            raise
        raise RatesNotInForce(fiscal_year, exc) from exc
    found = allocations(engine, government, fiscal_year)
    return assess(government, fiscal_year, tally, found.get("apbd"), found.get("declared"))
