"""Validating one roster row into an `EnrollmentRecord` and its `Problem`s (docs/domain.md §3-4).

Every field is checked in one pass, so a rejected row reports all that is wrong with it, not
just the first thing. Problems come in field order (`records.FIELDS`), with the checks that
need two fields (age at the start date) last. Warnings never reject a row.

Conventions: a cell that is empty, blank or "-" (the spreadsheet way of writing "nothing") is
absent; a missing required field is `<field>_missing`; no message ever contains the NIK.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date

from gateway.domain import nik as nik_rules
from gateway.domain import parsing
from gateway.domain.nik import NikError, nik_problem, read_nik
from gateway.domain.parsing import (
    ParseError,
    parse_category,
    parse_date,
    parse_gender,
    parse_money,
    read_category,
    read_date,
    read_gender,
    read_money,
)
from gateway.domain.records import (
    Category,
    EnrollmentRecord,
    Gender,
    Message,
    Problem,
    RawRow,
    RowResult,
    Severity,
    make_problem,
    new_enrollment_record,
)

_E = Severity.ERROR
_W = Severity.WARNING

MAX_NAME_LENGTH = 150
MIN_AGE = 15  # below: not a worker (error)
ADULT_AGE = 18  # 15-17: allowed, but the submitter should look (warning)
# No monthly wage in Rupiah is this small (the lowest income BPJS accepts is Rp 1,000,000;
# provincial minimums are over Rp 2 million): it is a column kept in thousands ("Gaji (Rp
# ribu)": 3.500), which would make every contribution a thousand times too small.
MIN_MONTHLY_WAGE = 10_000

MESSAGES: dict[str, Message] = {
    "name_missing": Message(_E, "Nama wajib diisi.", "The name is required."),
    "name_too_long": Message(
        _E,
        "Nama terlalu panjang (lebih dari {max} karakter).",
        "The name is too long (more than {max} characters).",
    ),
    "gender_mismatch": Message(
        _E,
        "Jenis kelamin tidak sesuai dengan NIK: {nik_says_id}, sedangkan roster menulis "
        "{roster_id}.",
        "The gender does not match the NIK: {nik_says_en}, while the roster says {roster_en}.",
    ),
    "birth_date_mismatch": Message(
        _E,
        "Tanggal lahir tidak sesuai dengan NIK: NIK (digit 7-12) menyatakan lahir {nik_date}"
        "{female_id}, sedangkan roster menulis {roster_date}.",
        "The birth date does not match the NIK: the NIK (digits 7-12) says born {nik_date}"
        "{female_en}, while the roster says {roster_date}.",
    ),
    "birth_date_future": Message(
        _E,
        "Tanggal lahir ada di masa depan.",
        "The birth date is in the future.",
    ),
    "wage_missing": Message(_E, "Upah wajib diisi.", "The wage is required."),
    "wage_too_low": Message(
        _E,
        "Upah di bawah Rp 10.000 sebulan: apakah kolomnya ditulis dalam ribuan rupiah? "
        "Tulis upah penuh, misalnya 3.500.000.",
        "A wage under Rp 10,000 a month: is the column in thousands of Rupiah? Write the "
        "full wage, e.g. 3.500.000.",
    ),
    "start_date_missing": Message(
        _E,
        "Tanggal mulai kerja (TMT) wajib diisi.",
        "The start date (TMT) is required.",
    ),
    "start_date_future": Message(
        _E,
        "Tanggal mulai kerja lebih dari 1 tahun ke depan.",
        "The start date is more than a year in the future.",
    ),
    "category_missing": Message(
        _E,
        "Kategori pekerja wajib diisi (kolom Kategori atau pilihan kategori saat unggah).",
        "The worker category is required (a Kategori column or the category chosen on upload).",
    ),
    "kpj_invalid": Message(
        _E,
        "Nomor KPJ hanya boleh berisi angka.",
        "The KPJ card number may contain digits only.",
    ),
    "age_under_15": Message(
        _E,
        "Umur pada tanggal mulai kerja {age} tahun: di bawah 15 tahun tidak boleh didaftarkan.",
        "Age at the start date is {age}: under-15s cannot be enrolled.",
    ),
    "age_under_18": Message(
        _W,
        "Umur pada tanggal mulai kerja {age} tahun (di bawah 18): mohon periksa kembali.",
        "Age at the start date is {age} (under 18): please check.",
    ),
    "nik_duplicate": Message(
        _E,
        "NIK ini sudah muncul di baris {first_row}.",
        "This NIK already appears in row {first_row}.",
    ),
    # Found when the row is applied (store/identity.py), not by validation: the registry
    # knows the NIK from another agency's roster with another identity.
    "identity_conflict": Message(
        _W,
        "NIK ini sudah terdaftar di instansi lain dengan {fields_id} yang berbeda. Data "
        "identitas yang terdaftar tidak diubah; periksa KTP pekerja dan perbaiki baris ini, "
        "atau hubungi petugas kepatuhan jika data instansi lain yang keliru.",
        "Another agency has this NIK enrolled with a different {fields_en}. The registered "
        "identity was not changed; check the worker's KTP and correct this row, or contact "
        "compliance staff if the other agency's data is wrong.",
    ),
}

# For a duplicate whose first occurrence is not known (e.g. seen in an earlier chunk).
_DUPLICATE_FIRST_UNKNOWN: dict[str, Message] = {
    "nik_duplicate": Message(
        _E,
        "NIK ini sudah muncul di baris sebelumnya dalam berkas ini.",
        "This NIK already appears in an earlier row of this file.",
    ),
}


_GENDER_WORDS = {Gender.MALE: ("laki-laki", "male"), Gender.FEMALE: ("perempuan", "female")}


def _gender_mismatch(nik: str, roster: Gender, row: int) -> Problem:
    """Say what the NIK implies: a woman's day of birth has 40 added (digits 7-8)."""
    day_digits = nik[6:8]
    if int(day_digits) > 40:
        says_id = (f"NIK ini milik perempuan (digit 7-8 = {day_digits}, yaitu tanggal lahir "
                   f"{int(day_digits) - 40} + 40)")
        says_en = (f"this NIK is a woman's (digits 7-8 = {day_digits}, i.e. day of birth "
                   f"{int(day_digits) - 40} + 40)")
    else:
        says_id = (f"NIK ini milik laki-laki (digit 7-8 = {day_digits}, tanggal lahir tanpa "
                   "tambahan 40 untuk perempuan)")
        says_en = (f"this NIK is a man's (digits 7-8 = {day_digits}, the day of birth without "
                   "the 40 added for women)")
    roster_id, roster_en = _GENDER_WORDS[roster]
    return make_problem(MESSAGES, "gender_mismatch", row, "gender", nik_says_id=says_id,
                        nik_says_en=says_en, roster_id=roster_id, roster_en=roster_en)


def _birth_mismatch(nik_birth: date | None, gender: Gender | None, roster: date,
                    row: int) -> Problem:  # fmt: skip
    """Say which date the NIK encodes (its century as the roster's year or a working age)."""
    female = gender is Gender.FEMALE
    return make_problem(
        MESSAGES, "birth_date_mismatch", row, "birth_date",
        nik_date=f"{nik_birth:%d-%m-%Y}" if nik_birth else "-", roster_date=f"{roster:%d-%m-%Y}",
        female_id=" (perempuan: tanggal di NIK dikurangi 40)" if female else "",
        female_en=" (a woman: 40 taken off the NIK's day)" if female else "",
    )  # fmt: skip


def _merge(*catalogs: dict[str, Message]) -> dict[str, Message]:
    merged: dict[str, Message] = {}
    for catalog in catalogs:
        clash = merged.keys() & catalog.keys()
        if clash:  # codes are stable identifiers: one meaning each
            raise ValueError(f"problem codes defined twice: {sorted(clash)}")
        merged.update(catalog)
    return merged


ALL_MESSAGES: dict[str, Message] = _merge(nik_rules.MESSAGES, parsing.MESSAGES, MESSAGES)

_ABSENT = frozenset({"", "-", "\u2013", "\u2014"})


# Unicode direction controls (embeddings, overrides, isolates; the marks LRM/RLM/ALM): in a
# name or a position they reverse what is shown after them on a page (a wage, a date), and
# no name is spelt with them.
_NO_DIRECTION_CONTROLS = dict.fromkeys(
    [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)


def _plain_text(text: str) -> str:
    return text if text.isascii() else text.translate(_NO_DIRECTION_CONTROLS)


def _free_text(text: str | None) -> str | None:
    """A position or work unit: no direction controls, inner whitespace collapsed as in a name
    (the same file saved with CRLF instead of LF, a line break inside a quoted cell, must not
    read as a changed position), None when empty or "-"."""
    if text is None:
        return None
    text = " ".join(_plain_text(text).split())
    return None if text in _ABSENT else text


def _present(text: str | None) -> str | None:
    """The stripped cell text, or None for an empty, blank or "-" cell."""
    if text is None:
        return None
    text = text.strip()
    return None if text in _ABSENT else text


@functools.lru_cache(maxsize=16)
def _latest_start(today: date) -> date:
    """A year after `today` (28 Feb for 29 Feb): later start dates are typos."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return date(today.year + 1, 2, 28)


def _parse_problem(parse: Callable[[str], object], text: str, row: int, field: str) -> Problem:
    """The problem `parse` reports for a cell its cached `read_*` could not read."""
    try:
        parse(text)
    except ParseError as error:
        return make_problem(
            ALL_MESSAGES, error.code, row, field, message=error.message, **error.params
        )
    raise AssertionError(f"{parse.__name__} read what its read_* did not")  # pragma: no cover


def duplicate_problem(row: int, first_row: int | None) -> Problem:
    """The error for a NIK already seen in this file (reported on its second occurrence)."""
    if first_row is None:
        return make_problem(_DUPLICATE_FIRST_UNKNOWN, "nik_duplicate", row, "nik")
    return make_problem(MESSAGES, "nik_duplicate", row, "nik", first_row=first_row)


def validate_row(
    raw: RawRow, *, today: date, default_category: Category | None = None
) -> RowResult:
    """Check one row: a record when it has no error, and every problem found.

    `today` fixes the NIK century and the "future" checks (passed in: domain code reads no
    clock). `default_category` is used when the row has no category (e.g. chosen on upload).
    """
    # Hot path (millions of rows): `_present` is inlined as
    # `text is not None and (text := text.strip()) not in _ABSENT`, the parsers are the
    # cached non-raising `read_*`, and only a failing cell asks its `parse_*` for the problem.
    row = raw.row
    get = raw.values.get
    problems: list[Problem] = []

    # The roster's birth date is read first: it settles the century of the NIK's year.
    birth_problem: Problem | None = None
    roster_birth: date | None = None
    text = get("birth_date")
    if text is not None and (text := text.strip()) not in _ABSENT:
        roster_birth = read_date(text)
        if roster_birth is None:
            birth_problem = _parse_problem(parse_date, text, row, "birth_date")
        elif roster_birth > today:
            birth_problem = make_problem(MESSAGES, "birth_date_future", row, "birth_date")

    nik: str | None = None
    nik_gender: Gender | None = None
    nik_birth: date | None = None
    text = get("nik")
    if text is not None and (text := text.strip()) in _ABSENT:
        text = None
    result = read_nik(
        text,
        numeric_cell="nik" in raw.numeric_fields,
        birth_date=roster_birth,
        today=today,
    )
    if isinstance(result, NikError):
        problems.append(nik_problem(result, row))
    else:
        nik, nik_gender, nik_birth = result

    name = get("name")
    if name is not None and (name := _plain_text(name).strip()) not in _ABSENT:
        name = " ".join(name.split())
        if len(name) > MAX_NAME_LENGTH:
            problems.append(
                make_problem(MESSAGES, "name_too_long", row, "name", max=MAX_NAME_LENGTH)
            )
    else:
        name = None
        problems.append(make_problem(MESSAGES, "name_missing", row, "name"))

    gender = nik_gender
    text = get("gender")
    if text is not None and (text := text.strip()) not in _ABSENT:
        roster_gender = read_gender(text)
        if roster_gender is None:
            problems.append(_parse_problem(parse_gender, text, row, "gender"))
        elif nik is not None and roster_gender != nik_gender:
            problems.append(_gender_mismatch(nik, roster_gender, row))

    birth = nik_birth
    if birth_problem is not None:
        problems.append(birth_problem)
    elif roster_birth is not None:
        if nik is not None and roster_birth != nik_birth:
            problems.append(_birth_mismatch(nik_birth, nik_gender, roster_birth, row))
        birth = roster_birth

    position = _free_text(get("position"))
    work_unit = _free_text(get("work_unit"))

    wage: int | None = None
    text = get("wage")
    if text is not None and (text := text.strip()) not in _ABSENT:
        amount = read_money(text)
        if isinstance(amount, int) and amount < MIN_MONTHLY_WAGE:
            problems.append(make_problem(MESSAGES, "wage_too_low", row, "wage"))
        elif isinstance(amount, int):
            wage = amount
        else:
            problems.append(_parse_problem(parse_money, text, row, "wage"))
    else:
        problems.append(make_problem(MESSAGES, "wage_missing", row, "wage"))

    start: date | None = None
    text = get("start_date")
    if text is not None and (text := text.strip()) not in _ABSENT:
        start = read_date(text)
        if start is None:
            problems.append(_parse_problem(parse_date, text, row, "start_date"))
        elif start > _latest_start(today):
            problems.append(make_problem(MESSAGES, "start_date_future", row, "start_date"))
    else:
        problems.append(make_problem(MESSAGES, "start_date_missing", row, "start_date"))

    category = default_category
    text = get("category")
    if text is not None and (text := text.strip()) not in _ABSENT:
        category = read_category(text)
        if category is None:
            problems.append(_parse_problem(parse_category, text, row, "category"))
    elif category is None:
        problems.append(make_problem(MESSAGES, "category_missing", row, "category"))

    kpj = get("kpj")  # not ours to check beyond digits (docs/domain.md §6)
    if kpj is not None and (kpj := kpj.strip()) in _ABSENT:
        kpj = None
    if kpj is not None and not (kpj.isascii() and kpj.isdigit()):
        problems.append(make_problem(MESSAGES, "kpj_invalid", row, "kpj"))

    # An age from a birth date already reported as impossible would only add noise.
    if birth is not None and start is not None and birth_problem is None:
        age = start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
        if age < MIN_AGE:
            problems.append(make_problem(MESSAGES, "age_under_15", row, "birth_date", age=age))
        elif age < ADULT_AGE:
            problems.append(make_problem(MESSAGES, "age_under_18", row, "birth_date", age=age))

    record: EnrollmentRecord | None = None
    if (
        nik is not None
        and name is not None
        and gender is not None
        and birth is not None
        and category is not None
        and wage is not None
        and start is not None
        and not (problems and any(problem.severity is _E for problem in problems))
    ):
        record = new_enrollment_record(
            nik, name, birth, gender, category, wage, start, position, work_unit, kpj
        )
    return RowResult(row=row, record=record, problems=problems)
