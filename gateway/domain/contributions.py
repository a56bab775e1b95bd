"""Contributions: what a month (or a fiscal year) of BPJS Ketenagakerjaan cover costs.

Pure: rates come in as a `RateSchedule`, which `gateway.budget.rates` builds from
config/rates/*.toml. Money is int Rupiah and rates are `Decimal`, never float. Each program's
employer and worker shares are computed separately and each is rounded half-up to the whole
Rupiah (docs/domain.md §2).

Two paths, same numbers (the tests hold them to it):
- `quote` / `bpu_quote`: one month, each line with its rate, base and regulation, for people.
- `YearRates` / `annual_obligation`: a fiscal year, for the budget check over a million
  enrollments. Rates become integers once per (year, programs, risk class), so one enrollment
  costs a few integer multiplications per stretch of months with the same rates.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from gateway.domain.obligations import YearRates

WAGE_PROGRAMS = ("jkk", "jkm", "jht", "jp", "jkp")  # wage earners (Penerima Upah)
BPU_PROGRAMS = ("bpu_jkk", "bpu_jkm", "bpu_jht")  # non-wage earners, incl. pekerja rentan
PROGRAMS = WAGE_PROGRAMS + BPU_PROGRAMS  # also the order a quote lists them in
RISK_CLASSES = (1, 2, 3, 4, 5)
BPU_PACKAGE = frozenset({"bpu_jkk", "bpu_jkm"})  # the Rp 16,800 pekerja rentan package

_ZERO = Decimal(0)
_ONE = Decimal(1)
_NO_CEILING = sys.maxsize  # no wage is this high: "no ceiling" without a branch in the hot loop

_MESSAGES: dict[str, tuple[str, str]] = {
    "wage_not_positive": (
        "Upah harus bilangan bulat Rupiah lebih dari 0 (diberikan: {value}).",
        "The wage must be a whole number of Rupiah above 0 (got {value}).",
    ),
    "risk_class_invalid": (
        "Kelas risiko JKK harus 1 sampai 5 (diberikan: {value}).",
        "The JKK risk class must be 1 to 5 (got {value}).",
    ),
    "program_unknown": (
        "Program tidak dikenal: {value}. Pilihan: {allowed}.",
        "Unknown program: {value}. Choose from: {allowed}.",
    ),
    "programs_empty": ("Pilih paling sedikit satu program.", "Choose at least one program."),
    "programs_mixed": (
        "Program penerima upah dan program BPU tidak dapat digabung: {value}.",
        "Wage-earner and BPU programs cannot be combined: {value}.",
    ),
    "not_in_force": (
        "Tidak ada {what_id} yang berlaku untuk bulan {month}.",
        "No {what_en} is in force for {month}.",
    ),
    "dates_reversed": (
        "Tanggal berakhir ({end}) sebelum tanggal mulai ({start}).",
        "The end date ({end}) is before the start date ({start}).",
    ),
}


class ContributionError(ValueError):
    """Input no contribution can be computed for: a stable `code` and both languages."""

    def __init__(self, code: str, **params: object) -> None:
        message_id, message_en = _MESSAGES[code]
        self.code = code
        self.message_id = message_id.format(**params)
        self.message_en = message_en.format(**params)
        super().__init__(f"{self.message_id} / {self.message_en}")


def reference_day(month: date) -> date:
    """The day whose rates a month's contribution uses: the FIRST day of that month.

    Why the first and not the last: a regulation binds from its effective date, not before, so
    charging all of February 2025 at the JKP rate that starts on 7 February would apply it to
    six days it did not yet govern; and a month's contribution is one whole-month amount (no
    pro-rata), so it is fixed when the month begins and a budget or invoice can be known in
    advance. Changes on the 1st (the JP ceiling each March, pension ages each January) are the
    same either way. Hence JKP is 0.46 % for February 2025 and 0.36 % from March 2025.
    """
    return month.replace(day=1)


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on `day` (someone born on 29 February ages on 1 March)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


# --- rate tables ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProgramRate:
    """One program's rates from `effective_from` on, as one regulation sets them.

    Shares are fractions of the base: the wage, capped by the program's ceiling (JP), and never
    below `minimum_base` (BPU declared income). `minimum` is the least employer-share amount (a
    flat amount is a zero rate with a minimum: BPU JKM). `other` is funded by neither employer
    nor worker (JKP: central government and recomposition) and never added to their totals.
    """

    program: str
    effective_from: date
    regulation: str
    employer: Decimal = _ZERO
    worker: Decimal = _ZERO
    other: Decimal = _ZERO
    risk_class: int | None = None  # JKK only
    minimum: int = 0
    minimum_base: int = 0
    source: str = ""

    @property
    def rate(self) -> Decimal:
        return self.employer + self.worker + self.other

    @property
    def key(self) -> str:
        return rate_key(self.program, self.risk_class)


@dataclass(frozen=True, slots=True)
class WageCeiling:
    """The JP wage ceiling (batas atas upah) from `effective_from` (each 1 March)."""

    effective_from: date
    amount: int
    regulation: str
    derived: bool = False  # computed from the PP 45/2015 formula, not seen in a BPJS statement
    source: str = ""


@dataclass(frozen=True, slots=True)
class PensionAge:
    """JP pension age from `effective_from`: a worker at or past it is not enrolled in JP."""

    effective_from: date
    age: int
    regulation: str
    source: str = ""


def rate_key(program: str, risk_class: int | None = None) -> str:
    """The timeline a rate belongs to: one per program, one per risk class for JKK."""
    return f"jkk.{risk_class}" if program == "jkk" else program


_Row = TypeVar("_Row", ProgramRate, WageCeiling, PensionAge)


def _latest(rows: tuple[_Row, ...], day: date) -> _Row | None:
    for row in reversed(rows):  # rows are sorted; a handful per timeline
        if row.effective_from <= day:
            return row
    return None


@dataclass(frozen=True, slots=True)
class RateTable:
    """Everything in force for one month (on its `reference_day`)."""

    month: date
    rates: Mapping[str, ProgramRate]
    jp_ceiling: WageCeiling | None
    pension_age: PensionAge | None

    def rate(self, program: str, risk_class: int = 1) -> ProgramRate:
        found = self.rates.get(rate_key(program, risk_class))
        if found is None:
            raise ContributionError("not_in_force", what_id=f"tarif {program.upper()}",
                                    what_en=f"{program.upper()} rate", month=f"{self.month:%Y-%m}")
        return found

    def ceiling(self, program: str) -> int | None:
        """The wage cap of `program` this month (JP only), None when uncapped."""
        if program != "jp":
            return None
        if self.jp_ceiling is None:
            raise ContributionError("not_in_force", what_id="batas upah JP",
                                    what_en="JP wage ceiling", month=f"{self.month:%Y-%m}")
        return self.jp_ceiling.amount

    def pension(self) -> int:
        if self.pension_age is None:
            raise ContributionError("not_in_force", what_id="usia pensiun JP",
                                    what_en="JP pension age", month=f"{self.month:%Y-%m}")
        return self.pension_age.age


@dataclass(frozen=True)
class RateSchedule:
    """All effective-dated rows; `in_force(month)` picks the ones a month uses."""

    rates: tuple[ProgramRate, ...]
    jp_ceilings: tuple[WageCeiling, ...] = ()
    pension_ages: tuple[PensionAge, ...] = ()
    _timelines: dict[str, tuple[ProgramRate, ...]] = field(init=False, repr=False, compare=False)
    _tables: dict[date, RateTable] = field(default_factory=dict, init=False, repr=False,
                                           compare=False)
    # The integer rates of a fiscal year, built once (gateway.domain.obligations.year_rates).
    _years: dict[tuple[int, frozenset[str], int], YearRates] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_date = lambda row: row.effective_from  # noqa: E731
        timelines: dict[str, list[ProgramRate]] = {}
        for row in sorted(self.rates, key=by_date):
            timelines.setdefault(row.key, []).append(row)
        for rows in (*timelines.values(), self.jp_ceilings, self.pension_ages):
            dates = [row.effective_from for row in rows]
            if len(set(dates)) != len(dates):  # two rows from one day: which one wins?
                raise ValueError(f"two rows take effect on the same day: {rows}")
        object.__setattr__(self, "_timelines", {k: tuple(v) for k, v in timelines.items()})
        object.__setattr__(self, "jp_ceilings", tuple(sorted(self.jp_ceilings, key=by_date)))
        object.__setattr__(self, "pension_ages", tuple(sorted(self.pension_ages, key=by_date)))

    def in_force(self, month: date) -> RateTable:
        """The rates for `month` (any day of it): those in force on its `reference_day`."""
        day = reference_day(month)
        table = self._tables.get(day)
        if table is None:
            rates = {key: row for key, rows in self._timelines.items()
                     if (row := _latest(rows, day)) is not None}
            table = RateTable(day, rates, _latest(self.jp_ceilings, day),
                              _latest(self.pension_ages, day))
            self._tables[day] = table
        return table


# --- checks -----------------------------------------------------------------------------------
def check_wage(wage: object) -> int:
    if type(wage) is not int or wage <= 0:  # bool is an int subclass: refused by `type is`
        raise ContributionError("wage_not_positive", value=wage)
    return wage


def check_risk_class(risk_class: object) -> int:
    if type(risk_class) is not int or risk_class not in RISK_CLASSES:
        raise ContributionError("risk_class_invalid", value=risk_class)
    return risk_class


def check_programs(programs: Iterable[str]) -> frozenset[str]:
    """Program names, lower-cased; wage-earner and BPU programs never in one set."""
    chosen = frozenset(name.strip().lower() for name in programs)
    unknown = sorted(chosen.difference(PROGRAMS))
    if unknown:
        raise ContributionError("program_unknown", value=", ".join(unknown),
                                allowed=", ".join(PROGRAMS))
    if not chosen:
        raise ContributionError("programs_empty")
    if chosen.intersection(BPU_PROGRAMS) and chosen.difference(BPU_PROGRAMS):
        raise ContributionError("programs_mixed", value=", ".join(sorted(chosen)))
    return chosen


# --- one month --------------------------------------------------------------------------------
def _share(base: int, rate: Decimal) -> int:
    return int((base * rate).quantize(_ONE, rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class QuoteLine:
    program: str
    base: int  # the wage (or declared income) the rates were applied to
    employer: int
    worker: int
    other: int  # funded by neither (JKP): for information
    rate: ProgramRate

    @property
    def total(self) -> int:
        return self.employer + self.worker

    def as_dict(self) -> dict[str, Any]:
        rate = self.rate
        out: dict[str, Any] = {
            "employer": self.employer, "worker": self.worker, "total": self.total,
            "rate": str(rate.rate), "employer_rate": str(rate.employer),
            "worker_rate": str(rate.worker), "base": self.base, "regulation": rate.regulation,
            "effective_from": rate.effective_from.isoformat(),
        }
        if rate.other:
            out.update(other=self.other, other_rate=str(rate.other))
        if rate.risk_class is not None:
            out["risk_class"] = rate.risk_class
        if rate.minimum:
            out["minimum"] = rate.minimum
        return out


@dataclass(frozen=True, slots=True)
class SkippedProgram:
    """A program asked for but not charged this month, and why."""

    program: str
    code: str
    message_id: str
    message_en: str


@dataclass(frozen=True, slots=True)
class Quote:
    month: date  # the first of the month
    wage: int
    lines: tuple[QuoteLine, ...]
    skipped: tuple[SkippedProgram, ...] = ()
    jp_ceiling: WageCeiling | None = None  # when JP was asked for

    @property
    def employer(self) -> int:
        return sum(line.employer for line in self.lines)

    @property
    def worker(self) -> int:
        return sum(line.worker for line in self.lines)

    @property
    def other(self) -> int:
        return sum(line.other for line in self.lines)

    @property
    def total(self) -> int:
        return self.employer + self.worker

    def line(self, program: str) -> QuoteLine | None:
        return next((line for line in self.lines if line.program == program), None)

    def as_dict(self) -> dict[str, Any]:
        wage_base: dict[str, Any] = {"wage": self.wage}
        if self.jp_ceiling is not None:
            ceiling = self.jp_ceiling
            wage_base.update(jp_ceiling=ceiling.amount,
                             jp_ceiling_from=ceiling.effective_from.isoformat(),
                             jp_ceiling_derived=ceiling.derived,
                             jp_ceiling_regulation=ceiling.regulation)
        wage_base.update({line.program: line.base for line in self.lines})
        return {
            "month": f"{self.month:%Y-%m}",
            "programs": {line.program: line.as_dict() for line in self.lines},
            "employer": self.employer, "worker": self.worker, "total": self.total,
            "other": self.other, "wage_base": wage_base,
            "skipped": {s.program: {"code": s.code, "message_id": s.message_id,
                                    "message_en": s.message_en} for s in self.skipped},
        }


def quote(wage: int, month: date, programs: Iterable[str], risk_class: int = 1,
          birth_date: date | None = None, *, schedule: RateSchedule) -> Quote:
    """One month's contribution, program by program.

    JP's base is capped at the ceiling in force; with `birth_date`, JP is skipped (with the
    reason) for a worker at or past the pension age on the month's reference day. For BPU
    programs `wage` is the declared income and `risk_class` is not used.
    """
    check_wage(wage)
    chosen = check_programs(programs)
    check_risk_class(risk_class)
    table = schedule.in_force(month)
    lines: list[QuoteLine] = []
    skipped: list[SkippedProgram] = []
    for program in PROGRAMS:
        if program not in chosen:
            continue
        rate = table.rate(program, risk_class)
        ceiling = table.ceiling(program)
        if program == "jp" and birth_date is not None:
            age, pension = age_on(birth_date, table.month), table.pension()
            if age >= pension:
                regulation = table.pension_age.regulation if table.pension_age else ""
                skipped.append(SkippedProgram(
                    "jp", "pension_age",
                    f"JP tidak diikutkan: usia {age} tahun, sudah mencapai usia pensiun "
                    f"{pension} tahun ({regulation}).",
                    f"JP not charged: aged {age}, at or past the pension age of {pension} "
                    f"({regulation})."))
                continue
        base = max(wage if ceiling is None else min(wage, ceiling), rate.minimum_base)
        lines.append(QuoteLine(program, base, max(_share(base, rate.employer), rate.minimum),
                               _share(base, rate.worker), _share(base, rate.other), rate))
    return Quote(table.month, wage, tuple(lines), tuple(skipped),
                 table.jp_ceiling if "jp" in chosen else None)


def bpu_quote(declared_income: int, month: date, include_jht: bool = False, *,
              schedule: RateSchedule) -> Quote:
    """A BPU / pekerja rentan month: JKK + JKM (Rp 16,800 on Rp 1,000,000), JHT optional."""
    programs = BPU_PACKAGE | {"bpu_jht"} if include_jht else BPU_PACKAGE
    return quote(declared_income, month, programs, schedule=schedule)
