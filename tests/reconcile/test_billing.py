"""Worked examples of bills and payments, to the Rupiah (docs/reconcile.md): the rules of
gateway/domain/billing.py as a clerk would check them by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.domain.billing import Bill, Payment, due_date, months_late, reconcile

TWO_PERCENT = Decimal("0.02")


def test_due_on_the_15th_of_the_next_month_or_the_next_working_day():
    assert due_date("2026-03") == date(2026, 4, 15)  # a Wednesday
    assert due_date("2026-01") == date(2026, 2, 16)  # 15 Feb 2026 is a Sunday
    # 15 Aug 2026 is a Saturday and Monday the 17th is Independence Day
    assert due_date("2026-07", holidays=[date(2026, 8, 17)]) == date(2026, 8, 18)
    assert due_date("2026-12") == date(2027, 1, 15)


def test_months_late_count_each_month_or_part_of_one():
    due = date(2026, 2, 16)
    assert months_late(due, date(2026, 2, 16)) == 0
    assert months_late(due, date(2026, 2, 17)) == 1
    assert months_late(due, date(2026, 3, 16)) == 1
    assert months_late(due, date(2026, 3, 17)) == 2


def test_a_month_billed_and_paid_exactly():
    ledger = reconcile([Bill("2026-01", 1_234_567)], [Payment(date(2026, 2, 10), 1_234_567)],
                       today=date(2026, 3, 1), late_rate=TWO_PERCENT)  # fmt: skip
    jan = ledger.month("2026-01")
    assert (jan.paid, jan.outstanding, jan.late_charge) == (1_234_567, 0, 0)
    assert jan.status(date(2026, 3, 1)) == "paid" and ledger.credit == 0


def test_underpaid_leaves_the_rest_owed_and_charged():
    today = date(2026, 3, 20)
    ledger = reconcile([Bill("2026-01", 1_234_567)], [Payment(date(2026, 2, 10), 1_000_000)],
                       today=today, late_rate=TWO_PERCENT)  # fmt: skip
    jan = ledger.month("2026-01")
    assert jan.outstanding == 234_567 and jan.status(today) == "underpaid"
    assert jan.days_overdue(today) == 32  # from 16 Feb
    # 234,567 x 2 % x 2 months (16 Feb - 20 Mar is one month and part of another) = 9,382.68
    assert jan.late_charge == 9_383
    state_body = reconcile([Bill("2026-01", 1_234_567)], [Payment(date(2026, 2, 10), 1_000_000)],
                           today=today, late_rate=None)  # fmt: skip
    assert state_body.month("2026-01").late_charge == 0  # off for state bodies by default


def test_paid_late_with_the_charge():
    ledger = reconcile([Bill("2026-01", 1_000_000)], [Payment(date(2026, 3, 2), 1_000_000)],
                       today=date(2026, 4, 1), late_rate=TWO_PERCENT)  # fmt: skip
    jan = ledger.month("2026-01")
    assert jan.status(date(2026, 4, 1)) == "paid_late" and jan.paid_on == date(2026, 3, 2)
    assert jan.late_charge == 20_000 and jan.days_overdue(date(2026, 4, 1)) == 14


def test_one_payment_pays_two_months_oldest_first():
    today = date(2026, 3, 12)
    ledger = reconcile([Bill("2026-02", 600_000), Bill("2026-01", 500_000)],
                       [Payment(date(2026, 3, 10), 800_000)], today=today,
                       late_rate=TWO_PERCENT)  # fmt: skip
    jan, feb = ledger.month("2026-01"), ledger.month("2026-02")
    assert (jan.paid, jan.outstanding, jan.late_charge) == (500_000, 0, 10_000)
    assert (feb.paid, feb.outstanding, feb.status(today)) == (300_000, 300_000, "not_due")
    assert feb.late_charge == 0  # due 16 March: not late yet
    over = reconcile([Bill("2026-01", 500_000)], [Payment(date(2026, 2, 1), 800_000)],
                     today=today)  # fmt: skip
    assert over.credit == 300_000  # carried to the next bill


def test_a_pekerja_rentan_lapses_after_three_months_unpaid():
    bills = [Bill(f"2026-0{m}", 16_800) for m in (1, 2, 3, 4)]
    ledger = reconcile(bills, [], today=date(2026, 5, 20), lapse_after=3)
    assert ledger.warnings == ["2026-02"]  # two months unpaid by 16 March: a warning
    assert ledger.lapsed_from == "2026-03"  # the third past due on 15 April: it ends
    assert ledger.month("2026-01").status(date(2026, 5, 20)) == "lapsed"
    assert ledger.late_charges == 0
    again = reconcile(bills, [Payment(date(2026, 6, 3), 16_800)], today=date(2026, 6, 10),
                      lapse_after=3)  # fmt: skip
    assert again.new_registration == date(2026, 6, 3)  # a new registration, from June
    assert again.month("2026-01").paid == 0 and again.credit == 16_800
    paid_in_time = reconcile(bills, [Payment(date(2026, 3, 1), 33_600)],
                             today=date(2026, 4, 20), lapse_after=3)  # fmt: skip
    assert paid_in_time.lapsed_from is None and paid_in_time.warnings == []
