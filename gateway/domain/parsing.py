"""Reading the values an Indonesian roster holds: dates, Rupiah, gender, worker category.

Each parser takes the cell text and returns a value or raises `ParseError(code, **params)`,
whose code is in `MESSAGES`. The parsers are strict where a value could be read two ways
(two-digit years, 1990/17/08, a wage with cents): a wrong value enrolled is worse than a row
sent back. Messages never repeat the cell's text: a shifted column can put a NIK anywhere.

Rosters repeat the same few dates, wages, genders and categories thousands of times, so each
parser is a bounded cache (`read_*`, keyed on the exact text) that returns the value or, for
text it cannot read, a marker (None, or the error code for money) instead of raising: row
validation uses these directly, and `parse_*` turn the marker into a fresh `ParseError`.
Every cached value is immutable (date, int, enum member), so sharing it is safe.
"""

from __future__ import annotations

import functools
import re
from datetime import date

from gateway.domain.records import Category, Gender, Message, Severity

_E = Severity.ERROR

MESSAGES: dict[str, Message] = {
    "date_invalid": Message(
        _E,
        "Tanggal tidak dikenali. Gunakan 17-08-1990, 17/08/1990, 1990-08-17 atau "
        "17 Agustus 1990 (tahun 4 digit).",
        "The date is not recognised. Use 17-08-1990, 17/08/1990, 1990-08-17 or "
        "17 Agustus 1990 (four-digit year).",
    ),
    "date_not_exist": Message(
        _E,
        "Tanggal ini tidak ada di kalender: periksa hari dan bulannya (mis. 31-02 atau bulan "
        "13). Urutannya hari-bulan-tahun, 17-08-1990.",
        "This date does not exist: check its day and month (e.g. 31-02, or month 13). The "
        "order is day-month-year, 17-08-1990.",
    ),
    "money_invalid": Message(
        _E,
        "Nilai uang tidak dikenali. Gunakan misalnya Rp 3.500.000 atau 3500000.",
        "The amount is not recognised. Use for example Rp 3.500.000 or 3500000.",
    ),
    "money_not_positive": Message(
        _E,
        "Nilai uang harus lebih dari nol.",
        "The amount must be more than zero.",
    ),
    "money_fraction": Message(
        _E,
        "Nilai uang harus dalam Rupiah penuh, tanpa sen.",
        "The amount must be in whole Rupiah, without cents.",
    ),
    "money_too_large": Message(
        _E,
        "Nilai uang terlalu besar (lebih dari Rp 1.000.000.000 per bulan); "
        "periksa apakah kolomnya tergeser.",
        "The amount is too large (over Rp 1,000,000,000 a month); check that the columns "
        "are not shifted.",
    ),
    "gender_invalid": Message(
        _E,
        "Jenis kelamin tidak dikenali. Gunakan L atau P (Laki-laki/Perempuan).",
        "The gender is not recognised. Use L or P (Laki-laki/Perempuan).",
    ),
    "category_invalid": Message(
        _E,
        "Kategori pekerja tidak dikenali. Gunakan salah satu: {allowed}.",
        "The worker category is not recognised. Use one of: {allowed}.",
    ),
}
# Entries above that word another code's problem rather than being codes of their own.
WORDINGS: dict[str, str] = {"date_not_exist": "date_invalid"}


class ParseError(ValueError):
    """A cell value that cannot be read: `code` is a `MESSAGES` key, `params` fill it;
    `message`, another key, words it when the code covers more than one case."""

    def __init__(self, code: str, *, message: str | None = None, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.params = params


# --- dates -----------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "januari jan january",
        "februari feb pebruari peb february",
        "maret mar march",
        "april apr",
        "mei may",
        "juni jun june",
        "juli jul july",
        "agustus agu agt ags aug august",
        "september sep sept",
        "oktober okt oct october",
        "november nov nopember nop",
        "desember des dec december",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

# 17-08-1990, 17/08/1990, 17.08.1990: day first, the same separator twice.
_DMY = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})")
# 1990-08-17, 1990/08/17, and the datetime a spreadsheet date cell becomes.
_YMD = re.compile(
    r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})"
    r"(?:[ T](?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?)?"
)
# 17 Agustus 1990, 17-Agu-1990, 17 agt. 1990.
_NAMED = re.compile(r"(\d{1,2})(?:\s+|\s*[-/]\s*)([a-z]+)\.?(?:\s+|\s*[-/]\s*)(\d{4})")

# Outside this range a year is a typo (0990, 19900), not a date a roster can mean.
_MIN_YEAR = 1900
_MAX_YEAR = 2199

# Entries each cache may hold. Birth dates are the most varied text a roster repeats (some
# 18,000 days in a working life, in two or three spellings); at ~180 bytes an entry (with its
# key) the date cache stays under 12 MB.
DATE_CACHE_SIZE = 65536
MONEY_CACHE_SIZE = 16384
WORD_CACHE_SIZE = 1024


def _date_parts(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of text written as a date (not yet checked against the calendar)."""
    text = text.strip()
    month: int | None
    if match := _DMY.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    elif match := _YMD.fullmatch(text):
        year, month, day = int(match[1]), int(match[3]), int(match[4])
    elif match := _NAMED.fullmatch(text.lower()):
        day, month, year = int(match[1]), _MONTHS.get(match[2]), int(match[3])
        if month is None:
            return None
    else:
        return None
    return year, month, day


@functools.lru_cache(maxsize=DATE_CACHE_SIZE)
def read_date(text: str) -> date | None:
    """`parse_date` without raising: the date, or None for text that is not a date."""
    parts = _date_parts(text)
    if parts is None or not _MIN_YEAR <= parts[0] <= _MAX_YEAR:
        return None
    try:
        return date(*parts)
    except ValueError:  # 31-02-1990, or month 17 in 1990/17/08
        return None


def parse_date(text: str) -> date:
    """A date written as a roster writes it; `ParseError("date_invalid")` otherwise, worded
    for a date written right that the calendar does not have (31-02-1990; month 13) so the
    clerk fixes the day or month, not the format."""
    value = read_date(text)
    if value is None:
        parts = _date_parts(text)
        if parts is not None and _MIN_YEAR <= parts[0] <= _MAX_YEAR:
            raise ParseError("date_invalid", message="date_not_exist")
        raise ParseError("date_invalid")
    return value


# --- money -----------------------------------------------------------------------------------

# A dot groups thousands and a comma starts the cents (Indonesian), or the other way round
# (English); a group must have three digits, so 3.500 is 3500 while 3.50 is 3 Rupiah 50 sen.
# Digits with a 1-2 digit fraction are what a spreadsheet number becomes ("3500000.0").
# ",-" after an amount is the Indonesian "no cents" mark (Rp 3.500.000,-).
_MONEY = re.compile(
    r"""
    (?:rp\.?|idr)?\s*
    (?P<minus>-)?\s*
    (?:
        (?P<plain>\d+)(?:[.,](?P<plain_cents>\d{1,2}))?
      | (?P<dotted>\d{1,3}(?:\.\d{3})+)(?:,(?P<dotted_cents>\d{1,2}))?
      | (?P<commas>\d{1,3}(?:,\d{3})+)(?:\.(?P<commas_cents>\d{1,2}))?
    )
    (?:,-|\.-)?
    """,
    re.IGNORECASE | re.VERBOSE,
)

# A monthly wage above this is a shifted column (a NIK read as a wage), not a wage.
MAX_MONEY = 1_000_000_000


def read_rupiah(text: str) -> int | str:
    """Whole Rupiah written any way a roster or a budget export writes it, zero included and
    with no upper bound (a budget runs to billions): the amount, or the error code
    (money_invalid, money_fraction, money_not_positive for a negative amount)."""
    match = _MONEY.fullmatch(text.strip())
    if match is None:
        return "money_invalid"
    if match["plain"] is not None:
        amount, cents = int(match["plain"]), match["plain_cents"]
    elif match["dotted"] is not None:
        amount, cents = int(match["dotted"].replace(".", "")), match["dotted_cents"]
    else:
        amount, cents = int(match["commas"].replace(",", "")), match["commas_cents"]
    if cents is not None and int(cents) != 0:
        return "money_fraction"
    if match["minus"] is not None and amount:
        return "money_not_positive"
    return amount


@functools.lru_cache(maxsize=MONEY_CACHE_SIZE)
def read_money(text: str) -> int | str:
    """`parse_money` without raising: the amount (an int), or the error code (a str)."""
    amount = read_rupiah(text)
    if isinstance(amount, str):
        return amount
    if amount == 0:
        return "money_not_positive"
    if amount > MAX_MONEY:
        return "money_too_large"
    return amount


def parse_money(text: str) -> int:
    """A positive whole-Rupiah amount; `ParseError` money_invalid / _not_positive /
    _fraction / _too_large otherwise."""
    value = read_money(text)
    if value.__class__ is str:
        raise ParseError(value)
    return value


# --- gender and category ---------------------------------------------------------------------

_GENDERS: dict[str, Gender] = {
    "l": Gender.MALE,
    "laki-laki": Gender.MALE,
    "laki laki": Gender.MALE,
    "lakilaki": Gender.MALE,
    "laki2": Gender.MALE,
    "laki": Gender.MALE,
    "pria": Gender.MALE,
    "p": Gender.FEMALE,
    "perempuan": Gender.FEMALE,
    "wanita": Gender.FEMALE,
}


def _key(text: str) -> str:
    return " ".join(text.lower().split())


@functools.lru_cache(maxsize=WORD_CACHE_SIZE)
def read_gender(text: str) -> Gender | None:
    """`parse_gender` without raising: the gender, or None."""
    return _GENDERS.get(text.strip().lower()) or _GENDERS.get(_key(text))


def parse_gender(text: str) -> Gender:
    """L, P, Laki-laki, Perempuan, Pria, Wanita (any case); `ParseError("gender_invalid")`."""
    gender = read_gender(text)
    if gender is None:
        raise ParseError("gender_invalid")
    return gender


_CATEGORY_SEPARATORS = str.maketrans("-/._", "    ")
_CATEGORY_ALLOWED = ", ".join(category.value for category in Category)


_CATEGORIES: dict[str, Category] = {category.value: category for category in Category}


@functools.lru_cache(maxsize=WORD_CACHE_SIZE)
def read_category(text: str) -> Category | None:
    """`parse_category` without raising: the category, or None."""
    return _CATEGORIES.get("_".join(text.lower().translate(_CATEGORY_SEPARATORS).split()))


def parse_category(text: str) -> Category:
    """A `Category` value, case- and separator-insensitive ("Pendamping Desa", "RT/RW")."""
    category = read_category(text)
    if category is None:
        raise ParseError("category_invalid", allowed=_CATEGORY_ALLOWED)
    return category
