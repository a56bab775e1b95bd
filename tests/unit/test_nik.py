from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.id import nik as stdnum_nik

from gateway.domain.nik import (
    MESSAGES,
    NikError,
    NikInfo,
    make_nik,
    mask_nik,
    nik_problem,
    normalize_nik,
    parse_nik,
)
from gateway.domain.records import Gender, Severity

TODAY = date(2025, 6, 1)


def ok(value, **kwargs) -> NikInfo:
    kwargs.setdefault("today", TODAY)
    result = parse_nik(value, **kwargs)
    assert isinstance(result, NikInfo), result
    return result


def error(value, **kwargs) -> NikError:
    kwargs.setdefault("today", TODAY)
    result = parse_nik(value, **kwargs)
    assert isinstance(result, NikError), result
    return result


# --- the examples of docs/domain.md §3 ------------------------------------------------------------


def test_a_valid_nik_decodes_to_a_man_born_17_august_1945():
    info = ok("3171011708450001")
    assert info == NikInfo(
        nik="3171011708450001",
        province="31",
        regency="31.71",
        district="31.71.01",
        birth_date=date(1945, 8, 17),
        gender=Gender.MALE,
        serial="0001",
    )


def test_for_a_woman_40_is_added_to_the_day():
    info = ok("3171015708450001")
    assert info.gender == Gender.FEMALE
    assert info.birth_date == date(1945, 8, 17)


@pytest.mark.parametrize(
    ("nik", "born", "gender"),
    [
        ("1505010101900001", date(1990, 1, 1), Gender.MALE),
        ("1505013101900001", date(1990, 1, 31), Gender.MALE),
        ("1505014101900001", date(1990, 1, 1), Gender.FEMALE),
        ("1505017101900001", date(1990, 1, 31), Gender.FEMALE),
    ],
)
def test_day_ranges_for_men_and_women(nik, born, gender):
    info = ok(nik)
    assert (info.birth_date, info.gender) == (born, gender)


def test_serial_0000_is_rejected():
    assert error("3171011708450000").code == "nik_serial"


@pytest.mark.parametrize(
    "value", ["1.50501E+15", "1,50501E+15", "3.17101e+15", "'1.50501E+15", " 1.5E15 ", "1E+15"]
)
def test_scientific_notation_is_rejected_with_the_format_as_text_hint(value):
    problem = nik_problem(error(value), row=7)
    assert problem.code == "nik_scientific"
    assert "Teks" in problem.message_id and "Text" in problem.message_en


def test_a_numeric_cell_is_rejected_whatever_it_shows():
    # Even 16 plausible digits: the spreadsheet already rounded them to 15 significant ones.
    problem = nik_problem(error("3171011708450000", numeric_cell=True), row=3)
    assert problem.code == "nik_numeric_cell"
    assert "Teks" in problem.message_id and "Text" in problem.message_en


def test_fifteen_digits_is_a_length_error_that_explains_spreadsheets():
    err = error("317101170845000")
    assert err == NikError("nik_length", {"length": 15})
    problem = nik_problem(err, row=4)
    assert "15 digit" in problem.message_id and "15 significant digits" in problem.message_en
    assert "Teks" in problem.message_id and "Text" in problem.message_en


@pytest.mark.parametrize(("value", "length"), [("31710117084500011", 17), ("3171", 4)])
def test_other_lengths_say_how_many_digits_without_the_spreadsheet_hint(value, length):
    problem = nik_problem(error(value), row=4)
    assert problem.code == "nik_length"
    assert f"{length} digit" in problem.message_id
    assert f"has {length}" in problem.message_en
    assert "15 significant" not in problem.message_en


@pytest.mark.parametrize(
    "value",
    [
        "'3171011708450001",
        " 3171 0117.0845 0001 ",
        "3171.0117.0845.0001",
        " '3171011708450001 ",
        "3171\u00a0011708450001",
    ],
)
def test_apostrophe_spaces_and_dots_are_normalised(value):
    assert normalize_nik(value) == "3171011708450001"
    assert ok(value).nik == "3171011708450001"


@pytest.mark.parametrize(
    "value",
    [
        "3171O11708450001",
        "3171-0117-0845-0001",
        "''3171011708450001",
        "3171011708450001x",
        "３１７１０１１７０８４５０００１",
    ],
)
def test_anything_else_is_not_digits(value):
    assert error(value).code == "nik_not_digits"


@pytest.mark.parametrize("value", [None, "", "   ", "'"])
def test_missing(value):
    assert error(value).code == "nik_missing"


@pytest.mark.parametrize("prefix", ["91", "92", "93", "94", "95", "96"])
def test_every_papua_prefix_is_accepted(prefix):
    # Registered before or after the 2022 split, and with regencies old tables do not know.
    for regency in ("01", "03", "12", "71"):
        assert ok(f"{prefix}{regency}011708900001").province == prefix


@pytest.mark.parametrize("prefix", ["99", "00", "20", "10", "37", "90", "97"])
def test_unknown_province_prefixes_are_rejected(prefix):
    err = error(f"{prefix}71011708450001")
    assert err == NikError("nik_province", {"prefix": prefix})


@pytest.mark.parametrize("regency", ["00", "70"])
def test_structurally_impossible_regency_codes_are_rejected(regency):
    assert error(f"15{regency}011708450001") == NikError("nik_regency", {"regency": regency})


@pytest.mark.parametrize("regency", ["01", "55", "69", "71", "88", "99"])
def test_unknown_but_well_formed_regency_codes_are_accepted(regency):
    assert ok(f"15{regency}011708450001").regency == f"15.{regency}"


def test_district_00_is_rejected():
    assert error("1505001708450001").code == "nik_district"


@pytest.mark.parametrize(
    "ddmmyy",
    [
        "000190",
        "320190",
        "400190",
        "720190",
        "801390",
        "011390",
        "010090",
        "310490",
        "300290",
        "290201",
        "690201",
    ],
)
def test_impossible_birth_dates_are_rejected(ddmmyy):
    assert error(f"150501{ddmmyy}0001").code == "nik_birth_date"


def test_29_february_picks_the_century_where_it_exists():
    # 1900 was not a leap year, 2000 was: only 2000-02-29 exists.
    assert ok("1505012902000001", today=date(2030, 1, 1)).birth_date == date(2000, 2, 29)
    assert ok("1505016902000001", today=date(2030, 1, 1)).gender == Gender.FEMALE


# --- century ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yy", "expected_year"),
    [
        ("45", 1945),  # 79 years old
        ("05", 2005),  # 19, not 119
        ("10", 2010),  # 14: nobody fits 15-100, the child's NIK decodes to the child
        ("30", 1930),  # 94, not born in 2030
        ("25", 1925),  # 99: 2025 would make a newborn
        ("24", 1924),  # 100 years old on today's date (birthday in August): still in range
    ],
)
def test_century_from_age_between_15_and_100(yy, expected_year):
    assert ok(f"1505011708{yy}0001").birth_date.year == expected_year


def test_century_from_the_roster_birth_date_when_it_matches():
    # Without the roster, 05 reads as 2005; the roster says 1905 (and is believed).
    assert ok("1505011708050001", birth_date=date(1905, 8, 17)).birth_date == date(1905, 8, 17)
    # Without the roster, 45 reads as 1945; a roster saying 2045 (far future today) is believed.
    info = ok("1505011708450001", birth_date=date(2045, 8, 17), today=date(2070, 1, 1))
    assert info.birth_date == date(2045, 8, 17)


def test_a_roster_birth_date_that_disagrees_does_not_change_the_nik_reading():
    info = ok("1505011708450001", birth_date=date(1946, 8, 17))
    assert info.birth_date == date(1945, 8, 17)


def test_the_century_moves_with_today():
    assert ok("1505011708500001", today=date(2025, 1, 1)).birth_date.year == 1950
    assert ok("1505011708500001", today=date(2090, 1, 1)).birth_date.year == 2050


# --- problems, masking, building ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kwargs"),
    [
        (None, {}),
        ("1505011708450001", {"numeric_cell": True}),
        ("1.50501E+15", {}),
        ("150501170845000", {}),
        ("15050117084500x1", {}),
        ("9905011708450001", {}),
        ("1500011708450001", {}),
        ("1505001708450001", {}),
        ("1505013208450001", {}),
        ("1505011708450000", {}),
    ],
)
def test_every_error_becomes_a_problem_in_both_languages_without_the_nik(value, kwargs):
    problem = nik_problem(error(value, **kwargs), row=12)
    assert problem.row == 12 and problem.field == "nik"
    assert problem.severity == Severity.ERROR
    assert problem.message_id and problem.message_en and problem.message_id != problem.message_en
    assert "{" not in problem.message_id + problem.message_en
    if value:
        digits = value.replace(".", "")
        assert digits not in problem.message_id and digits not in problem.message_en


def test_every_code_has_a_message():
    assert set(MESSAGES) == {
        "nik_missing",
        "nik_numeric_cell",
        "nik_scientific",
        "nik_length",
        "nik_not_digits",
        "nik_province",
        "nik_regency",
        "nik_district",
        "nik_birth_date",
        "nik_serial",
    }
    assert all(message.severity == Severity.ERROR for message in MESSAGES.values())


def test_mask_keeps_the_first_six_and_last_four_digits():
    assert mask_nik("1505011708450001") == "150501******0001"
    assert mask_nik("123") == "***"


@pytest.mark.parametrize("gender", [Gender.MALE, Gender.FEMALE])
@pytest.mark.parametrize("region", ["15.05", "1505", "31.71", "93.01", "96.71"])
def test_make_nik_builds_what_parse_nik_reads(region, gender):
    born = date(1988, 12, 9)
    nik = make_nik(region, born, gender, 42, district="07")
    info = ok(nik)
    assert (info.regency, info.district) == (
        f"{region.replace('.', '')[:2]}.{region[-2:]}",
        f"{region.replace('.', '')[:2]}.{region[-2:]}.07",
    )
    assert (info.birth_date, info.gender, info.serial) == (born, gender, "0042")


def test_make_nik_adds_40_to_a_womans_day():
    assert make_nik("31.71", date(1945, 8, 17), Gender.FEMALE, 1) == "3171015708450001"
    assert make_nik("31.71", date(1945, 8, 17), Gender.MALE, 1) == "3171011708450001"


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("15.05", date(1990, 1, 1), Gender.MALE, 0), {}),
        (("15.05", date(1990, 1, 1), Gender.MALE, 10000), {}),
        (("15", date(1990, 1, 1), Gender.MALE, 1), {}),
        (("15.05", date(1990, 1, 1), Gender.MALE, 1), {"district": "00"}),
    ],
)
def test_make_nik_refuses_impossible_input(args, kwargs):
    with pytest.raises(ValueError):
        make_nik(*args, **kwargs)


# --- python-stdnum as an oracle for the rules both implement -------------------------------------

_PREFIXES = st.sampled_from(["11", "15", "31", "32", "35", "73", "91", "94"])
_NIKS = st.builds(
    lambda p, r, d, dd, mm, yy, s: f"{p}{r:02d}{d:02d}{dd:02d}{mm:02d}{yy:02d}{s:04d}",
    _PREFIXES,
    st.integers(0, 99),
    st.integers(0, 20),
    st.integers(0, 79),
    st.integers(0, 13),
    st.integers(0, 99),
    st.integers(0, 20),
)


@settings(max_examples=500, deadline=None)
@given(_NIKS)
def test_agrees_with_python_stdnum(value):
    ours = parse_nik(value, today=TODAY)
    if stdnum_nik.is_valid(value):
        # stdnum checks neither regency range, district nor serial: the rest it accepts, we do.
        assert isinstance(ours, NikInfo) or ours.code in {
            "nik_regency",
            "nik_district",
            "nik_serial",
        }
        if isinstance(ours, NikInfo):
            theirs = stdnum_nik.get_birth_date(value)
            assert (theirs.month, theirs.day) == (ours.birth_date.month, ours.birth_date.day)
    if isinstance(ours, NikError) and ours.code == "nik_birth_date":
        assert not stdnum_nik.is_valid(value)


def test_where_python_stdnum_is_out_of_date_we_accept():
    # Papua Barat (92) and the 2022 provinces are missing from python-stdnum's table.
    for value in ("9202011708900001", "9301011708900001", "9501011708900001", "9671011708900001"):
        assert not stdnum_nik.is_valid(value)
        assert ok(value).nik == value
