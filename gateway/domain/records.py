"""Canonical records every feed is translated into, and the problems validation reports.

Pure values: no I/O, no framework. Every source (a ministry's SOAP service, a CSV feed, a
roster a regional government uploads) ends up as a stream of `RawRow` -> `EnrollmentRecord`
with `Problem`s for what is wrong.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import date


class Category(enum.StrEnum):
    """Kinds of non-ASN worker (docs/domain.md §1)."""

    PPNPN = "ppnpn"  # Pegawai Pemerintah Non Pegawai Negeri, central ministries
    HONORER = "honorer"  # honorary staff of provinces, regencies and cities
    PENDAMPING_DESA = "pendamping_desa"  # village facilitators (Kemendes)
    APARAT_DESA = "aparat_desa"  # village officials, BPD members
    RT_RW = "rt_rw"  # neighbourhood heads
    PEKERJA_RENTAN = "pekerja_rentan"  # vulnerable informal workers paid for by a region


class Gender(enum.StrEnum):
    MALE = "L"  # laki-laki
    FEMALE = "P"  # perempuan


class Severity(enum.StrEnum):
    ERROR = "error"  # the row is rejected
    WARNING = "warning"  # the row is accepted, the submitter should look


# The canonical fields of a roster row, in the order reports list them.
FIELDS: tuple[str, ...] = (
    "nik",
    "name",
    "gender",
    "birth_date",
    "position",
    "work_unit",
    "wage",
    "start_date",
    "category",
)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row as a feed read it, before any parsing.

    `row` is the number a spreadsheet shows (the header is row 1). `values` maps canonical
    field names to the cell text (None for an empty cell). `numeric_fields` names the fields
    whose spreadsheet cell held a number rather than text: a NIK stored as a number has already
    lost digits and must be rejected, never repaired.
    """

    row: int
    values: dict[str, str | None]
    numeric_fields: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class EnrollmentRecord:
    """One worker enrolled by one agency: what every feed is translated into."""

    nik: str  # 16 digits, normalised
    name: str
    birth_date: date
    gender: Gender
    category: Category
    wage: int  # whole Rupiah per month
    start_date: date
    position: str | None = None
    work_unit: str | None = None
    kpj: str | None = None  # BPJS card number when a feed carries it; digits only, not ours
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


# Row validation builds one record per accepted row. A frozen dataclass's __init__ sets each
# field through object.__setattr__, which costs about as much as the rest of a row's checks;
# `new_enrollment_record` builds the same object by setting the slots directly.
_RECORD_FIELDS = (
    "nik",
    "name",
    "birth_date",
    "gender",
    "category",
    "wage",
    "start_date",
    "position",
    "work_unit",
    "kpj",
    "extra",
)
if tuple(f.name for f in fields(EnrollmentRecord)) != _RECORD_FIELDS or hasattr(
    EnrollmentRecord, "__post_init__"
):  # pragma: no cover - a guard for whoever changes EnrollmentRecord
    raise AssertionError("EnrollmentRecord changed: update new_enrollment_record to match")
(
    _set_nik,
    _set_name,
    _set_birth_date,
    _set_gender,
    _set_category,
    _set_wage,
    _set_start_date,
    _set_position,
    _set_work_unit,
    _set_kpj,
    _set_extra,
) = (EnrollmentRecord.__dict__[name].__set__ for name in _RECORD_FIELDS)
_new_object = object.__new__


def new_enrollment_record(
    nik: str,
    name: str,
    birth_date: date,
    gender: Gender,
    category: Category,
    wage: int,
    start_date: date,
    position: str | None,
    work_unit: str | None,
    kpj: str | None,
) -> EnrollmentRecord:
    """`EnrollmentRecord(...)` with every field but `extra` given (equal, and as immutable),
    for the hot path: about twice as fast to build."""
    record = _new_object(EnrollmentRecord)
    _set_nik(record, nik)
    _set_name(record, name)
    _set_birth_date(record, birth_date)
    _set_gender(record, gender)
    _set_category(record, category)
    _set_wage(record, wage)
    _set_start_date(record, start_date)
    _set_position(record, position)
    _set_work_unit(record, work_unit)
    _set_kpj(record, kpj)
    _set_extra(record, {})
    return record


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a row (or the file, row 0 / 1 for the header).

    `code` is stable and machine-readable; the messages are for people, Bahasa Indonesia first.
    A problem never carries the offending NIK: reports are stored and shown, NIKs are PII.
    """

    row: int
    field: str | None
    code: str
    severity: Severity
    message_id: str
    message_en: str

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "field": self.field,
            "code": self.code,
            "severity": str(self.severity),
            "message_id": self.message_id,
            "message_en": self.message_en,
        }


@dataclass(frozen=True, slots=True)
class Message:
    """A problem's text in both languages; `{placeholders}` filled by `make_problem`."""

    severity: Severity
    id: str
    en: str


def make_problem(
    catalog: dict[str, Message],
    code: str,
    row: int,
    field: str | None,
    *,
    message: str | None = None,
    **params: object,
) -> Problem:
    """Build a Problem from a module's message catalog (`message`: the entry to word it with,
    when a code has more than one way of going wrong)."""
    msg = catalog[message or code]
    return Problem(
        row=row,
        field=field,
        code=code,
        severity=msg.severity,
        message_id=msg.id.format(**params),
        message_en=msg.en.format(**params),
    )


@dataclass(slots=True)
class RowResult:
    """Validation's verdict on one row: a record when it has no error, and its problems."""

    row: int
    record: EnrollmentRecord | None
    problems: list[Problem]

    @property
    def accepted(self) -> bool:
        return self.record is not None
