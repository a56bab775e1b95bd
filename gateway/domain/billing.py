"""Bills and payments of BPJS contributions, month by month (docs/domain.md §7, docs/reconcile.md).

The rules, as BPJS's rulebook states them (verified unless said otherwise):

- A month's contributions are **due on the 15th of the next month**; when that day is not a
  working day (a Saturday, a Sunday or a public holiday), on the next working day.
- **Payments apply to the oldest unpaid month first**: they must be complete and in month
  order, and a shortfall is taken from the next payment. What is left over after every bill
  is a credit for the next bill.
- **Late charge** (seen, press quoting the regulation): 2 % a month of what was paid late, for
  each month or part of a month it was late, for "employers other than state bodies". Whether
  it applies to governments is unverified, so `late_rate` is given per employer kind by
  configuration and is off (None) for state bodies by default.
- **BPU and pekerja rentan**: no late charge; after 2 months unpaid a warning, after 3 the
  membership lapses, and a later payment counts as a new registration from the month it is
  paid, not as paying the lapsed months.

Everything is whole Rupiah (int); the charge is rounded half up, as contributions are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal


def month_start(month: str) -> date:
    """'2026-03' -> 2026-03-01."""
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def working_day_on_or_after(day: date, holidays: Iterable[date] = ()) -> date:
    off = set(holidays)
    while day.weekday() >= 5 or day in off:
        day += timedelta(days=1)
    return day


def due_date(month: str, holidays: Iterable[date] = ()) -> date:
    """When the contributions of `month` ('YYYY-MM') are due: the 15th of the next month, or
    the next working day."""
    following = next_month(month_start(month))
    return working_day_on_or_after(following.replace(day=15), holidays)


def months_late(due: date, paid_on: date) -> int:
    """Months or parts of months from `due` to `paid_on` (0 when paid on time)."""
    if paid_on <= due:
        return 0
    months = (paid_on.year - due.year) * 12 + paid_on.month - due.month
    if paid_on.day > due.day:
        months += 1
    return max(months, 1)


def late_charge(amount: int, due: date, paid_on: date, rate: Decimal | None) -> int:
    if rate is None or amount <= 0:
        return 0
    charge = Decimal(amount) * rate * months_late(due, paid_on)
    return int(charge.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Bill:
    month: str  # 'YYYY-MM'
    amount: int  # the total billed for the month, whole Rupiah
    code: str = ""  # the payment code (kode iuran)
    due: date | None = None  # given by the bill; else computed with due_date()


@dataclass(frozen=True)
class Payment:
    paid_on: date
    amount: int
    reference: str = ""
    code: str = ""


@dataclass
class MonthAccount:
    """One billed month after the payments: what was paid, when, late and owed."""

    month: str
    billed: int
    due: date
    paid: int = 0
    paid_on: date | None = None  # when it was paid in full
    late_charge: int = 0
    # parts paid after the due date: (amount, date), for the charge
    late_parts: list[tuple[int, date]] = field(default_factory=list)
    lapsed: bool = False  # BPU/rentan: membership ended unpaid; payments no longer reach it

    @property
    def outstanding(self) -> int:
        return max(self.billed - self.paid, 0)

    def status(self, today: date) -> str:
        """paid | paid_late | underpaid | unpaid | not_due | lapsed."""
        if self.lapsed:
            return "lapsed"
        if self.outstanding == 0:
            return "paid_late" if self.late_parts else "paid"
        if today <= self.due:
            return "not_due"
        return "underpaid" if self.paid else "unpaid"

    def days_overdue(self, today: date) -> int:
        """Days past the due date until paid in full (or until `today` while unpaid)."""
        end = self.paid_on if self.outstanding == 0 and self.paid_on else today
        return max((end - self.due).days, 0)


@dataclass
class Ledger:
    """An employer's (or a wadah's) months after applying its payments."""

    months: list[MonthAccount]
    credit: int = 0  # paid beyond every bill: carried to the next
    warnings: list[str] = field(default_factory=list)  # months at which 2 were unpaid
    lapsed_from: str | None = None  # BPU/rentan: the month membership ended
    new_registration: date | None = None  # a payment after the lapse: cover starts again

    @property
    def billed(self) -> int:
        return sum(m.billed for m in self.months)

    @property
    def paid(self) -> int:
        return sum(m.paid for m in self.months)

    @property
    def late_charges(self) -> int:
        return sum(m.late_charge for m in self.months)

    def month(self, month: str) -> MonthAccount:
        return next(m for m in self.months if m.month == month)


def reconcile(bills: Sequence[Bill], payments: Sequence[Payment], *, today: date,
              holidays: Iterable[date] = (), late_rate: Decimal | None = None,
              lapse_after: int | None = None) -> Ledger:  # fmt: skip
    """Apply payments, oldest month first, to the bills; charge lateness at `late_rate` a month
    (None: no charge); with `lapse_after` (3 for BPU and pekerja rentan), end membership once
    that many months are past due and unpaid: a warning one month before."""
    holidays = tuple(holidays)
    months = [MonthAccount(b.month, b.amount, b.due or due_date(b.month, holidays))
              for b in sorted(bills, key=lambda b: b.month)]  # fmt: skip
    ledger = Ledger(months)
    pending = sorted(payments, key=lambda p: (p.paid_on, p.reference))
    for payment in pending:
        _check_lapse(ledger, payment.paid_on, lapse_after)
        if ledger.lapsed_from is not None:
            # A payment after the lapse is a new registration from its month (docs/domain.md
            # §7): it pays nothing of before.
            ledger.new_registration = ledger.new_registration or payment.paid_on
            ledger.credit += payment.amount
            continue
        left = payment.amount
        for account in ledger.months:
            if left == 0:
                break
            if account.outstanding == 0 or account.lapsed:
                continue
            part = min(left, account.outstanding)
            account.paid += part
            left -= part
            if payment.paid_on > account.due:
                account.late_parts.append((part, payment.paid_on))
            if account.outstanding == 0:
                account.paid_on = payment.paid_on
        ledger.credit += left
    _check_lapse(ledger, today, lapse_after)
    for account in ledger.months:
        late = list(account.late_parts)
        if account.outstanding and today > account.due and not account.lapsed:
            late.append((account.outstanding, today))  # still owed: the charge runs on
        account.late_charge = sum(late_charge(amount, account.due, on, late_rate)
                                  for amount, on in late)  # fmt: skip
    return ledger


def _check_lapse(ledger: Ledger, day: date, lapse_after: int | None) -> None:
    """BPU/rentan: count the months past due and unpaid by `day`, oldest first."""
    if lapse_after is None or ledger.lapsed_from is not None:
        return
    unpaid = [m for m in ledger.months if m.outstanding and m.due < day]
    if len(unpaid) >= lapse_after - 1:
        warned = unpaid[lapse_after - 2].month
        if warned not in ledger.warnings:
            ledger.warnings.append(warned)
    if len(unpaid) >= lapse_after:
        ledger.lapsed_from = unpaid[lapse_after - 1].month
        for account in ledger.months:
            if account.month >= unpaid[0].month and account.outstanding:
                account.lapsed = True
