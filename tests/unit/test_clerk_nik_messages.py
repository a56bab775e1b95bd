"""NIK mismatch messages say what the NIK implies (issue 21): the birth date it encodes, the
gender (a woman's day of birth has 40 added), the position of a stray letter. A clerk fixing
row 812 of a spreadsheet needs that, not only "does not match the NIK"."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.records import RawRow
from gateway.domain.validation import validate_row

TODAY = date(2025, 6, 1)
NIK = "1505011708850001"  # a man born 17-08-1985
NIK_WOMAN = "1505015708850002"  # a woman born 17-08-1985 (day 17 + 40 = 57)


def problem(field: str, **values: str):
    row = {"nik": NIK, "name": "Budi Santoso", "gender": "L", "birth_date": "17-08-1985",
           "wage": "Rp 3.500.000", "start_date": "01-01-2024", "category": "Honorer"}
    row.update(values)
    found = [p for p in validate_row(RawRow(5, row), today=TODAY).problems if p.field == field]
    assert len(found) == 1, found
    return found[0]


def test_a_birth_date_mismatch_says_the_date_the_nik_encodes():
    p = problem("birth_date", birth_date="18-08-1985")
    assert p.code == "birth_date_mismatch"
    assert p.message_id == ("Tanggal lahir tidak sesuai dengan NIK: NIK (digit 7-12) menyatakan "
                            "lahir 17-08-1985, sedangkan roster menulis 18-08-1985.")
    assert "the NIK (digits 7-12) says born 17-08-1985, while the roster says 18-08-1985" in (
        p.message_en)


def test_a_womans_nik_date_is_said_with_the_40_taken_off():
    p = problem("birth_date", nik=NIK_WOMAN, gender="P", birth_date="17-09-1985")
    assert "menyatakan lahir 17-08-1985 (perempuan: tanggal di NIK dikurangi 40)" in p.message_id


@pytest.mark.parametrize(
    ("nik", "gender", "says_id", "says_en"),
    [(NIK_WOMAN, "L", "NIK ini milik perempuan (digit 7-8 = 57, yaitu tanggal lahir 17 + 40), "
      "sedangkan roster menulis laki-laki", "this NIK is a woman's (digits 7-8 = 57, i.e. day "
      "of birth 17 + 40), while the roster says male"),
     (NIK, "P", "NIK ini milik laki-laki (digit 7-8 = 17", "while the roster says female")],
)  # fmt: skip
def test_a_gender_mismatch_says_the_gender_and_why(nik, gender, says_id, says_en):
    p = problem("gender", nik=nik, gender=gender)
    assert p.code == "gender_mismatch"
    assert says_id in p.message_id and says_en in p.message_en


@pytest.mark.parametrize(
    ("nik", "position", "char", "hint"),
    [("15050117O8850001", 9, "'O'", "Huruf 'O' mungkin maksudnya angka 0?"),
     ("1505 0117 0885 000l", 16, "'l'", "Huruf 'l' mungkin maksudnya angka 1?"),
     ("150501-1708850001", 7, "'-'", "")],
)  # fmt: skip
def test_a_stray_character_is_named_with_its_position(nik, position, char, hint):
    p = problem("nik", nik=nik)
    assert p.code == "nik_not_digits"
    assert f"karakter ke-{position} adalah {char}, bukan angka." in p.message_id
    assert f"character {position} is {char}, not a digit." in p.message_en
    assert p.message_id.endswith(hint)
    assert "1505" not in p.message_id  # the NIK itself is never in a stored message


def test_an_impossible_nik_date_says_its_digits():
    p = problem("nik", nik="1505013213850001")
    assert p.code == "nik_birth_date"
    assert "tanggal 32, bulan 13, tahun 85" in p.message_id
    assert "day 32, month 13, year 85" in p.message_en
