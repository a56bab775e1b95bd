"""Synthetic but realistic rosters, for `make run`, tests and benchmarks: generating them, and
writing them as the CSV and XLSX files clerks send (the demo agencies: `demo_agencies.py`).

Rows look like what regional governments really upload (docs/domain.md §4): Indonesian names by
region, OPD work units, wages around the provincial minimum, and the mixed date, money and
gender spellings of hand-kept spreadsheets. NIKs are structurally valid (gateway.domain.nik),
agree with gender and birth date, and are unique by construction: the district and serial
come from a permutation of the row index, so no set of seen NIKs grows with the file. With
`error_rate` a share of rows carries exactly one realistic mistake (ERROR_KINDS).

Everything is deterministic for a seed, and nothing reads the clock. No real person's data.
"""

from __future__ import annotations

import csv
import math
import random
import re
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

from gateway.demo.words import (
    CATEGORY_TEXT,
    DATE_STYLES,
    GENDER_STYLES,
    MONEY_STYLES,
    POOLS,
    POSITIONS,
    PROVINCE_STYLE,
    STYLES,
    UNITS,
    VILLAGES,
    WAGE_FACTOR,
    date_text,
    money_text,
)
from gateway.domain.nik import make_nik
from gateway.domain.records import Category, Gender
from gateway.domain.regions import Region, get_region, regencies_and_cities

COLUMNS = (
    "NIK",
    "Nama Lengkap",
    "Jenis Kelamin",
    "Tanggal Lahir",
    "Jabatan",
    "Unit Kerja",
    "Gaji",
    "TMT",
    "Kategori",
)
ERROR_KINDS = (
    "nik_scientific",  # the NIK column was a number: 3.17101E+15
    "nik_15_digits",  # a digit lost while typing
    "gender_mismatch",  # gender column disagrees with the NIK
    "birth_date_mismatch",  # birth date column disagrees with the NIK
    "wage_missing",  # "" or "-"
    "impossible_date",  # 31-02-1990 in the birth date or TMT column
    "duplicate_nik",  # the same person listed again (the later row is the error)
    "under_age",  # younger than 15 at TMT
    "name_missing",
)
DEFAULT_START = date(2025, 1, 1)
MIN_WAGE, MAX_WAGE = 1_500_000, 6_000_000
# Provincial minimum wages 2025 (docs/domain.md §5): demo figures only, never used for rules.
_UMP = {"31": 5_396_761, "16": 3_681_571, "15": 3_234_533, "17": 2_670_039, "18": 2_893_069}
_UMP_ELSEWHERE = 3_000_000
# A regional government's roster when no category is given: mostly honorer.
_MIXED = (Category.HONORER, Category.APARAT_DESA, Category.RT_RW, Category.PEKERJA_RENTAN)
_MIXED_WEIGHTS = (85, 7, 4, 4)
# What a duplicate row repeats: the same person copied in again.
_PERSON = ("NIK", "Nama Lengkap", "Jenis Kelamin", "Tanggal Lahir", "TMT")

# NIK uniqueness: the row index within a block of _SLOTS maps one-to-one (multiplying by a
# number coprime to _SLOTS) onto district 01-30 x serial 0001-9999; blocks differ by birth date.
_DISTRICTS, _SERIALS = 30, 9999
_SLOTS = _DISTRICTS * _SERIALS
_STRIDE = 7919  # prime, shares no factor with 2 * 3**3 * 5 * 11 * 101
# Block b takes birth dates whose day number is b modulo the block count, so the count must
# stay far below the ~1,000 days an under-age birth date is drawn from: 30 million rows.
_MAX_BLOCKS = 100
MAX_ROWS = _SLOTS * _MAX_BLOCKS


def _place(region: Region) -> str:
    name = re.sub(r"^(KABUPATEN|KOTA)( ADMINISTRASI)? ", "", region.name)
    return name.title()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class _Homes(NamedTuple):
    local: list[Region]  # where most workers were first registered
    same_province: list[Region]
    everywhere: list[Region]
    agency: Region | None  # the regency or city whose roster this is
    ump: int


def _home_regions(province: str | None, regency: str | None) -> _Homes:
    everywhere = regencies_and_cities()
    agency = get_region(regency) if regency is not None else None
    if regency is not None and (agency is None or agency.kind == "province"):
        raise ValueError(f"unknown regency or city {regency!r}")
    province = agency.province if agency is not None else province
    same_province = regencies_and_cities(province) if province is not None else everywhere
    if not same_province:
        raise ValueError(f"unknown province {province!r}")
    local = [agency] if agency is not None else same_province
    return _Homes(
        local, same_province, everywhere, agency, _UMP.get(province or "", _UMP_ELSEWHERE)
    )


def generate_labelled_roster(
    n: int,
    *,
    seed: int = 0,
    province: str | None = None,
    regency: str | None = None,
    error_rate: float = 0.0,
    start: date | None = None,
    category: Category | None = None,
) -> Iterator[tuple[dict[str, str], str | None]]:
    """Like `generate_roster`, with each row's deliberate mistake (an ERROR_KINDS entry) or None."""
    if not 0 <= n <= _SLOTS * _MAX_BLOCKS:
        raise ValueError(f"n must be between 0 and {_SLOTS * _MAX_BLOCKS:,}")
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError("error_rate must be between 0 and 1")
    # Checked now, not at the first row: a typo in a region code should fail at the call.
    homes = _home_regions(province, regency)
    return _generate(n, seed, error_rate, start or DEFAULT_START, category, homes)


def _generate(
    n: int,
    seed: int,
    error_rate: float,
    start: date,
    category: Category | None,
    homes: _Homes,
) -> Iterator[tuple[dict[str, str], str | None]]:
    rng = random.Random(seed)
    local, same_province, everywhere, agency, ump = homes
    # Each spreadsheet has its habits; about one cell in seven strays from them.
    date_style = rng.choice(DATE_STYLES[:4])
    money_style = rng.choice(MONEY_STYLES)
    gender_style = rng.choice(GENDER_STYLES[:3])
    upper_names = rng.random() < 0.5
    offset = rng.randrange(_SLOTS)
    blocks = max(1, math.ceil(n / _SLOTS))
    recent: deque[dict[str, str]] = deque(maxlen=50)  # people a duplicate row may repeat

    def habit(usual: str, styles: tuple[str, ...]) -> str:
        return usual if rng.random() < 0.85 else rng.choice(styles)

    for index in range(n):
        kind = rng.choice(ERROR_KINDS) if rng.random() < error_rate else None
        if kind == "duplicate_nik" and not recent:
            kind = "wage_missing"  # nobody to repeat yet: still exactly one mistake
        worker_category = category or rng.choices(_MIXED, _MIXED_WEIGHTS)[0]
        roll = rng.random()
        if roll < 0.1:
            home = rng.choice(everywhere)  # people move: registered elsewhere
        elif agency is not None and roll < 0.4:
            home = rng.choice(same_province)
        else:
            home = rng.choice(local)
        gender = Gender.FEMALE if rng.random() < 0.45 else Gender.MALE
        # Half start with the budget year; the rest have served for up to 12 years.
        tmt = start
        if rng.random() < 0.5:
            months = start.year * 12 + start.month - 1 - rng.randint(1, 144)
            tmt = date(months // 12, months % 12 + 1, 1)
        youngest, oldest = (12, 14) if kind == "under_age" else (20, 58)
        earliest = _years_before(tmt, oldest + 1).toordinal() + 1
        latest = _years_before(tmt, youngest).toordinal()
        born = rng.randint(earliest + blocks, latest)
        born -= (born - index // _SLOTS) % blocks  # this block's birth dates only
        birth = date.fromordinal(born)
        slot = (index % _SLOTS * _STRIDE + offset) % _SLOTS
        district = f"{slot // _SERIALS + 1:02d}"
        nik = make_nik(home.code, birth, gender, slot % _SERIALS + 1, district)

        style = PROVINCE_STYLE.get(home.province, "melayu")
        if rng.random() < 0.25:
            style = rng.choice(STYLES)
        given, given_f, second, second_f = POOLS[style]
        first, last = (given, second) if gender == Gender.MALE else (given_f, second_f)
        parts = [rng.choice(first)]
        if rng.random() < (0.95 if style in ("batak", "timur", "bali") else 0.7):
            parts.append(rng.choice(last))
        name = " ".join(parts)
        place = _place(agency or rng.choice(same_province))
        village = rng.choice(VILLAGES)
        unit = rng.choice(UNITS[worker_category])
        low, high = WAGE_FACTOR[worker_category]
        wage = round(ump * rng.uniform(low, high) / 50_000) * 50_000
        wage = min(MAX_WAGE, max(MIN_WAGE, wage))
        genders = gender_style if rng.random() < 0.85 else rng.choice(GENDER_STYLES)
        row = {
            "NIK": nik,
            "Nama Lengkap": name.upper() if upper_names else name,
            "Jenis Kelamin": genders[gender == Gender.FEMALE],
            "Tanggal Lahir": date_text(birth, habit(date_style, DATE_STYLES)),
            "Jabatan": rng.choice(POSITIONS[worker_category]),
            "Unit Kerja": unit.format(place=place, village=village, n=rng.randint(1, 40)),
            "Gaji": money_text(wage, habit(money_style, MONEY_STYLES)),
            "TMT": date_text(tmt, habit(date_style, DATE_STYLES)),
            "Kategori": CATEGORY_TEXT[worker_category],
        }
        if kind is None:
            recent.append({column: row[column] for column in _PERSON})
        elif kind != "under_age":  # under age: the birth date drawn above is the mistake
            _spoil(row, kind, rng, recent, birth, tmt)
        yield row, kind


def _spoil(
    row: dict[str, str],
    kind: str,
    rng: random.Random,
    recent: deque[dict[str, str]],
    birth: date,
    tmt: date,
) -> None:
    """Give `row` exactly one mistake of `kind`."""
    nik = row["NIK"]
    if kind == "nik_scientific":
        row["NIK"] = f"{int(nik) / 1e15:.5f}E+15"
    elif kind == "nik_15_digits":
        cut = rng.randrange(16)
        row["NIK"] = nik[:cut] + nik[cut + 1 :]
    elif kind == "gender_mismatch":
        female = int(nik[6:8]) > 40
        row["Jenis Kelamin"] = "L" if female else "P"
    elif kind == "birth_date_mismatch":
        shifted = birth + timedelta(days=rng.choice((-1, 1)) * rng.randint(1, 400))
        row["Tanggal Lahir"] = date_text(shifted, "dd-mm-yyyy")
    elif kind == "wage_missing":
        row["Gaji"] = rng.choice(("", "-"))
    elif kind == "impossible_date":
        column = rng.choice(("Tanggal Lahir", "TMT"))
        year = (birth if column == "Tanggal Lahir" else tmt).year
        day, month = rng.choice(((31, 2), (30, 2), (31, 4), (31, 6), (31, 9), (31, 11)))
        row[column] = f"{day:02d}-{month:02d}-{year}"
    elif kind == "duplicate_nik":
        row.update(rng.choice(recent))
    elif kind == "name_missing":
        row["Nama Lengkap"] = ""


def generate_roster(
    n: int,
    *,
    seed: int = 0,
    province: str | None = None,
    regency: str | None = None,
    error_rate: float = 0.0,
    start: date | None = None,
    category: Category | None = None,
) -> Iterator[dict[str, str]]:
    """`n` roster rows keyed by COLUMNS, lazily (memory stays flat for any `n`).

    Workers were mostly first registered in `regency` (or `province`; anywhere when neither is
    given), about 10 % elsewhere. `start` is the latest TMT (default 2025-01-01); `category`
    None mixes a regional government's kinds of worker, mostly honorer.
    """
    labelled = generate_labelled_roster(
        n,
        seed=seed,
        province=province,
        regency=regency,
        error_rate=error_rate,
        start=start,
        category=category,
    )
    return (row for row, _ in labelled)


# ------------------------------------------------------------------------------ writing files

_SCIENTIFIC = re.compile(r"\d\.\d+E\+\d+")
_WIDTHS = {"NIK": 20, "Nama Lengkap": 30, "Jabatan": 28, "Unit Kerja": 36}


def _with_totals(rows: Iterable[dict[str, str]], totals_row: bool) -> Iterator[dict[str, str]]:
    columns: Iterable[str] = COLUMNS
    for row in rows:
        columns = row.keys()
        yield row
    if totals_row:  # what hand-kept spreadsheets end with; readers must skip it
        yield {column: "JUMLAH" if column == "Nama Lengkap" else "" for column in columns}


def write_csv(
    path: str | Path,
    rows: Iterable[dict[str, str]],
    *,
    delimiter: str = ";",
    encoding: str = "utf-8-sig",
    totals_row: bool = False,
) -> int:
    """Write rows as Excel writes CSV (CRLF, BOM by default); return the data rows written."""
    written = 0
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer: csv.DictWriter[str] | None = None
        for row in _with_totals(rows, totals_row):
            if writer is None:
                writer = csv.DictWriter(
                    handle, list(row), delimiter=delimiter, lineterminator="\r\n"
                )
                writer.writeheader()
            writer.writerow(row)
            written += 1
        if writer is None:
            csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerow(COLUMNS)
    return written - totals_row if written else 0


def write_xlsx(
    path: str | Path, rows: Iterable[dict[str, str]], *, totals_row: bool = False
) -> int:
    """Write rows to an XLSX (streaming, write-only); return the data rows written.

    The NIK column is text-formatted, as a careful clerk would do; a NIK the generator mangled
    into scientific notation is written as the number cell a spreadsheet would have made, and
    wages that are plain digits as numbers, so readers meet both kinds of cell.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data Pekerja")
    for position, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = _WIDTHS.get(column, 16)
    written = 0
    header: list[str] | None = None
    for row in _with_totals(rows, totals_row):
        if header is None:
            header = list(row)
            sheet.append(header)
        cells: list[object] = []
        for column, value in row.items():
            if column == "NIK" and _SCIENTIFIC.fullmatch(value):
                cells.append(float(value))
            elif column == "NIK":
                cell = WriteOnlyCell(sheet, value=value or None)
                cell.number_format = "@"
                cells.append(cell)
            elif column == "Gaji" and value.isdigit():
                cells.append(int(value))
            else:
                cells.append(value or None)
        sheet.append(cells)
        written += 1
    if header is None:
        sheet.append(list(COLUMNS))
    book.save(path)
    return written - totals_row if written else 0
