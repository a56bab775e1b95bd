"""Billing reconciliation per employer and month: expected, billed, paid (docs/reconcile.md).

- **Expected** is the budget check's arithmetic (gateway/budget/check.py: the same rate
  tables, packages and `YearRates.obligation`) over the registry as it stood each month
  (gateway/budget/periods.py), for the workers the employer mapping gives the NPP. It is the
  whole contribution (employer and worker shares): what BPJS bills the employer.
- **Billed** is BPJS's bill for the NPP and month (the bills feed).
- **Paid** is what the payments (matched by payment code) gave the month, oldest month first
  (gateway/domain/billing.py); with the due date, days overdue and the late charge the
  employer kind owes, and for a wadah of pekerja rentan the warning and the lapse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.budget.periods import enrolled_periods
from gateway.budget.rates import Packages, load_packages, load_schedule
from gateway.delivery.employers import EmployerRule, employer_for
from gateway.domain.billing import Bill, Ledger, Payment, reconcile
from gateway.domain.contributions import RateSchedule
from gateway.domain.obligations import year_rates
from gateway.reconcile.settings import ReconcileSettings
from gateway.store import bpjs_feeds

MONTHS = tuple(range(1, 13))


@dataclass
class EmployerMonth:
    npp: str
    month: str
    expected: int | None  # None: the NPP maps to no agency in the registry
    billed: int | None
    paid: int
    outstanding: int
    due: date | None
    status: str  # paid | paid_late | underpaid | unpaid | not_due | lapsed | not_billed
    days_overdue: int
    late_charge: int
    payment_code: str | None = None
    amounts: dict[str, int] = field(default_factory=dict)  # billed per program
    paid_by_program: dict[str, int] = field(default_factory=dict)

    @property
    def difference(self) -> int | None:
        """Billed minus expected: what to ask BPJS (or the roster) about."""
        if self.expected is None or self.billed is None:
            return None
        return self.billed - self.expected

    def as_dict(self) -> dict[str, Any]:
        return {"npp": self.npp, "month": self.month, "expected": self.expected,
                "billed": self.billed, "paid": self.paid, "outstanding": self.outstanding,
                "difference": self.difference, "due_date": self.due.isoformat()
                if self.due else None, "status": self.status,
                "days_overdue": self.days_overdue, "late_charge": self.late_charge,
                "payment_code": self.payment_code, "amounts": self.amounts,
                "paid_by_program": self.paid_by_program}  # fmt: skip


def ledgers(engine: Any, rules: Sequence[EmployerRule], settings: ReconcileSettings,
            today: date, npps: Iterable[str] | None = None) -> dict[str, tuple[Ledger, list]]:
    """Each NPP's ledger (bills with the payments applied), with its bills' rows."""
    bills = bpjs_feeds.bills_of(engine, sorted(npps) if npps is not None else None)
    by_npp: dict[str, list[dict]] = {}
    for b in bills:
        by_npp.setdefault(b["npp"], []).append(b)
    codes = {b["payment_code"]: b["npp"] for b in bills}
    paid: dict[str, list[Payment]] = {}
    for p in bpjs_feeds.payments_of(engine, sorted(codes)):
        paid.setdefault(codes[p["payment_code"]], []).append(
            Payment(p["paid_on"], p["amount"], p["reference"], p["payment_code"]))
    kinds = {r.npp: r.kind for r in rules}
    out = {}
    for npp, rows in by_npp.items():
        years = range(min(int(r["month"][:4]) for r in rows), today.year + 2)
        kind = kinds.get(npp, "npp")
        ledger = reconcile(
            [Bill(r["month"], r["total"], r["payment_code"], r["due_date"]) for r in rows],
            paid.get(npp, []), today=today, holidays=settings.holidays_for(years),
            late_rate=settings.late_rate(kind), lapse_after=settings.lapse(kind),
        )  # fmt: skip
        out[npp] = (ledger, rows)
    return out


def expected_by_month(engine: Any, rule: EmployerRule, rules: Sequence[EmployerRule],
                      fiscal_year: int, *, schedule: RateSchedule | None = None,
                      packages: Packages | None = None) -> dict[str, int]:  # fmt: skip
    """The whole contribution the registry calls for, per month of the year, for the workers
    of `rule`'s NPP (its agency's enrollments whose work unit the rule takes)."""
    schedule = schedule or load_schedule()
    packages = packages or load_packages()
    own = [r for r in rules if r.agency == rule.agency]

    def takes(unit: str | None) -> bool:
        chosen = employer_for(own, rule.agency, unit)
        return isinstance(chosen, EmployerRule) and chosen.id == rule.id

    only_one = len(own) == 1 and own[0].work_unit is None
    totals = dict.fromkeys(MONTHS, 0)
    rates: dict[tuple[str, int], Any] = {}
    for birth, periods in enrolled_periods(engine, rule.agency, fiscal_year,
                                           unit_filter=None if only_one else takes):
        for wage, category, position, start, end in periods:
            if end is not None and end < start:
                continue
            programs = packages.programs_for(category, rule.agency)
            risk = packages.risk_class_for(rule.agency, position)
            for number in MONTHS:
                first = date(fiscal_year, number, 1)
                last = date(fiscal_year + (number == 12), number % 12 + 1, 1)
                if start >= last or (end is not None and end < first):
                    continue
                for program in programs:
                    in_year = rates.get((program, risk))
                    if in_year is None:
                        in_year = rates[(program, risk)] = year_rates(
                            schedule, fiscal_year, frozenset({program}), risk)
                    month_end = date.fromordinal(last.toordinal() - 1)
                    cost = in_year.obligation(wage, max(start, first), min(end or month_end,
                                                                          month_end), birth)
                    totals[number] += cost.total
    return {f"{fiscal_year}-{n:02d}": v for n, v in totals.items()}


def employer_months(engine: Any, rule: EmployerRule, rules: Sequence[EmployerRule],
                    settings: ReconcileSettings, fiscal_year: int, today: date,
                    found: dict[str, tuple[Ledger, list]] | None = None,
                    ) -> list[EmployerMonth]:  # fmt: skip
    """Expected, billed and paid for each month of the year up to this one."""
    found = found if found is not None else ledgers(engine, rules, settings, today, [rule.npp])
    ledger, bills = found.get(rule.npp, (None, []))
    billed = {b["month"]: b for b in bills}
    expected = expected_by_month(engine, rule, rules, fiscal_year)
    out = []
    for month, amount in expected.items():
        if month > today.strftime("%Y-%m"):
            break
        bill = billed.get(month)
        if ledger is None or bill is None:
            out.append(EmployerMonth(rule.npp, month, amount, None, 0, 0, None, "not_billed",
                                     0, 0))  # fmt: skip
            continue
        account = ledger.month(month)
        out.append(EmployerMonth(
            rule.npp, month, amount, account.billed, account.paid, account.outstanding,
            account.due, account.status(today), account.days_overdue(today),
            account.late_charge, bill["payment_code"], dict(bill["amounts"]),
            split_by_program(account.paid, dict(bill["amounts"]), account.billed)))  # fmt: skip
    return out


def split_by_program(paid: int, amounts: dict[str, int], billed: int) -> dict[str, int]:
    """What a month's payment paid of each program, in proportion to the bill, to the Rupiah
    (largest remainders get the Rupiah left by rounding down): BPJS's receipts do not split a
    payment by program."""
    if not amounts or billed <= 0 or paid <= 0:
        return {}
    shares = {p: divmod(paid * a, billed) for p, a in amounts.items()}
    out = {p: q for p, (q, _) in shares.items()}
    left = paid - sum(out.values())
    for p in sorted(shares, key=lambda p: (-shares[p][1], p))[:left]:
        out[p] += 1
    return out


def paid_this_year(engine: Any, government: str, fiscal_year: int, settings: ReconcileSettings,
                   today: date) -> dict[str, Any]:  # fmt: skip
    """What the government's NPPs paid BPJS for the months of `fiscal_year` so far, per
    program (the budget check shows it beside allocation and obligation): total, by program,
    and whether any bill of the year was received at all."""
    from gateway.store.employers import list_employers

    rules = [EmployerRule(**r) for r in list_employers(engine, agency=government)]
    found = ledgers(engine, rules, settings, today, [r.npp for r in rules]) if rules else {}
    by_program: dict[str, int] = {}
    billed = 0
    for ledger, bills in found.values():
        amounts = {b["month"]: dict(b["amounts"]) for b in bills}
        for account in ledger.months:
            if not account.month.startswith(f"{fiscal_year}-"):
                continue
            billed += account.billed
            for program, n in split_by_program(account.paid, amounts.get(account.month, {}),
                                               account.billed).items():  # fmt: skip
                by_program[program] = by_program.get(program, 0) + n
    return {"total": sum(by_program.values()), "by_program": by_program, "billed": billed,
            "bills_received": bool(billed)}  # fmt: skip


def budget_paid(check: Any, paid: dict[str, Any]) -> dict[str, Any]:
    """Beside a budget check: paid so far, left to pay of the year's obligation, the
    allocation left, and whether it lasts (what is left of it pays what is left to pay)."""
    left_to_pay = max(check.obligation - paid["total"], 0)
    allocation_left = max(check.allocated - paid["total"], 0)
    return {**paid, "left_to_pay": left_to_pay, "allocation_left": allocation_left,
            "lasts": allocation_left >= left_to_pay}  # fmt: skip
