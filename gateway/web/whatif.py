"""The budget page's what-if (issue 21): "if wages rise 10 %, the minimum wage becomes Rp X,
and we employ N workers, is the allocation still enough?", answered beside the real check
and written nowhere.

Wages go through the budget check's own `WageScenario` (budget/check.py; the API's
`what_if_raise` / `what_if_min_wage` and `jamsos budget check --what-if-*` are the same
numbers), so the what-if is the check itself run again over the registry with other wages.
A headcount scales the obligation of each program by N / the workers costing anything in
the year: the average worker's cost, times N. The allocation compared with is the recorded
one (the APBD feed's, else the declared one), read, never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING

from gateway.budget.check import WageScenario, allocations, check_budget
from gateway.budget.rates import load_packages, load_schedule
from gateway.domain.budget import BudgetCheck, ObligationTally, assess
from gateway.web.i18n import tr

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import Engine

MAX_HEADCOUNT = 10_000_000
MAX_WAGE = 1_000_000_000


class WhatIfError(ValueError):
    """A what-if field that is not a number in range; the message in the page's language."""


@dataclass(frozen=True)
class WhatIf:
    raise_percent: Decimal | None = None
    minimum_wage: int | None = None
    headcount: int | None = None

    @property
    def asked(self) -> bool:
        return any(v is not None for v in (self.raise_percent, self.minimum_wage,
                                           self.headcount))  # fmt: skip

    @property
    def scenario(self) -> WageScenario | None:
        if self.raise_percent is None and self.minimum_wage is None:
            return None
        return WageScenario(raise_percent=self.raise_percent or Decimal(0),
                            minimum_wage=self.minimum_wage or 0)


def _number(text: str) -> str:
    """Digits as people type them on an Indonesian page: "3.500.000", "Rp 3.500.000"."""
    return text.strip().removeprefix("Rp").strip().replace(" ", "")


def parse_what_if(args: Mapping[str, str]) -> WhatIf:
    """The form's fields (`what_if_raise`, `what_if_min_wage`, `what_if_headcount`); an
    empty field is not asked. Raises WhatIfError."""
    raw = {k: (args.get(k) or "").strip() for k in
           ("what_if_raise", "what_if_min_wage", "what_if_headcount")}  # fmt: skip
    raise_percent = minimum = headcount = None
    if raw["what_if_raise"]:
        try:
            raise_percent = Decimal(_number(raw["what_if_raise"]).replace(",", "."))
        except InvalidOperation:
            raise_percent = None
        if raise_percent is None or not raise_percent.is_finite() or not (
                0 <= raise_percent <= 1000):
            raise WhatIfError(tr("Kenaikan upah harus angka 0 sampai 1000 (persen), mis. 6,5.",
                                 "The wage rise must be a number from 0 to 1000 (percent), "
                                 "e.g. 6.5."))
    if raw["what_if_min_wage"]:
        minimum = _whole(raw["what_if_min_wage"], 1, MAX_WAGE, tr(
            "Upah minimum harus rupiah bulat 1 sampai 1.000.000.000, mis. 3.500.000.",
            "The minimum wage must be whole rupiah from 1 to 1,000,000,000, e.g. 3,500,000."))
    if raw["what_if_headcount"]:
        headcount = _whole(raw["what_if_headcount"], 0, MAX_HEADCOUNT, tr(
            "Jumlah pekerja harus bilangan bulat 0 sampai 10.000.000.",
            "The headcount must be a whole number from 0 to 10,000,000."))
    return WhatIf(raise_percent, minimum, headcount)


def _whole(text: str, low: int, high: int, message: str) -> int:
    digits = _number(text).replace(".", "").replace(",", "")
    if not digits.isascii() or not digits.isdigit() or not low <= int(digits) <= high:
        raise WhatIfError(message)
    return int(digits)


def run_what_if(engine: Engine, government: str, year: int, base: BudgetCheck,
                what: WhatIf) -> BudgetCheck:
    """The check as it would be under `what`: nothing is written. Raises RatesNotInForce as
    the check does."""
    check = base
    if what.scenario is not None:
        check = check_budget(engine, government, year, schedule=load_schedule(),
                             packages=load_packages(), scenario=what.scenario)
    if what.headcount is None:
        return check
    if not check.workers and what.headcount:
        raise WhatIfError(tr(
            "Belum ada pekerja yang menimbulkan kewajiban tahun ini, jadi biaya rata-rata per "
            "pekerja tidak diketahui: kosongkan jumlah pekerja.",
            "No worker costs anything this year yet, so the cost of an average worker is "
            "unknown: leave the headcount empty."))
    share = Fraction(what.headcount, check.workers) if check.workers else Fraction(0)
    tally = ObligationTally(
        by_program={line.program: _round(line.obligation * share) for line in check.lines
                    if line.obligation},
        workers=what.headcount,
        worker_months=_round(check.worker_months * share),
    )
    found = allocations(engine, government, year)
    return assess(government, year, tally, found.get("apbd"), found.get("declared"))


def _round(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))
