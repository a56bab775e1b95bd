"""The NIK (Nomor Induk Kependudukan): normalising, checking and decoding it (docs/domain.md §3).

A NIK is 16 digits, `PP RR DD DDMMYY SSSS`: province, regency/city and district of first
registration, the birth date with 40 added to the day for women, and a serial (never 0000).

Why not just `stdnum.id.nik.validate`: python-stdnum checks digits, length and the birth date,
but its place check looks the province up in a pre-2022 table (so it rejects every NIK
starting 92, 93, 95 or 96), it does not check the regency, district or serial, and its century
guess tries 1900 first. Rejecting a real NIK would block a worker's enrolment, so this module
implements the structure itself: province prefixes against our Kemendagri table, regency codes
by range only (an unknown but well-formed regency is accepted). The tests use python-stdnum as
an oracle for the rules both implement.

`parse_nik` returns a `NikError` value rather than raising: a bad NIK is an ordinary outcome
when validating millions of rows, and the caller turns it into a `Problem` with `nik_problem`.
`read_nik` is the same check without building a `NikInfo`, for row validation. What a NIK's
first 12 digits say (place, birth date) repeats across a roster and is cached, bounded.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date

from gateway.domain.records import Gender, Message, Problem, Severity, make_problem
from gateway.domain.regions import is_nik_province

_E = Severity.ERROR

_TEXT_HINT_ID = " Format kolom NIK sebagai Teks di spreadsheet, lalu ketik ulang NIK-nya."
_TEXT_HINT_EN = " Format the NIK column as Text in the spreadsheet and type the NIK in again."

MESSAGES: dict[str, Message] = {
    "nik_missing": Message(_E, "NIK wajib diisi.", "The NIK is required."),
    "nik_numeric_cell": Message(
        _E,
        "NIK tersimpan sebagai angka, sehingga digit terakhirnya sudah hilang." + _TEXT_HINT_ID,
        "The NIK was stored as a number, so its last digits are already lost." + _TEXT_HINT_EN,
    ),
    "nik_scientific": Message(
        _E,
        "NIK tertulis dalam notasi ilmiah (seperti 1.50501E+15): spreadsheet menyimpannya "
        "sebagai angka dan digitnya sudah hilang." + _TEXT_HINT_ID,
        "The NIK is in scientific notation (like 1.50501E+15): the spreadsheet stored it as a "
        "number and its digits are lost." + _TEXT_HINT_EN,
    ),
    "nik_length": Message(
        _E,
        "NIK harus 16 digit, tetapi berisi {length} digit.{hint_id}",
        "A NIK has 16 digits, this one has {length}.{hint_en}",
    ),
    "nik_not_digits": Message(
        _E,
        "NIK hanya boleh berisi angka (spasi dan titik diabaikan): karakter ke-{position} "
        "adalah {char}, bukan angka.{hint_id}",
        "A NIK may contain digits only (spaces and dots are ignored): character {position} is "
        "{char}, not a digit.{hint_en}",
    ),
    "nik_province": Message(
        _E,
        "Kode provinsi NIK ({prefix}) tidak dikenal.",
        "The NIK's province code ({prefix}) does not exist.",
    ),
    "nik_regency": Message(
        _E,
        "Kode kabupaten/kota NIK ({regency}) tidak mungkin: kabupaten 01-69, kota 71-99.",
        "The NIK's regency/city code ({regency}) is impossible: regencies 01-69, cities 71-99.",
    ),
    "nik_district": Message(
        _E,
        "Kode kecamatan NIK tidak boleh 00.",
        "The NIK's district code cannot be 00.",
    ),
    "nik_birth_date": Message(
        _E,
        "Tanggal lahir di dalam NIK (digit 7-12) bukan tanggal yang ada: tanggal {day}, "
        "bulan {month}, tahun {yy} (untuk perempuan tanggal ditambah 40, jadi 41-71).",
        "The birth date inside the NIK (digits 7-12) is not a real date: day {day}, month "
        "{month}, year {yy} (for women 40 is added to the day, so 41-71).",
    ),
    "nik_serial": Message(
        _E,
        "Nomor urut NIK (4 digit terakhir) tidak boleh 0000.",
        "The NIK's serial number (last 4 digits) cannot be 0000.",
    ),
}

# Only 15 significant digits survive a spreadsheet number, so a 15-digit NIK is that.
_LENGTH_15_HINT_ID = " Spreadsheet hanya menyimpan 15 digit angka:" + _TEXT_HINT_ID
_LENGTH_15_HINT_EN = " Spreadsheets keep only 15 significant digits of a number:" + _TEXT_HINT_EN

# "1.50501E+15", "3,17101E+15" (comma in an Indonesian locale), "1.5E15".
_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]*)?[eE][+]?[0-9]+")
# Removed by normalisation: separators people type, and spreadsheet no-break spaces.
_STRIP_INSIDE = str.maketrans("", "", " .\t\u00a0")

_MIN_AGE = 15
_MAX_AGE = 100


@dataclass(frozen=True, slots=True)
class NikInfo:
    """What a valid NIK says.

    `province` is the prefix: where the person was first registered, not where they live or
    work today (for Papua the name behind a prefix differs between sources; never map it to a
    current province).
    """

    nik: str  # 16 digits
    province: str  # "PP"
    regency: str  # "PP.RR"
    district: str  # "PP.RR.DD"
    birth_date: date
    gender: Gender
    serial: str  # "SSSS"


@dataclass(frozen=True, slots=True)
class NikError:
    """Why a value is not a usable NIK: a `MESSAGES` code and its message parameters.

    The parameters never contain the NIK itself (reports are stored and shown; NIKs are PII).
    """

    code: str
    params: dict[str, object] = field(default_factory=dict)


def normalize_nik(value: str) -> str:
    """Strip surrounding spaces, one leading apostrophe, and inner spaces and dots.

    The apostrophe is the spreadsheet habit for keeping a number as text. Nothing else is
    changed: whatever remains is checked by `parse_nik`.
    """
    value = value.strip()
    if value.startswith("'"):
        value = value[1:]
    return value.translate(_STRIP_INSIDE)


# Bounds of the caches below (an entry is ~200 bytes): Indonesia has some 7,300 districts,
# and the working-age birth dates a roster holds are some 30,000 DDMMYY (two genders).
_PLACE_CACHE_SIZE = 16384
_BIRTH_CACHE_SIZE = 32768


def _birth_date(day: int, month: int, yy: int, roster: date | None, today: date) -> date | None:
    """The birth date encoded as DDMMYY, with its century chosen (None if no such date)."""
    # The roster's year settles the century when the roster agrees with the NIK; when it
    # disagrees, validation reports the mismatch and the NIK is decoded on its own.
    if roster is not None and (roster.day, roster.month, roster.year % 100) == (day, month, yy):
        return roster
    before_birthday = (today.month, today.day) < (month, day)
    existing: list[date] = []
    for year in (2000 + yy, 1900 + yy):
        try:
            born = date(year, month, day)
        except ValueError:  # 29 February exists in one century only, e.g. 2000 but not 1900
            continue
        if _MIN_AGE <= today.year - year - before_birthday <= _MAX_AGE:
            return born
        existing.append(born)
    # Nobody fits 15-100: take the latest date not in the future, so that a child's NIK
    # decodes to the child's age and validation can say "under 15" rather than "bad NIK".
    for born in existing:
        if born <= today:
            return born
    return existing[-1] if existing else None


@functools.lru_cache(maxsize=_PLACE_CACHE_SIZE)
def _place(prefix: str) -> tuple[str, str, str] | NikError:
    """Province, regency and district codes of a NIK's first six digits, or the first thing
    wrong with them. A returned `NikError` is the cache's own: copy it before handing it out."""
    province = prefix[:2]
    if not is_nik_province(province):
        return NikError("nik_province", {"prefix": province})
    regency = int(prefix[2:4])
    if not (1 <= regency <= 69 or 71 <= regency <= 99):
        return NikError("nik_regency", {"regency": prefix[2:4]})
    if prefix[4:6] == "00":
        return NikError("nik_district")
    regency_code = f"{province}.{prefix[2:4]}"
    return province, regency_code, f"{regency_code}.{prefix[4:6]}"


@functools.lru_cache(maxsize=_BIRTH_CACHE_SIZE)
def _decode_birth(ddmmyy: str) -> tuple[int, int, int, Gender]:
    """Day, month, two-digit year and gender of a NIK's digits 7-12."""
    day = int(ddmmyy[:2])
    gender = Gender.MALE
    if day > 40:
        day -= 40
        gender = Gender.FEMALE
    return day, int(ddmmyy[2:4]), int(ddmmyy[4:]), gender


@functools.lru_cache(maxsize=_BIRTH_CACHE_SIZE)
def _guess_birth_date(day: int, month: int, yy: int, today: date) -> date | None:
    """`_birth_date` without a roster date (pure, so cached)."""
    return _birth_date(day, month, yy, None, today)


def read_nik(
    value: str | None,
    *,
    numeric_cell: bool = False,
    birth_date: date | None = None,
    today: date,
) -> tuple[str, Gender, date] | NikError:
    """`parse_nik` without the `NikInfo`: (the 16-digit NIK, gender, birth date) or the error."""
    if value is None:
        return NikError("nik_missing")
    if value.isascii() and value.isdigit():  # the usual case: nothing to normalise
        if numeric_cell:
            return NikError("nik_numeric_cell")
        nik = value
    else:
        if not value.strip():
            return NikError("nik_missing")
        if numeric_cell:
            return NikError("nik_numeric_cell")
        if _SCIENTIFIC.fullmatch(value.strip().lstrip("'").strip()):
            return NikError("nik_scientific")
        nik = normalize_nik(value)
        if not nik:
            return NikError("nik_missing")
        if not (nik.isascii() and nik.isdigit()):
            return _not_digits(nik)
    if len(nik) != 16:
        return NikError("nik_length", {"length": len(nik)})
    place = _place(nik[:6])
    if isinstance(place, NikError):
        return NikError(place.code, dict(place.params))  # never share the cached one
    day, month, yy, gender = _decode_birth(nik[6:12])
    # As `_birth_date`: the roster's year settles the century when it agrees with the NIK.
    if (
        birth_date is not None
        and birth_date.day == day
        and birth_date.month == month
        and birth_date.year % 100 == yy
    ):
        born: date | None = birth_date
    else:
        born = _guess_birth_date(day, month, yy, today)
    if born is None:
        digits = nik[6:12]
        return NikError("nik_birth_date", {"day": digits[:2], "month": digits[2:4],
                                           "yy": digits[4:]})  # fmt: skip
    if nik[12:] == "0000":
        return NikError("nik_serial")
    return nik, gender, born


def parse_nik(
    value: str | None,
    *,
    numeric_cell: bool = False,
    birth_date: date | None = None,
    today: date,
) -> NikInfo | NikError:
    """Check a NIK as a roster gives it and decode it; a `NikError` when it is not usable.

    `numeric_cell`: the spreadsheet cell held a number, which has already lost digits, so it
    is rejected whatever it shows (never repaired). `birth_date`: the roster's birth date,
    used to choose the century of the NIK's two-digit year when it matches; otherwise the
    century that makes the person 15 to 100 years old on `today`.
    """
    result = read_nik(value, numeric_cell=numeric_cell, birth_date=birth_date, today=today)
    if isinstance(result, NikError):
        return result
    nik, gender, born = result
    province, regency, district = _place(nik[:6])
    return NikInfo(
        nik=nik,
        province=province,
        regency=regency,
        district=district,
        birth_date=born,
        gender=gender,
        serial=nik[12:],
    )


# A letter typed for the digit it looks like.
_LOOKALIKE = {"o": "0", "i": "1", "l": "1", "z": "2", "s": "5", "b": "8", "g": "9", "q": "0"}


def _not_digits(nik: str) -> NikError:
    """Where the first character that is not a digit stands, and what it is: one character,
    never the NIK (the parameters are stored and shown)."""
    position, char = next((i, c) for i, c in enumerate(nik, start=1)
                          if not (c.isascii() and c.isdigit()))  # fmt: skip
    return NikError("nik_not_digits", {"position": position, "char": char})


def nik_problem(error: NikError, row: int) -> Problem:
    """The `Problem` (field "nik") reporting `error` on spreadsheet row `row`."""
    params = dict(error.params)
    if error.code == "nik_length":
        fifteen = params.get("length") == 15
        params["hint_id"] = _LENGTH_15_HINT_ID if fifteen else ""
        params["hint_en"] = _LENGTH_15_HINT_EN if fifteen else ""
    elif error.code == "nik_not_digits":
        char = str(params.pop("char"))
        shown = f"'{char}'" if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"
        params["char"] = shown
        digit = _LOOKALIKE.get(char.casefold())
        params["hint_id"] = f" Huruf {shown} mungkin maksudnya angka {digit}?" if digit else ""
        params["hint_en"] = (f" Is the letter {shown} meant to be the digit {digit}?"
                             if digit else "")  # fmt: skip
    return make_problem(MESSAGES, error.code, row, "nik", **params)


def mask_nik(nik: str) -> str:
    """Hide the birth date for display: '150501******0001' (first 6, six stars, last 4)."""
    if len(nik) < 10:
        return "*" * len(nik)
    return f"{nik[:6]}******{nik[-4:]}"


def make_nik(
    region: str, birth_date: date, gender: Gender, serial: int, district: str = "01"
) -> str:
    """Build a NIK (for demo data and tests): region "PP.RR" or "PPRR", serial 1-9999."""
    region_digits = region.replace(".", "")
    if len(region_digits) != 4 or not region_digits.isdigit():
        raise ValueError("region must be 'PP.RR' or 'PPRR'")
    if len(district) != 2 or not district.isdigit() or district == "00":
        raise ValueError("district must be two digits, not 00")
    if not 1 <= serial <= 9999:
        raise ValueError("serial must be 1-9999")
    day = birth_date.day + (40 if gender == Gender.FEMALE else 0)
    return (
        f"{region_digits}{district}{day:02d}{birth_date.month:02d}"
        f"{birth_date.year % 100:02d}{serial:04d}"
    )
