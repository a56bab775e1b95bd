"""The demo roster generator: realistic, valid, unique, deterministic, readable back."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

import gateway.demo.rosters as demo
from gateway.demo.agencies import demo_rosters
from gateway.demo.rosters import (
    COLUMNS,
    ERROR_KINDS,
    MAX_WAGE,
    MIN_WAGE,
    generate_labelled_roster,
    generate_roster,
    write_csv,
    write_xlsx,
)
from gateway.domain.nik import NikInfo, parse_nik
from gateway.domain.parsing import parse_category, parse_date, parse_gender, parse_money
from gateway.domain.records import Category, RawRow
from gateway.domain.validation import validate_row
from gateway.roster.read.reader import open_roster

TODAY = date(2025, 6, 1)

# The problem code validation reports for each deliberate mistake.
EXPECTED_CODE = {
    "nik_scientific": "nik_scientific",
    "nik_15_digits": "nik_length",
    "gender_mismatch": "gender_mismatch",
    "birth_date_mismatch": "birth_date_mismatch",
    "wage_missing": "wage_missing",
    "impossible_date": "date_invalid",
    "under_age": "age_under_15",
    "name_missing": "name_missing",
}
_FIELDS = {
    "NIK": "nik",
    "Nama Lengkap": "name",
    "Jenis Kelamin": "gender",
    "Tanggal Lahir": "birth_date",
    "Jabatan": "position",
    "Unit Kerja": "work_unit",
    "Gaji": "wage",
    "TMT": "start_date",
    "Kategori": "category",
}


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _raw(row: dict[str, str], number: int) -> RawRow:
    return RawRow(number, {_FIELDS[k]: (v or None) for k, v in row.items()})


def test_rows_have_the_roster_header_spellings() -> None:
    row = next(generate_roster(1))
    assert tuple(row) == COLUMNS


def test_deterministic_for_a_seed() -> None:
    kwargs = {"seed": 7, "province": "16", "error_rate": 0.1}
    assert list(generate_roster(300, **kwargs)) == list(generate_roster(300, **kwargs))
    assert list(generate_roster(300, seed=8)) != list(generate_roster(300, seed=7))


def test_lazy_for_any_size() -> None:
    rows = generate_roster(demo.MAX_ROWS, seed=1)
    assert len(list(itertools.islice(rows, 3))) == 3


@pytest.mark.parametrize("category", [None, *Category])
def test_error_free_rows_are_valid_and_consistent(category: Category | None) -> None:
    rows = list(generate_roster(400, seed=3, regency="15.05", category=category))
    for number, row in enumerate(rows, start=2):
        birth = parse_date(row["Tanggal Lahir"])
        start = parse_date(row["TMT"])
        info = parse_nik(row["NIK"], birth_date=birth, today=TODAY)
        assert isinstance(info, NikInfo), row
        assert info.gender == parse_gender(row["Jenis Kelamin"])
        assert info.birth_date == birth
        assert 20 <= _age(birth, start) <= 58
        assert start <= date(2025, 1, 1)
        assert MIN_WAGE <= parse_money(row["Gaji"]) <= MAX_WAGE
        assert row["Nama Lengkap"].strip()
        if category is not None:
            assert parse_category(row["Kategori"]) == category
        result = validate_row(_raw(row, number), today=TODAY)
        assert result.accepted, result.problems
        assert result.problems == []


def test_mostly_from_the_given_regency_some_from_elsewhere() -> None:
    prefixes = Counter(row["NIK"][:4] for row in generate_roster(3000, seed=4, regency="15.05"))
    total = sum(prefixes.values())
    same_regency = prefixes["1505"] / total
    same_province = sum(c for p, c in prefixes.items() if p.startswith("15")) / total
    assert 0.5 < same_regency < 0.75
    assert 0.85 < same_province < 0.95


def test_province_only() -> None:
    provinces = Counter(row["NIK"][:2] for row in generate_roster(2000, seed=5, province="31"))
    assert 0.85 < provinces["31"] / 2000 < 0.95
    assert len(provinces) > 5


def test_unknown_region_is_rejected() -> None:
    with pytest.raises(ValueError):
        generate_labelled_roster(1, regency="15.99")
    with pytest.raises(ValueError):
        generate_labelled_roster(1, province="99")
    with pytest.raises(ValueError):
        generate_labelled_roster(demo.MAX_ROWS + 1)


def test_niks_are_unique() -> None:
    niks = [row["NIK"] for row in generate_roster(20_000, seed=6, regency="15.05")]
    assert len(set(niks)) == len(niks)


def test_niks_stay_unique_across_slot_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Shrink the slot space so that three blocks (told apart by birth date) fit a quick test.
    monkeypatch.setattr(demo, "_DISTRICTS", 1)
    monkeypatch.setattr(demo, "_SLOTS", demo._SERIALS)
    niks = [row["NIK"] for row in generate_roster(25_000, seed=6, regency="15.05")]
    assert len(set(niks)) == len(niks)


def test_slot_mapping_is_a_permutation() -> None:
    slots = {(i * demo._STRIDE + 12345) % demo._SLOTS for i in range(demo._SLOTS)}
    assert len(slots) == demo._SLOTS


def test_error_rate_share_and_kinds() -> None:
    kinds = [kind for _, kind in generate_labelled_roster(5000, seed=9, error_rate=0.1)]
    share = sum(kind is not None for kind in kinds) / len(kinds)
    assert 0.085 < share < 0.115
    assert set(kinds) - {None} == set(ERROR_KINDS)


def test_each_mistake_is_exactly_one_problem() -> None:
    seen: dict[str, int] = {}
    labelled = generate_labelled_roster(3000, seed=11, province="17", error_rate=0.3)
    for number, (row, kind) in enumerate(labelled, start=2):
        result = validate_row(_raw(row, number), today=TODAY)
        codes = [p.code for p in result.problems]
        nik = row["NIK"]
        if kind == "duplicate_nik":
            assert result.accepted and nik in seen, row
        elif kind is None:
            assert codes == [] and nik not in seen, row
        else:
            assert codes == [EXPECTED_CODE[kind]], (kind, row, codes)
        if result.accepted:
            seen.setdefault(nik, number)


def test_formats_are_mixed_like_real_spreadsheets() -> None:
    rows = list(generate_roster(3000, seed=12))
    dates = {("/" in r["TMT"], "-" in r["TMT"], r["TMT"][:1].isdigit()) for r in rows}
    assert len(dates) >= 3
    assert any(r["Gaji"].startswith("Rp") for r in rows)
    assert any(r["Gaji"].isdigit() for r in rows)
    assert {r["Jenis Kelamin"].upper() for r in rows} >= {"L", "P", "LAKI-LAKI", "PEREMPUAN"}
    assert any(r["Tanggal Lahir"].split()[1:2] == ["Agustus"] for r in rows)


def test_csv_round_trip_through_the_reader(tmp_path: Path) -> None:
    rows = list(generate_roster(500, seed=13, province="16", error_rate=0.05))
    path = tmp_path / "roster.csv"
    assert write_csv(path, rows, totals_row=True) == 500
    with open_roster(path) as reader:
        read = list(reader)
        assert (reader.encoding, reader.delimiter) == ("utf-8-sig", ";")
        assert reader.skipped_totals == [502]
        assert reader.unknown_columns == []
    assert [r.row for r in read] == list(range(2, 502))
    assert [r.values for r in read] == [_raw(row, 0).values for row in rows]


def test_cp1252_comma_csv(tmp_path: Path) -> None:
    rows = list(generate_roster(50, seed=14))
    path = tmp_path / "roster.csv"
    write_csv(path, rows, delimiter=",", encoding="cp1252")
    with open_roster(path) as reader:
        assert reader.delimiter == ","
        assert [r.values["nik"] for r in reader] == [row["NIK"] for row in rows]


def test_xlsx_round_trip_through_the_reader(tmp_path: Path) -> None:
    labelled = list(generate_labelled_roster(400, seed=15, regency="18.71", error_rate=0.2))
    path = tmp_path / "roster.xlsx"
    assert write_xlsx(path, (row for row, _ in labelled), totals_row=True) == 400
    with open_roster(path) as reader:
        read = list(reader)
        assert reader.skipped_totals == [402]
    assert len(read) == 400
    for raw, (row, kind) in zip(read, labelled, strict=True):
        assert ("nik" in raw.numeric_fields) == (kind == "nik_scientific")
        assert ("wage" in raw.numeric_fields) == row["Gaji"].isdigit()
        if kind != "nik_scientific":
            assert raw.values["nik"] == row["NIK"]
        assert raw.values["name"] == (row["Nama Lengkap"] or None)
        assert raw.values["birth_date"] == row["Tanggal Lahir"]
        numeric = "nik" in raw.numeric_fields
        nik_check = parse_nik(raw.values["nik"], numeric_cell=numeric, today=TODAY)
        assert isinstance(nik_check, NikInfo) == (kind not in ("nik_scientific", "nik_15_digits"))


def test_empty_rosters_still_have_a_header(tmp_path: Path) -> None:
    for path, write in ((tmp_path / "e.csv", write_csv), (tmp_path / "e.xlsx", write_xlsx)):
        assert write(path, []) == 0
        with open_roster(path) as reader:
            assert list(reader) == []
            assert set(reader.columns.values()) == set(_FIELDS.values())


def test_demo_rosters_write_and_read_back(tmp_path: Path) -> None:
    rosters = demo_rosters()
    assert len({r.agency for r in rosters}) == len({r.filename for r in rosters}) == 5
    assert {r.agency for r in rosters} == {"15.05", "31", "16", "17", "18.71"}
    for roster in rosters:
        path = roster.write(tmp_path)
        with open_roster(path) as reader:
            results = [validate_row(raw, today=TODAY) for raw in reader]
        assert len(results) == roster.n
        rejected = sum(not r.accepted for r in results) / roster.n
        assert rejected <= roster.error_rate * 2 + 0.01, roster
        if roster.error_rate == 0:
            assert rejected == 0
