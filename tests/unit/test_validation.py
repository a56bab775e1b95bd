import re
from datetime import date

import pytest

from gateway.domain import nik as nik_module
from gateway.domain import parsing
from gateway.domain.nik import make_nik
from gateway.domain.records import (
    FIELDS,
    Category,
    EnrollmentRecord,
    Gender,
    RawRow,
    Severity,
)
from gateway.domain.validation import ALL_MESSAGES, MESSAGES, duplicate_problem, validate_row

TODAY = date(2025, 6, 1)
NIK = "1505011708850001"  # man born 17-08-1985, Kabupaten Muaro Jambi
NIK_WOMAN = "1505015708850002"  # woman born 17-08-1985


def full_row(**changes):
    values = {
        "nik": NIK,
        "name": "Budi Santoso",
        "gender": "L",
        "birth_date": "17-08-1985",
        "position": "Staf Administrasi",
        "work_unit": "Dinas Pendidikan",
        "wage": "Rp 3.500.000",
        "start_date": "01-01-2024",
        "category": "Honorer",
    }
    values.update(changes)
    return values


def check(values, row=2, numeric_fields=frozenset(), **kwargs):
    kwargs.setdefault("today", TODAY)
    return validate_row(RawRow(row, values, numeric_fields), **kwargs)


def codes(result):
    return [problem.code for problem in result.problems]


# --- accepted rows -------------------------------------------------------------------------------


def test_a_complete_valid_row_becomes_a_record():
    result = check(full_row(name="  Budi   Santoso ", position=" Staf Administrasi "))
    assert result.accepted and result.problems == [] and result.row == 2
    assert result.record == EnrollmentRecord(
        nik=NIK,
        name="Budi Santoso",
        birth_date=date(1985, 8, 17),
        gender=Gender.MALE,
        category=Category.HONORER,
        wage=3_500_000,
        start_date=date(2024, 1, 1),
        position="Staf Administrasi",
        work_unit="Dinas Pendidikan",
    )


def test_gender_and_birth_date_come_from_the_nik_when_the_roster_has_none():
    values = {"nik": NIK_WOMAN, "name": "Siti", "wage": "3500000", "start_date": "2024-01-01"}
    result = check(values, default_category=Category.PPNPN)
    assert result.problems == []
    record = result.record
    assert (record.gender, record.birth_date) == (Gender.FEMALE, date(1985, 8, 17))
    assert (record.category, record.position, record.work_unit) == (Category.PPNPN, None, None)


@pytest.mark.parametrize("blank", [None, "", "   ", "-"])
def test_blank_optional_cells_are_absent(blank):
    values = full_row(gender=blank, birth_date=blank, position=blank, work_unit=blank)
    record = check(values).record
    assert record is not None
    assert (record.position, record.work_unit, record.gender) == (None, None, Gender.MALE)


@pytest.mark.parametrize("gender", ["L", "l", "Laki-laki", "PRIA"])
def test_a_roster_gender_that_agrees_with_the_nik(gender):
    assert check(full_row(gender=gender)).accepted


@pytest.mark.parametrize(
    "birth_date",
    ["17-08-1985", "17/08/1985", "1985-08-17", "17 Agustus 1985", "1985-08-17 00:00:00"],
)
def test_a_roster_birth_date_that_agrees_with_the_nik(birth_date):
    assert check(full_row(birth_date=birth_date)).accepted


def test_the_row_category_wins_over_the_default():
    result = check(full_row(category="RT/RW"), default_category=Category.HONORER)
    assert result.record.category == Category.RT_RW


def test_a_name_of_150_characters_is_accepted():
    assert check(full_row(name="A" * 150)).accepted


def test_direction_controls_are_taken_out_of_names_and_positions():
    """U+202E in a name reversed the wage and date shown after it on the dashboard."""
    result = check(full_row(name="\u202eBudi 😀 محمد Santoso\u202c", position="\u2067Sopir\u2069",
                            work_unit="Dinas\u200f Kesehatan"))  # fmt: skip
    record = result.record
    assert record.name == "Budi 😀 محمد Santoso"  # the letters (Arabic, emoji) stay
    assert (record.position, record.work_unit) == ("Sopir", "Dinas Kesehatan")
    assert check(full_row(name="\u202e \u202c")).problems[0].code == "name_missing"


def test_a_kpj_when_the_feed_has_one():
    assert check(full_row(kpj=" 12345678901 ")).record.kpj == "12345678901"
    result = check(full_row(kpj="1234-5678"))
    assert codes(result) == ["kpj_invalid"] and not result.accepted


# --- required fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("nik", "nik_missing"),
        ("name", "name_missing"),
        ("wage", "wage_missing"),
        ("start_date", "start_date_missing"),
        ("category", "category_missing"),
    ],
)
@pytest.mark.parametrize("blank", [None, "", "  ", "-"])
def test_each_required_field_missing(field, code, blank):
    result = check(full_row(**{field: blank}), row=9)
    assert not result.accepted and result.record is None
    assert [(p.row, p.field, p.code, p.severity) for p in result.problems] == [
        (9, field, code, Severity.ERROR)
    ]


@pytest.mark.parametrize("wage", ["3.500", "Rp 3.500", "350", "9.999"])
def test_a_wage_kept_in_thousands_is_an_error_that_says_so(wage):
    """A "Gaji (Rp ribu)" column: 3.500 read as Rp 3,500 made every contribution 1,000 times
    too small, silently."""
    result = check(full_row(wage=wage))
    assert codes(result) == ["wage_too_low"] and result.record is None
    assert "thousands" in result.problems[0].message_en


@pytest.mark.parametrize("wage", ["10.000", "Rp 300.000"])  # an RT/RW head's incentive
def test_a_small_but_real_monthly_wage_is_accepted(wage):
    assert check(full_row(wage=wage)).accepted


def test_an_absent_key_is_missing_too():
    values = full_row()
    del values["wage"]
    assert codes(check(values)) == ["wage_missing"]


def test_the_default_category_fills_a_missing_one():
    assert check(full_row(category=None), default_category=Category.APARAT_DESA).accepted


def test_a_bad_category_is_not_replaced_by_the_default():
    result = check(full_row(category="guru"), default_category=Category.HONORER)
    assert codes(result) == ["category_invalid"] and not result.accepted


# --- every field's error in one pass -------------------------------------------------------------


def test_a_bad_row_reports_every_problem_in_field_order():
    values = {
        "nik": "1.50501E+15",
        "name": "",
        "gender": "X",
        "birth_date": "1990/17/08",
        "wage": "3.500.000,50",
        "start_date": "31-02-2024",
        "category": "guru",
    }
    result = check(values, row=14)
    assert result.record is None
    assert [(p.field, p.code) for p in result.problems] == [
        ("nik", "nik_scientific"),
        ("name", "name_missing"),
        ("gender", "gender_invalid"),
        ("birth_date", "date_invalid"),
        ("wage", "money_fraction"),
        ("start_date", "date_invalid"),
        ("category", "category_invalid"),
    ]
    assert all(p.row == 14 and p.severity == Severity.ERROR for p in result.problems)
    fields = [p.field for p in result.problems]
    assert fields == sorted(fields, key=FIELDS.index)


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"nik": "150501170885000"}, "nik", "nik_length"),
        ({"nik": "9905011708850001"}, "nik", "nik_province"),
        ({"nik": "1505011708850000"}, "nik", "nik_serial"),
        ({"name": "A" * 151}, "name", "name_too_long"),
        ({"gender": "P"}, "gender", "gender_mismatch"),
        ({"gender": "Wanita"}, "gender", "gender_mismatch"),
        ({"birth_date": "18-08-1985"}, "birth_date", "birth_date_mismatch"),
        ({"birth_date": "17-08-1986"}, "birth_date", "birth_date_mismatch"),
        ({"birth_date": "17-08-2085"}, "birth_date", "birth_date_future"),
        ({"birth_date": "17-08-85"}, "birth_date", "date_invalid"),
        ({"wage": "0"}, "wage", "money_not_positive"),
        ({"wage": "tiga juta"}, "wage", "money_invalid"),
        ({"wage": NIK}, "wage", "money_too_large"),
        ({"start_date": "02-06-2026"}, "start_date", "start_date_future"),
        ({"start_date": "2024/13/01"}, "start_date", "date_invalid"),
    ],
)
def test_single_errors(changes, field, code):
    result = check(full_row(**changes), row=5)
    assert [(p.row, p.field, p.code, p.severity) for p in result.problems] == [
        (5, field, code, Severity.ERROR)
    ]
    assert result.record is None


def test_a_numeric_nik_cell_is_rejected():
    result = check(full_row(nik="1505011708850000"), numeric_fields=frozenset({"nik"}))
    assert codes(result) == ["nik_numeric_cell"]


def test_a_start_date_exactly_one_year_ahead_is_still_accepted():
    assert check(full_row(start_date="01-06-2026")).accepted
    assert codes(check(full_row(start_date="02-06-2026"))) == ["start_date_future"]


def test_the_roster_birth_date_chooses_the_nik_century():
    # The NIK's 05 alone reads as 2005 (a 19-year-old); the roster says 1905 and agrees.
    nik = make_nik("15.05", date(1905, 8, 17), Gender.MALE, 3)
    result = check(full_row(nik=nik, birth_date="17-08-1905"))
    assert result.accepted and result.record.birth_date == date(1905, 8, 17)


# --- age at the start date -----------------------------------------------------------------------


def row_born(born: date, start: str, gender=Gender.MALE):
    nik = make_nik("15.05", born, gender, 1)
    return full_row(nik=nik, birth_date=None, gender=None, start_date=start)


def test_under_15_at_the_start_date_is_an_error():
    result = check(row_born(date(2010, 3, 1), "28-02-2025"))  # 14 the day before turning 15
    assert [(p.field, p.code, p.severity) for p in result.problems] == [
        ("birth_date", "age_under_15", Severity.ERROR)
    ]
    assert "14" in result.problems[0].message_id and "14" in result.problems[0].message_en
    assert not result.accepted


@pytest.mark.parametrize(("start", "age"), [("01-03-2025", 15), ("28-02-2028", 17)])
def test_15_to_17_is_a_warning_and_the_row_is_accepted(start, age):
    result = check(row_born(date(2010, 3, 1), start), today=date(2027, 6, 1))
    assert [(p.code, p.severity) for p in result.problems] == [("age_under_18", Severity.WARNING)]
    assert str(age) in result.problems[0].message_id
    assert result.accepted


def test_18_is_an_adult():
    result = check(row_born(date(2007, 3, 1), "01-03-2025"))
    assert result.problems == [] and result.accepted


def test_age_is_checked_against_the_roster_birth_date_too():
    born = date(2008, 1, 10)
    values = full_row(
        nik=make_nik("15.05", born, Gender.FEMALE, 1),
        gender="P",
        birth_date="10-01-2008",
        start_date="01-01-2023",
    )
    assert codes(check(values)) == ["age_under_15"]


def test_no_age_noise_after_an_impossible_birth_date():
    assert codes(check(full_row(birth_date="01-01-2030"))) == ["birth_date_future"]


# --- messages ------------------------------------------------------------------------------------

BAD_ROWS = [
    full_row(nik="1.50501E+15"),
    full_row(nik="150501170885000", name=""),
    full_row(nik=NIK, gender="P", birth_date="18-08-1985"),
    full_row(nik="9905011708850001", wage=NIK),
    full_row(nik="1505001708850001", start_date=NIK, category=NIK),
    full_row(nik="1505013208850001", birth_date=NIK, gender=NIK, kpj="x"),
    full_row(nik="1505011708850000"),
    full_row(nik="1500011708850001"),
    full_row(nik="15O5011708850001"),
    row_born(date(2012, 1, 1), "01-01-2025"),
]


@pytest.mark.parametrize("values", BAD_ROWS)
def test_problems_are_bilingual_and_never_contain_a_nik(values):
    result = check(values, row=33)
    assert result.problems
    for problem in result.problems:
        assert problem.row == 33
        assert problem.message_id and problem.message_en
        assert problem.message_id != problem.message_en
        text = problem.message_id + problem.message_en
        assert "{" not in text
        assert not re.search(r"\d{15,}", text.replace(".", "").replace(" ", "")), text
        assert problem.code in ALL_MESSAGES


def test_all_messages_merges_the_three_catalogs():
    assert ALL_MESSAGES == {**nik_module.MESSAGES, **parsing.MESSAGES, **MESSAGES}
    assert len(ALL_MESSAGES) == len(nik_module.MESSAGES) + len(parsing.MESSAGES) + len(MESSAGES)
    for code, message in ALL_MESSAGES.items():
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code)
        assert message.id and message.en
    warnings = {code for code, m in ALL_MESSAGES.items() if m.severity == Severity.WARNING}
    # identity_conflict is found when a row is applied (store/identity.py), not here.
    assert warnings == {"age_under_18", "identity_conflict"}


def test_duplicate_nik_names_the_first_row():
    problem = duplicate_problem(8, 3)
    assert (problem.row, problem.field, problem.code, problem.severity) == (
        8,
        "nik",
        "nik_duplicate",
        Severity.ERROR,
    )
    assert problem.message_id == "NIK ini sudah muncul di baris 3."
    assert "row 3" in problem.message_en


def test_duplicate_nik_when_the_first_row_is_unknown():
    problem = duplicate_problem(8, None)
    assert problem.code == "nik_duplicate" and problem.row == 8
    assert "None" not in problem.message_id + problem.message_en
    assert "baris sebelumnya" in problem.message_id and "earlier row" in problem.message_en
