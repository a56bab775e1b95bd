from datetime import date

import pytest

from gateway.domain.parsing import (
    MAX_MONEY,
    MESSAGES,
    ParseError,
    parse_category,
    parse_date,
    parse_gender,
    parse_money,
)
from gateway.domain.records import Category, Gender, Severity, make_problem

AUG_17 = date(1990, 8, 17)


def raises(code, parser, text):
    with pytest.raises(ParseError) as caught:
        parser(text)
    assert caught.value.code == code
    return caught.value


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "17-08-1990",
        "17/08/1990",
        "17.08.1990",
        "17-8-1990",
        "1990-08-17",
        "1990/08/17",
        "1990-8-17",
        "1990-08-17 00:00:00",
        "1990-08-17T00:00:00",
        "1990-08-17 00:00",
        "1990-08-17 00:00:00.000",
        " 17-08-1990 ",
        "17 Agustus 1990",
        "17 agustus 1990",
        "17 AGUSTUS 1990",
        "17 Agu 1990",
        "17 Agt 1990",
        "17 Ags 1990",
        "17 Agu. 1990",
        "17-Agu-1990",
        "17/agt/1990",
        "17  Agustus   1990",
        "17 Aug 1990",
        "17-Aug-1990",
        "17 August 1990",
    ],
)
def test_every_accepted_spelling_of_17_august_1990(text):
    assert parse_date(text) == AUG_17


@pytest.mark.parametrize(
    ("month_names", "month"),
    [
        (["Januari", "Jan", "January"], 1),
        (["Februari", "Feb", "Pebruari", "Peb", "February"], 2),
        (["Maret", "Mar", "March"], 3),
        (["April", "Apr"], 4),
        (["Mei", "May"], 5),
        (["Juni", "Jun", "June"], 6),
        (["Juli", "Jul", "July"], 7),
        (["Agustus", "Agu", "Agt", "Aug"], 8),
        (["September", "Sep", "Sept"], 9),
        (["Oktober", "Okt", "Oct"], 10),
        (["November", "Nov", "Nopember", "Nop"], 11),
        (["Desember", "Des", "Dec"], 12),
    ],
)
def test_indonesian_and_english_month_names(month_names, month):
    for name in month_names:
        for spelling in (name, name.lower(), name.upper()):
            assert parse_date(f"5 {spelling} 2001") == date(2001, month, 5)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1990/17/08",  # year first is always year-month-day: there is no month 17
        "08/17/1990",  # American order: no month 17
        "31-02-1990",
        "29-02-1991",
        "17-08-90",  # two-digit year: which century?
        "17 Agustus 90",
        "17-08/1990",  # mixed separators
        "1990.08.17",
        "17 Agus 1990",
        "17 Augustus 1990",
        "17081990",
        "32768",  # a spreadsheet date serial number that was not converted
        "17-08-0990",
        "17-08-19900",
        "1990-08-17 25:61",
        "tujuh belas agustus",
        "-",
    ],
)
def test_rejected_dates(text):
    raises("date_invalid", parse_date, text)


@pytest.mark.parametrize(
    ("text", "exists"),
    [("31-02-1990", False), ("29-02-1991", False), ("1990/17/08", False), ("08/17/1990", False),
     ("31 April 1990", False), ("17-08-90", True), ("17 Augustus 1990", True), ("", True)],
)  # fmt: skip
def test_a_date_written_right_that_does_not_exist_says_so(text, exists):
    """Same code (date_invalid), but the message tells the clerk to check the day and month
    instead of repeating the formats they already used."""
    from gateway.domain.validation import _parse_problem

    problem = _parse_problem(parse_date, text, 5, "start_date")
    assert problem.code == "date_invalid"
    assert ("does not exist" not in problem.message_en) is exists, problem.message_en
    assert ("tidak ada di kalender" not in problem.message_id) is exists
    assert ("not recognised" in problem.message_en) is exists


def test_leap_day():
    assert parse_date("29-02-2000") == date(2000, 2, 29)
    assert parse_date("29 Februari 2024") == date(2024, 2, 29)


# --- money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Rp 3.500.000", 3_500_000),
        ("Rp3.500.000", 3_500_000),
        ("Rp. 3.500.000", 3_500_000),
        ("rp 3.500.000", 3_500_000),
        ("RP3.500.000,00", 3_500_000),
        ("IDR 3.500.000", 3_500_000),
        ("3.500.000,00", 3_500_000),
        ("3.500.000,0", 3_500_000),
        ("Rp 3.500.000,-", 3_500_000),
        ("3500000", 3_500_000),
        (" 3500000 ", 3_500_000),
        ("3500000.0", 3_500_000),  # what a spreadsheet number cell becomes
        ("3500000.00", 3_500_000),
        ("3500000,00", 3_500_000),
        ("4,500,000.00", 4_500_000),
        ("4,500,000", 4_500_000),
        ("Rp 4,500,000", 4_500_000),
        ("3.500", 3_500),  # a dot before three digits groups thousands
        ("1,500", 1_500),
        ("16.800", 16_800),
        ("1", 1),
        ("1.000.000.000", MAX_MONEY),
    ],
)
def test_accepted_amounts(text, amount):
    assert parse_money(text) == amount


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("3.500.000,50", "money_fraction"),
        ("3500000.5", "money_fraction"),
        ("4,500,000.25", "money_fraction"),
        ("3,5", "money_fraction"),
        ("0", "money_not_positive"),
        ("Rp 0", "money_not_positive"),
        ("0,00", "money_not_positive"),
        ("-3500000", "money_not_positive"),
        ("Rp -3.500.000", "money_not_positive"),
        ("1.000.000.001", "money_too_large"),
        ("3171011708450001", "money_too_large"),  # a NIK in the wage column
        ("", "money_invalid"),
        ("Rp", "money_invalid"),
        ("abc", "money_invalid"),
        ("3.50.000", "money_invalid"),
        ("3.500.000.00", "money_invalid"),  # the cents need a comma after dot groups
        ("4,500,000,00", "money_invalid"),
        ("3.500,000", "money_invalid"),
        ("3,500.000", "money_invalid"),
        ("3500000.000", "money_invalid"),
        ("3.5E+06", "money_invalid"),
        ("3 500 000", "money_invalid"),
        ("USD 300", "money_invalid"),
        ("3500000 Rp", "money_invalid"),
    ],
)
def test_rejected_amounts(text, code):
    raises(code, parse_money, text)


# --- gender and category -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gender"),
    [
        ("L", Gender.MALE),
        ("l", Gender.MALE),
        (" L ", Gender.MALE),
        ("Laki-laki", Gender.MALE),
        ("LAKI-LAKI", Gender.MALE),
        ("laki laki", Gender.MALE),
        ("Laki  Laki", Gender.MALE),
        ("Lakilaki", Gender.MALE),
        ("Laki2", Gender.MALE),
        ("Laki", Gender.MALE),
        ("Pria", Gender.MALE),
        ("PRIA", Gender.MALE),
        ("P", Gender.FEMALE),
        ("p", Gender.FEMALE),
        ("Perempuan", Gender.FEMALE),
        ("PEREMPUAN", Gender.FEMALE),
        ("Wanita", Gender.FEMALE),
        ("wanita", Gender.FEMALE),
    ],
)
def test_accepted_genders(text, gender):
    assert parse_gender(text) == gender


@pytest.mark.parametrize("text", ["", "X", "M", "F", "Pr", "LP", "L/P", "1", "male", "Lk"])
def test_rejected_genders(text):
    raises("gender_invalid", parse_gender, text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("ppnpn", Category.PPNPN),
        ("PPNPN", Category.PPNPN),
        ("Honorer", Category.HONORER),
        (" honorer ", Category.HONORER),
        ("pendamping_desa", Category.PENDAMPING_DESA),
        ("pendamping desa", Category.PENDAMPING_DESA),
        ("Pendamping Desa", Category.PENDAMPING_DESA),
        ("PENDAMPING-DESA", Category.PENDAMPING_DESA),
        ("aparat_desa", Category.APARAT_DESA),
        ("Aparat Desa", Category.APARAT_DESA),
        ("rt_rw", Category.RT_RW),
        ("RT/RW", Category.RT_RW),
        ("rt / rw", Category.RT_RW),
        ("RT RW", Category.RT_RW),
        ("pekerja_rentan", Category.PEKERJA_RENTAN),
        ("Pekerja Rentan", Category.PEKERJA_RENTAN),
        ("pekerja  rentan", Category.PEKERJA_RENTAN),
    ],
)
def test_accepted_categories(text, category):
    assert parse_category(text) == category


@pytest.mark.parametrize("text", ["", "guru", "PNS", "pendamping", "rtrw", "honor"])
def test_rejected_categories_list_the_allowed_values(text):
    error = raises("category_invalid", parse_category, text)
    problem = make_problem(MESSAGES, error.code, 5, "category", **error.params)
    for category in Category:
        assert category.value in problem.message_id and category.value in problem.message_en


# --- messages ------------------------------------------------------------------------------------


def test_every_code_has_an_error_message_in_both_languages():
    assert set(MESSAGES) == {
        "date_invalid",
        "date_not_exist",  # the wording of date_invalid for 31-02-1990
        "money_invalid",
        "money_not_positive",
        "money_fraction",
        "money_too_large",
        "gender_invalid",
        "category_invalid",
    }
    for code, message in MESSAGES.items():
        assert message.severity == Severity.ERROR, code
        assert message.id and message.en and message.id != message.en, code


def test_parse_error_carries_code_and_params():
    error = ParseError("category_invalid", allowed="a, b")
    assert (error.code, error.params) == ("category_invalid", {"allowed": "a, b"})
    assert isinstance(error, ValueError)
