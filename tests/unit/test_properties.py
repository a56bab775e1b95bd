"""Property-based tests: the parsers and the roster reader never fail with an unhandled
exception, whatever a spreadsheet throws at them, and round-trip where they apply."""

from __future__ import annotations

import csv
import io
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.domain.nik import NikError, NikInfo, make_nik, parse_nik
from gateway.domain.parsing import (
    ParseError,
    parse_category,
    parse_date,
    parse_gender,
    parse_money,
)
from gateway.domain.records import Gender, RawRow
from gateway.domain.validation import validate_row
from gateway.roster.read.reader import RosterFileError, open_roster

EXAMPLES = 400
TODAY = date(2026, 11, 21)
MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember"]
cells = st.one_of(st.text(max_size=40), st.from_regex(r"[0-9 .,'Rp-]{0,24}", fullmatch=True))


@settings(max_examples=EXAMPLES, deadline=None)
@given(cells)
def test_parsers_raise_only_parse_error(text):
    for parse in (parse_date, parse_money, parse_gender, parse_category):
        try:
            parse(text)
        except ParseError as exc:
            assert exc.code  # a coded problem a clerk can act on


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.one_of(cells, st.none()), st.booleans(), st.one_of(st.none(), st.dates()))
def test_parse_nik_returns_info_or_a_coded_error(text, numeric, birth):
    result = parse_nik(text, numeric_cell=numeric, birth_date=birth, today=TODAY)
    assert isinstance(result, NikInfo | NikError)
    if isinstance(result, NikError):
        assert result.code.startswith("nik_")
        # Problems are stored and shown: their parameters never carry the value itself.
        assert all(len(str(v)) < 10 for v in result.params.values())


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.integers(min_value=1, max_value=999_999_999))
def test_money_round_trips_in_every_spreadsheet_spelling(amount):
    dotted = f"{amount:,}".replace(",", ".")
    for spelling in (str(amount), f"Rp {dotted}", f"Rp{dotted}", f"{dotted},00",
                     f"{amount:,}.00"):
        assert parse_money(spelling) == amount, spelling


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31)))
def test_dates_round_trip_in_every_accepted_spelling(day):
    for spelling in (day.strftime("%d-%m-%Y"), day.strftime("%d/%m/%Y"), day.isoformat(),
                     f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"):
        assert parse_date(spelling) == day, spelling


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.sampled_from(["15.05", "31.74", "91.01", "96.71", "11.01"]),
    st.dates(min_value=date(1927, 1, 1), max_value=date(2010, 12, 31)),
    st.sampled_from(list(Gender)),
    st.integers(min_value=1, max_value=9999),
)
def test_make_nik_and_parse_nik_round_trip(region, born, gender, serial):
    nik = make_nik(region, born, gender, serial)
    info = parse_nik(nik, birth_date=born, today=TODAY)
    assert isinstance(info, NikInfo)
    assert (info.birth_date, info.gender, info.regency) == (born, gender, region)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.dictionaries(st.sampled_from(["nik", "name", "gender", "birth_date", "wage",
                                        "start_date", "category", "position"]),
                       st.one_of(st.none(), cells)))
def test_validate_row_never_raises(values):
    result = validate_row(RawRow(row=2, values=values), today=TODAY)
    assert result.accepted != bool([p for p in result.problems if p.severity == "error"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_roster_reader_on_arbitrary_bytes_gives_rows_or_a_file_error(data):
    try:
        with open_roster(io.BytesIO(data), filename="upload.csv") as reader:
            for raw in reader:
                assert raw.row >= 2
            reader.notices()
    except RosterFileError as exc:
        assert exc.as_problem().code


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]),
                                 max_size=12), min_size=4, max_size=4), max_size=20),
       st.sampled_from([",", ";"]))
def test_csv_cells_round_trip_through_the_reader(rows, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["NIK", "Nama", "Gaji", "TMT"])
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8-sig")
    with open_roster(io.BytesIO(data), filename="r.csv") as reader:
        got = [[raw.values.get(f) for f in ("nik", "name", "wage", "start_date")]
               for raw in reader]
    expected = [[c.strip() or None for c in row] for row in rows if any(c.strip() for c in row)]
    # Totals rows (empty NIK, a cell starting with JUMLAH/TOTAL) are skipped on purpose.
    expected = [r for r in expected if not (r[0] is None and any(
        (c or "").lower().startswith(("jumlah", "total")) for c in r))]
    assert got == expected
