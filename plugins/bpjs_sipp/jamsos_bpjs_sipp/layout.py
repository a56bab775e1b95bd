"""The column layouts of the SIPP workbooks and the answer file's headers: the shipped
layout.toml, with the settings of `[destinations.bpjs-sipp]` in config/destinations.toml laid
over it (docs/delivery-sipp.md). Checked whole when the destination is made, so a typo in a
field name is an error before any file is written."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gateway import OutgoingMutation

SHIPPED = Path(__file__).with_name("layout.toml")
KINDS = ("new", "wage", "identity", "ended")
LAYOUT_KEYS = ("date_pattern", "month_pattern", "excel_date_format", "workbooks", "end_reasons",
               "answers")  # fmt: skip
FORMATS = ("text", "date", "excel-date", "money", "money-text", "month")
# What a column may be filled with, and what each is (docs/delivery-sipp.md lists them).
FIELDS = {
    "nik": "NIK (16 digits, always a text cell)",
    "name": "full name",
    "birth_date": "birth date",
    "gender": "L or P",
    "wage": "monthly wage, whole Rupiah",
    "start_date": "start date of the enrollment",
    "end_date": "end date (non-aktif)",
    "end_reason": "end reason in SIPP's words ([end_reasons])",
    "end_reason_code": "the gateway's end reason code",
    "category": "worker category",
    "position": "position (jabatan)",
    "work_unit": "work unit (OPD / satuan kerja)",
    "kpj": "membership number when BPJS gave one",
    "npp": "employer registration number",
    "division": "SIPP division code",
    "month": "reporting month",
    "month_start": "first day of the reporting month",
    "agency": "the gateway's agency code",
}
TEXT_FIELDS = ("nik", "kpj", "npp", "division")  # digits that must never become numbers


class LayoutError(ValueError):
    """A layout that cannot be used; the message says where, in both languages."""


@dataclass(frozen=True)
class Column:
    header: str
    field: str | None = None
    value: str | None = None
    format: str = "text"


@dataclass(frozen=True)
class Workbook:
    kind: str
    title: str
    sheet: str
    file: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class AnswerHeaders:
    nik: tuple[str, ...]
    kpj: tuple[str, ...]
    reason: tuple[str, ...]
    status: tuple[str, ...]
    kind: tuple[str, ...]
    accepted_status: frozenset[str]
    rejected_status: frozenset[str]
    kinds: dict[str, str]  # a kind column's normalised word -> the gateway's kind
    reasons: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Layout:
    date_pattern: str
    month_pattern: str
    excel_date_format: str
    workbooks: dict[str, Workbook]
    end_reasons: dict[str, str]
    answers: AnswerHeaders

    def cell_value(self, column: Column, m: OutgoingMutation) -> Any:
        """What one column holds for one mutation, before formatting."""
        if column.field is None:
            return column.value
        if column.field == "end_reason":
            code = m.end_reason
            return self.end_reasons.get(code, code) if code else None
        if column.field == "end_reason_code":
            return m.end_reason
        if column.field in ("npp", "division"):
            return getattr(m.employer, column.field)
        if column.field == "month":
            return m.month
        if column.field == "month_start":
            return datetime.strptime(m.month, "%Y-%m").date()
        return getattr(m, column.field)


def normalise_header(text: object) -> str:
    """A header as compared: upper case, without spaces, dots, underscores or dashes."""
    return "".join(ch for ch in str(text or "").upper() if ch.isalnum())


def load_layout(settings: Mapping[str, Any] | None = None) -> Layout:
    """The shipped layout (or the file a `layout` setting names) with the settings over it."""
    settings = dict(settings or {})
    source = Path(settings["layout"]) if settings.get("layout") else SHIPPED
    try:
        with open(source, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LayoutError(f"tata letak SIPP tidak terbaca / cannot read the SIPP layout "
                          f"{source}: {exc}") from exc  # fmt: skip
    data = _merge(data, {k: v for k, v in settings.items() if k in LAYOUT_KEYS})
    return _build(data, str(source))


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _fail(where: str, id_text: str, en_text: str) -> LayoutError:
    return LayoutError(f"{where}: {id_text} / {en_text}")


def _build(data: dict[str, Any], where: str) -> Layout:
    for key in ("date_pattern", "month_pattern"):
        pattern = str(data.get(key, ""))
        try:
            date(2026, 1, 31).strftime(pattern)
        except ValueError as exc:
            raise _fail(f"{where} {key}", "pola tanggal tidak valid",
                        f"bad date pattern: {exc}") from exc  # fmt: skip
        if not pattern:
            raise _fail(f"{where} {key}", "pola tanggal kosong", "the date pattern is empty")
    books = data.get("workbooks") or {}
    workbooks = {kind: _workbook(kind, books.get(kind), f"{where} workbooks.{kind}")
                 for kind in KINDS}  # fmt: skip
    return Layout(
        date_pattern=str(data["date_pattern"]),
        month_pattern=str(data["month_pattern"]),
        excel_date_format=str(data.get("excel_date_format") or "dd-mm-yyyy"),
        workbooks=workbooks,
        end_reasons={str(k): str(v) for k, v in (data.get("end_reasons") or {}).items()},
        answers=_answers(data.get("answers") or {}, f"{where} answers"),
    )


def _workbook(kind: str, table: Any, where: str) -> Workbook:
    if not isinstance(table, Mapping):
        raise _fail(where, "buku kerja tidak ada", "the workbook is missing")
    columns = table.get("columns")
    if not isinstance(columns, list) or not columns:
        raise _fail(where, "kolom kosong", "it has no columns")
    built = []
    for n, col in enumerate(columns, start=1):
        at = f"{where}.columns[{n}]"
        if not isinstance(col, Mapping) or not str(col.get("header") or "").strip():
            raise _fail(at, "kolom harus punya header", "a column needs a header")
        unknown = set(col) - {"header", "field", "value", "format"}
        if unknown:
            raise _fail(at, f"kunci tidak dikenal {sorted(unknown)}",
                        f"unknown keys {sorted(unknown)}")  # fmt: skip
        field = col.get("field") or None
        if field is not None and field not in FIELDS:
            raise _fail(at, f"field {field!r} tidak dikenal (pilihan: {', '.join(FIELDS)})",
                        f"unknown field {field!r} (one of: {', '.join(FIELDS)})")  # fmt: skip
        if field is not None and col.get("value") is not None:
            raise _fail(at, "isi field atau value, bukan keduanya", "give field or value, not both")
        fmt = str(col.get("format") or "text")
        if fmt not in FORMATS:
            raise _fail(at, f"format {fmt!r} tidak dikenal (pilihan: {', '.join(FORMATS)})",
                        f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")  # fmt: skip
        if field in TEXT_FIELDS and fmt != "text":
            raise _fail(at, f"{field} harus berformat text", f"{field} must have format text")
        value = col.get("value")
        built.append(Column(str(col["header"]).strip(), field,
                            None if value is None else str(value), fmt))  # fmt: skip
    headers = [c.header for c in built]
    if len(set(headers)) != len(headers):
        raise _fail(where, "header kolom ganda", "a column header appears twice")
    file = str(table.get("file") or f"{{npp}}-{{division}}_{{month}}_{kind}.xlsx")
    try:
        file.format(npp="1", division="1", month="2026-01", kind=kind)
    except (KeyError, IndexError, ValueError) as exc:
        raise _fail(f"{where}.file", f"pola nama berkas salah ({exc})",
                    f"bad file name pattern ({exc}); use {{npp}} {{division}} {{month}} "
                    "{kind}") from exc  # fmt: skip
    return Workbook(kind, str(table.get("title") or kind), str(table.get("sheet") or kind)[:31],
                    file, tuple(built))  # fmt: skip


def _names(table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(normalise_header(v) for v in table.get(key) or () if normalise_header(v))


def _answers(table: Mapping[str, Any], where: str) -> AnswerHeaders:
    if not _names(table, "nik") or not _names(table, "kpj") or not _names(table, "reason"):
        raise _fail(where, "nik, kpj dan reason wajib punya header",
                    "nik, kpj and reason each need header spellings")  # fmt: skip
    kinds: dict[str, str] = {}
    for kind, words in (table.get("kinds") or {}).items():
        if kind not in KINDS:
            raise _fail(f"{where}.kinds", f"jenis {kind!r} tidak dikenal",
                        f"unknown kind {kind!r}")  # fmt: skip
        for word in words:
            kinds[normalise_header(word)] = kind
    reasons = []
    for n, r in enumerate(table.get("reasons") or (), start=1):
        if not all(r.get(k) for k in ("code", "match", "id", "en")):
            raise _fail(f"{where}.reasons[{n}]", "perlu code, match, id dan en",
                        "needs code, match, id and en")  # fmt: skip
        reasons.append({"code": str(r["code"]), "match": [str(m).lower() for m in r["match"]],
                        "id": str(r["id"]), "en": str(r["en"])})  # fmt: skip
    return AnswerHeaders(
        nik=_names(table, "nik"), kpj=_names(table, "kpj"), reason=_names(table, "reason"),
        status=_names(table, "status"), kind=_names(table, "kind"),
        accepted_status=frozenset(_names(table, "accepted_status")),
        rejected_status=frozenset(_names(table, "rejected_status")),
        kinds=kinds, reasons=tuple(reasons),
    )  # fmt: skip
