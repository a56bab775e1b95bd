"""The contribution calculator against docs/domain.md §2's worked examples, to the Rupiah.

Runs on the shipped config/rates tables: the numbers a budget note quotes must come from them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.budget.rates import CHECKOUT_RATES_DIR, load_schedule
from gateway.domain.contributions import (
    PROGRAMS,
    ContributionError,
    ProgramRate,
    RateSchedule,
    age_on,
    bpu_quote,
    quote,
    reference_day,
)
from gateway.domain.obligations import annual_obligation, year_rates

ALL_FOUR = {"jkk", "jkm", "jht", "jp"}


@pytest.fixture(scope="module")
def schedule() -> RateSchedule:
    return load_schedule(CHECKOUT_RATES_DIR)


def amounts(q) -> dict[str, tuple[int, int]]:
    return {line.program: (line.employer, line.worker) for line in q.lines}


# --- docs/domain.md §2 worked examples ------------------------------------------------------------
def test_example_1_all_four_programs_in_2025(schedule):
    q = quote(5_000_000, date(2025, 6, 1), ALL_FOUR, 1, schedule=schedule)
    assert amounts(q) == {"jkk": (12_000, 0), "jkm": (15_000, 0), "jht": (185_000, 100_000),
                          "jp": (100_000, 50_000)}
    assert (q.employer, q.worker, q.total) == (312_000, 150_000, 462_000)
    assert q.line("jp").base == 5_000_000  # below the ceiling: not capped


@pytest.mark.parametrize(("month", "employer", "worker", "ceiling"), [
    (date(2025, 6, 15), 210_948, 105_474, 10_547_400),
    (date(2025, 3, 1), 210_948, 105_474, 10_547_400),  # the new ceiling from 1 March
    (date(2025, 2, 28), 200_846, 100_423, 10_042_300),  # January/February: last year's
    (date(2025, 1, 1), 200_846, 100_423, 10_042_300),
    (date(2024, 6, 1), 200_846, 100_423, 10_042_300),
    (date(2026, 7, 1), 210_948, 105_474, 10_547_400),  # 2026 unknown: 2025 stays in force
])
def test_example_2_jp_base_is_capped_at_the_ceiling_in_force(schedule, month, employer, worker,
                                                             ceiling):
    q = quote(12_000_000, month, {"jp"}, 1, schedule=schedule)
    assert (q.employer, q.worker) == (employer, worker)
    assert q.line("jp").base == ceiling == q.jp_ceiling.amount


def test_example_3_non_asn_jkk_jkm_and_a_regions_bill(schedule):
    q = quote(1_000_000, date(2022, 6, 1), {"jkk", "jkm"}, 1, schedule=schedule)
    assert amounts(q) == {"jkk": (2_400, 0), "jkm": (3_000, 0)}
    assert q.total == 5_400
    assert 4_156 * q.total == 22_442_400
    year = annual_obligation(1_000_000, 2022, date(2021, 1, 4), None, {"jkk", "jkm"}, 1,
                             schedule=schedule)
    assert (year.employer, year.worker, year.months) == (64_800, 0, 12)
    assert 4_156 * year.total == 269_308_800


def test_example_4_vulnerable_worker_package(schedule):
    q = bpu_quote(1_000_000, date(2025, 6, 1), schedule=schedule)
    assert amounts(q) == {"bpu_jkk": (10_000, 0), "bpu_jkm": (6_800, 0)}
    assert q.total == 16_800


def test_bpu_minimums_and_optional_jht(schedule):
    month = date(2025, 6, 1)
    assert bpu_quote(500_000, month, schedule=schedule).total == 16_800  # income floor 1,000,000
    assert amounts(bpu_quote(3_000_000, month, schedule=schedule))["bpu_jkk"] == (30_000, 0)
    with_jht = bpu_quote(1_000_000, month, include_jht=True, schedule=schedule)
    assert with_jht.total == 16_800 + 20_000


# --- JKP: the mid-month change of 7 February 2025 ---------------------------------------------
@pytest.mark.parametrize(("month", "rate", "amount"), [
    (date(2025, 1, 31), "0.0046", 23_000),
    (date(2025, 2, 1), "0.0046", 23_000),  # the month's first day decides: still 0.46 %
    (date(2025, 2, 7), "0.0046", 23_000),  # any day of February names the same month
    (date(2025, 3, 1), "0.0036", 18_000),  # first month wholly under PP 6/2025
])
def test_jkp_uses_the_rate_in_force_on_the_first_of_the_month(schedule, month, rate, amount):
    q = quote(5_000_000, month, {"jkk", "jkm", "jkp"}, 1, schedule=schedule)
    jkp = q.line("jkp")
    assert (jkp.rate.other, jkp.other, jkp.employer, jkp.worker) == (Decimal(rate), amount, 0, 0)
    # Funded by central government and recomposition: the employer's bill does not change.
    assert (q.employer, q.total, q.other) == (27_000, 27_000, amount)


def test_reference_day_is_the_first():
    assert reference_day(date(2025, 2, 28)) == date(2025, 2, 1)


# --- JP pension age -------------------------------------------------------------------------
@pytest.mark.parametrize(("birth", "month", "charged"), [
    (date(1966, 3, 15), date(2025, 3, 1), True),  # 58 on 1 March, 59 on the 15th
    (date(1966, 3, 15), date(2025, 4, 1), False),  # 59 = the 2025 pension age
    (date(1966, 4, 1), date(2025, 4, 1), False),  # turns 59 on the 1st: at it, not enrolled
    (date(1966, 4, 2), date(2025, 4, 1), True),
    (date(1964, 6, 1), date(2021, 6, 1), False),  # 57 in 2021: pension age 57 (from 2019)
    (date(1964, 6, 1), date(2021, 5, 1), True),
    (date(1990, 1, 1), date(2025, 6, 1), True),
])
def test_jp_is_skipped_at_or_past_pension_age(schedule, birth, month, charged):
    q = quote(5_000_000, month, {"jkk", "jp"}, 1, birth, schedule=schedule)
    assert (q.line("jp") is not None) is charged
    assert q.line("jkk").employer == 12_000  # the other programs are unaffected
    if not charged:
        (skipped,) = q.skipped
        assert skipped.program == "jp" and skipped.code == "pension_age"
        assert "usia pensiun" in skipped.message_id and "pension age" in skipped.message_en


def test_pension_ages_follow_the_table(schedule):
    ages = {year: schedule.in_force(date(year, 6, 1)).pension() for year in
            (2019, 2021, 2022, 2024, 2025, 2028, 2031, 2043, 2060)}
    assert ages == {2019: 57, 2021: 57, 2022: 58, 2024: 58, 2025: 59, 2028: 60, 2031: 61,
                    2043: 65, 2060: 65}


def test_age_on_birthdays():
    assert age_on(date(1966, 4, 1), date(2025, 4, 1)) == 59
    assert age_on(date(1966, 4, 2), date(2025, 4, 1)) == 58
    assert age_on(date(1964, 2, 29), date(2023, 2, 28)) == 58
    assert age_on(date(1964, 2, 29), date(2023, 3, 1)) == 59


# --- rounding -------------------------------------------------------------------------------
def test_each_share_is_rounded_half_up(schedule):
    month = date(2025, 6, 1)
    jkm = quote(1_001_500, month, {"jkm"}, schedule=schedule).line("jkm")
    assert 1_001_500 * Decimal("0.003") == Decimal("3004.5")
    assert jkm.employer == 3_005  # half-even would give 3,004
    assert (Decimal("3004.5").quantize(Decimal(1), ROUND_HALF_EVEN)) == 3_004
    jp = quote(1_000_050, month, {"jp"}, schedule=schedule).line("jp")
    assert (jp.employer, jp.worker) == (20_001, 10_001)  # 20,001.0 and 10,000.5


def test_employer_and_worker_shares_are_rounded_separately(schedule):
    # JHT on 1,000,010: 37,000.37 + 20,000.20; rounding the 5.7 % total would give 57,001.
    jht = quote(1_000_010, date(2025, 6, 1), {"jht"}, schedule=schedule).line("jht")
    assert (jht.employer, jht.worker, jht.total) == (37_000, 20_000, 57_000)


# --- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "code"), [
    ({"wage": 0}, "wage_not_positive"),
    ({"wage": -5}, "wage_not_positive"),
    ({"wage": 1.5}, "wage_not_positive"),
    ({"wage": True}, "wage_not_positive"),
    ({"programs": {"jkk", "jkx"}}, "program_unknown"),
    ({"programs": set()}, "programs_empty"),
    ({"programs": {"jkk", "bpu_jkm"}}, "programs_mixed"),
    ({"risk_class": 6}, "risk_class_invalid"),
    ({"risk_class": 0}, "risk_class_invalid"),
    ({"month": date(2018, 5, 1)}, "not_in_force"),  # no JP ceiling before March 2019
    ({"month": date(2015, 1, 1), "programs": {"jkk"}}, "not_in_force"),
])
def test_bad_input_is_refused_in_both_languages(schedule, kwargs, code):
    args = {"wage": 5_000_000, "month": date(2025, 6, 1), "programs": ALL_FOUR, "risk_class": 1}
    args.update(kwargs)
    with pytest.raises(ContributionError) as caught:
        quote(schedule=schedule, **args)
    assert caught.value.code == code
    assert caught.value.message_id and caught.value.message_en
    assert str(caught.value) == f"{caught.value.message_id} / {caught.value.message_en}"


def test_program_names_are_case_insensitive(schedule):
    assert quote(5_000_000, date(2025, 6, 1), ["JKK", " Jkm "], schedule=schedule).total == 27_000


def test_two_rows_on_one_day_are_refused():
    row = ProgramRate("jkm", date(2015, 7, 1), "PP 44/2015", employer=Decimal("0.003"))
    with pytest.raises(ValueError, match="same day"):
        RateSchedule((row, row))


# --- a fiscal year ----------------------------------------------------------------------------
def monthly_sum(schedule, wage, year, start, end, programs, risk_class, birth=None):
    total = [0, 0, 0]
    for number in range(1, 13):
        first = date(year, number, 1)
        last = date(year + (number == 12), number % 12 + 1, 1)
        if start < last and (end is None or end >= first):
            q = quote(wage, first, programs, risk_class, birth, schedule=schedule)
            total = [total[0] + q.employer, total[1] + q.worker, total[2] + q.other]
    return tuple(total)


def test_a_year_of_jp_spans_the_march_ceiling_change(schedule):
    year = annual_obligation(12_000_000, 2025, date(2020, 1, 1), None, {"jp"}, 1,
                             schedule=schedule)
    assert (year.employer, year.worker) == (2 * 200_846 + 10 * 210_948, 2 * 100_423 + 10 * 105_474)


@pytest.mark.parametrize(("start", "end", "months"), [
    (date(2025, 3, 20), None, 10),  # started on the 20th: March is a whole month
    (date(2024, 1, 1), date(2025, 4, 1), 4),  # ended on 1 April: April counts
    (date(2026, 1, 1), None, 0),
    (date(2020, 1, 1), date(2024, 12, 31), 0),
    (date(2025, 6, 1), date(2025, 6, 30), 1),
])
def test_only_enrolled_months_count(schedule, start, end, months):
    year = annual_obligation(1_000_000, 2025, start, end, {"jkk", "jkm"}, 1, schedule=schedule)
    assert (year.months, year.total) == (months, 5_400 * months)


def test_jp_stops_when_the_pension_age_is_reached_within_the_year(schedule):
    # 59 on 15 June 2025: JP for January-June (age 58 on each 1st), none from July.
    year = annual_obligation(5_000_000, 2025, date(2010, 1, 1), None, ALL_FOUR, 1,
                             date(1966, 6, 15), schedule=schedule)
    assert year.employer == 12 * 212_000 + 6 * 100_000
    assert year.worker == 12 * 100_000 + 6 * 50_000


def test_end_before_start_is_refused(schedule):
    with pytest.raises(ContributionError) as caught:
        annual_obligation(1_000_000, 2025, date(2025, 5, 1), date(2025, 4, 1), {"jkk"},
                          schedule=schedule)
    assert caught.value.code == "dates_reversed"


def test_year_rates_are_built_once_per_year_programs_and_class(schedule):
    first = year_rates(schedule, 2025, frozenset({"jkk", "jkm"}), 1)
    assert year_rates(schedule, 2025, {"jkm", "jkk"}, 1) is first
    assert year_rates(schedule, 2025, {"jkm", "jkk"}, 2) is not first


def test_a_month_without_rates_fails_only_when_enrolled(schedule):
    # No JP ceiling before March 2019: a 2019 JP enrollment from March on is fine.
    year = annual_obligation(12_000_000, 2019, date(2019, 3, 1), None, {"jp"}, 1,
                             schedule=schedule)
    assert year.employer == 10 * 170_248
    with pytest.raises(ContributionError):
        annual_obligation(12_000_000, 2019, date(2019, 1, 1), None, {"jp"}, 1,
                          schedule=schedule)


programs_strategy = st.one_of(
    st.sets(st.sampled_from(("jkk", "jkm", "jht", "jp", "jkp")), min_size=1),
    st.sets(st.sampled_from(("bpu_jkk", "bpu_jkm", "bpu_jht")), min_size=1),
)


@settings(max_examples=300, deadline=None)
@given(wage=st.integers(1, 60_000_000), year=st.integers(2020, 2027),
       start=st.dates(date(2018, 1, 1), date(2028, 12, 31)),
       days=st.one_of(st.none(), st.integers(0, 1500)), programs=programs_strategy,
       risk_class=st.integers(1, 5),
       birth=st.one_of(st.none(), st.dates(date(1955, 1, 1), date(2000, 12, 31))))
def test_the_bulk_path_equals_the_sum_of_monthly_quotes(schedule, wage, year, start, days,
                                                        programs, risk_class, birth):
    end = None if days is None else start + timedelta(days=days)
    try:
        slow = monthly_sum(schedule, wage, year, start, end, programs, risk_class, birth)
    except ContributionError as exc:  # e.g. JKP before 2021: both paths refuse alike
        with pytest.raises(ContributionError) as caught:
            annual_obligation(wage, year, start, end, programs, risk_class, birth,
                              schedule=schedule)
        assert caught.value.code == exc.code
        return
    fast = annual_obligation(wage, year, start, end, programs, risk_class, birth,
                             schedule=schedule)
    assert (fast.employer, fast.worker, fast.other) == slow


def test_every_program_has_a_rate_in_2025(schedule):
    table = schedule.in_force(date(2025, 6, 1))
    for program in PROGRAMS:
        assert table.rate(program, 3).regulation
