"""A fiscal year of contributions in bulk: the budget check's path over a million enrollments.

Rates become integers once per (year, programs, risk class), so one enrollment costs a few
integer multiplications per stretch of months with the same rates. The numbers equal the sum
of the monthly `contributions.quote`s (a property test holds them to it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from gateway.domain.contributions import (
    _NO_CEILING,
    PROGRAMS,
    ContributionError,
    ProgramRate,
    RateSchedule,
    check_programs,
    check_risk_class,
)


@dataclass(frozen=True, slots=True)
class AnnualObligation:
    employer: int
    worker: int
    other: int  # funded by neither (JKP)
    months: int  # months of the fiscal year the enrollment covers

    @property
    def total(self) -> int:
        return self.employer + self.worker


_NOTHING = AnnualObligation(0, 0, 0, 0)
# (employer, worker, other numerators, ceiling, minimum base, minimum employer amount)
_Term = tuple[int, int, int, int, int, int]


class YearRates:
    """One fiscal year's rates for (programs, risk class) as integers over a common scale.

    A share is `(base * numerator + scale // 2) // scale`: for a non-negative base this is
    exactly Decimal's ROUND_HALF_UP of base x rate, with no Decimal in the loop. Months with the
    same rates form one segment, so an enrollment costs a few multiplications per segment.
    """

    __slots__ = ("_half", "_scale", "_segments", "programs", "risk_class", "year")

    def __init__(self, schedule: RateSchedule, year: int, programs: Iterable[str],
                 risk_class: int) -> None:
        self.year = year
        self.programs = check_programs(programs)
        self.risk_class = check_risk_class(risk_class)
        months: list[tuple[Any, ...]] = []
        for number in range(1, 13):
            try:
                table = schedule.in_force(date(year, number, 1))
                rows = tuple((table.rate(p, risk_class), table.ceiling(p))
                             for p in PROGRAMS if p in self.programs)
                age = table.pension_age.age if table.pension_age else None
                months.append((rows, age, None))
            except ContributionError as exc:  # raised only if an enrollment covers the month
                months.append(((), None, exc))
        exponents = [-value.as_tuple().exponent for rows, _, _ in months for rate, _ in rows
                     for value in (rate.employer, rate.worker, rate.other)]
        self._scale = 10 ** max([0, *exponents])
        self._half = self._scale // 2
        segments: list[list[Any]] = []
        for number, (rows, age, error) in enumerate(months, start=1):
            terms = tuple(self._term(r, c) for r, c in rows if r.program != "jp")
            jp = next((self._term(r, c) for r, c in rows if r.program == "jp"), None)
            spec = [terms, (*terms, jp) if jp else terms, jp, age, error]
            if segments and segments[-1][2:] == spec:
                segments[-1][1] = number
            else:
                segments.append([number, number, *spec])
        self._segments = tuple(tuple(s) for s in segments)

    def _term(self, rate: ProgramRate, ceiling: int | None) -> _Term:
        scale = self._scale
        return (int(rate.employer * scale), int(rate.worker * scale), int(rate.other * scale),
                _NO_CEILING if ceiling is None else ceiling, rate.minimum_base, rate.minimum)

    def obligation(self, wage: int, start_date: date, end_date: date | None = None,
                   birth_date: date | None = None) -> AnnualObligation:
        """The sum of the monthly contributions for the months of the year enrolled.

        A month counts when the enrollment covers any day of it: contributions are whole-month
        amounts (no pro-rata), so a worker starting on the 20th costs that full month.
        """
        if type(wage) is not int or wage <= 0:
            raise ContributionError("wage_not_positive", value=wage)
        if end_date is not None and end_date < start_date:
            raise ContributionError("dates_reversed", start=start_date, end=end_date)
        year = self.year
        first = 1 if start_date.year < year else start_date.month if start_date.year == year else 13
        last = 12 if end_date is None or end_date.year > year else (
            end_date.month if end_date.year == year else 0)
        if first > last:
            return _NOTHING
        scale, half = self._scale, self._half
        employer = worker = other = 0
        for seg_first, seg_last, terms, with_jp, jp, pension_age, error in self._segments:
            lo = first if first > seg_first else seg_first
            hi = last if last < seg_last else seg_last
            if lo > hi:
                continue
            if error is not None:
                raise error
            months = hi - lo + 1
            if jp is not None:
                jp_months = months if birth_date is None else self._jp_months(
                    birth_date, lo, hi, pension_age)
                if jp_months == months:
                    terms = with_jp
                if 0 < jp_months < months:  # reaches pension age inside this segment
                    e, w, o = self._month(wage, (jp,), scale, half)
                    employer, worker, other = (employer + e * jp_months, worker + w * jp_months,
                                               other + o * jp_months)
            e, w, o = self._month(wage, terms, scale, half)
            employer, worker, other = (employer + e * months, worker + w * months,
                                       other + o * months)
        return AnnualObligation(employer, worker, other, last - first + 1)

    @staticmethod
    def _month(wage: int, terms: tuple[_Term, ...], scale: int,
               half: int) -> tuple[int, int, int]:
        employer = worker = other = 0
        for employer_num, worker_num, other_num, ceiling, minimum_base, minimum in terms:
            base = wage if wage < ceiling else ceiling
            if base < minimum_base:
                base = minimum_base
            amount = (base * employer_num + half) // scale
            employer += amount if amount > minimum else minimum
            if worker_num:
                worker += (base * worker_num + half) // scale
            if other_num:
                other += (base * other_num + half) // scale
        return employer, worker, other

    def _jp_months(self, birth_date: date, lo: int, hi: int, pension_age: int | None) -> int:
        """How many months lo..hi the worker is below pension age on the 1st."""
        if pension_age is None:
            raise ContributionError("not_in_force", what_id="usia pensiun JP",
                                    what_en="JP pension age", month=f"{self.year}-{lo:02d}")
        oldest = self.year - birth_date.year  # the age after this year's birthday
        if oldest < pension_age:
            return hi - lo + 1
        if oldest > pension_age:
            return 0
        # Reaches the pension age this year: still below it on the 1st of month m while the
        # birthday is later than that 1st (same rule as `age_on`).
        cutoff = birth_date.month + (birth_date.day > 1)  # first month at pension age
        return max(0, min(hi, cutoff - 1) - lo + 1)


def year_rates(schedule: RateSchedule, fiscal_year: int, programs: Iterable[str],
               risk_class: int) -> YearRates:
    """The integer rates of a fiscal year, built once per (year, programs, class) and kept
    on the schedule."""
    chosen = programs if isinstance(programs, frozenset) else frozenset(programs)
    key = (fiscal_year, chosen, risk_class)
    found = schedule._years.get(key)
    if found is None:
        found = schedule._years[key] = YearRates(schedule, fiscal_year, chosen, risk_class)
    return found


def annual_obligation(wage: int, fiscal_year: int, start_date: date, end_date: date | None,
                      programs: Iterable[str], risk_class: int = 1,
                      birth_date: date | None = None, *,
                      schedule: RateSchedule) -> AnnualObligation:
    """A worker's contributions over the months of `fiscal_year` they are enrolled.

    Same numbers as summing `quote` month by month. For many enrollments, this reuses the
    schedule's cached `YearRates`; holding `year_rates(schedule, ...)` saves the lookup too.
    """
    return year_rates(schedule, fiscal_year, programs, risk_class).obligation(
        wage, start_date, end_date, birth_date)
