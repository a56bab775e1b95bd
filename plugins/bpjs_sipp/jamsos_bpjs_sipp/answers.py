"""Reading BPJS's answer file: per line a NIK and either the membership number (KPJ) given or
the reason it was refused. The NIKs are matched to the batch's mutations in memory only; the
Acks carry the mutations' idempotency keys, never a NIK.

All or nothing: every bad line is collected and the whole file refused with AnswerFileError
naming each (a NIK is never echoed back: reports are stored and shown)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gateway import Ack, AnswerFileError, Message, OutgoingMutation, Problem, Severity, make_problem
from jamsos_bpjs_sipp.layout import AnswerHeaders, normalise_header

MAX_BYTES = 50 * 1024 * 1024  # an answer is one employer's month: far below this
# A workbook is a zip: what it unpacks to is capped too (a 50 MB file of compressed
# repetition could unpack to gigabytes of XML before openpyxl read a row).
MAX_UNZIPPED = 512 * 1024 * 1024
HEADER_SEARCH = 10  # BPJS's exports may open with a title row or two

E = Severity.ERROR
MESSAGES = {
    "answer_unreadable": Message(E, "Berkas jawaban tidak terbaca: {detail}",
                                 "The answer file cannot be read: {detail}"),
    "answer_no_header": Message(
        E, "Baris judul tidak ditemukan: perlu kolom NIK dan kolom KPJ atau alasan ({names})",
        "No header row found: a NIK column and a KPJ or reason column are needed ({names})"),
    "answer_empty": Message(E, "Berkas jawaban tidak berisi satu baris pun",
                            "The answer file has no answer lines"),
    "bad_nik": Message(E, "NIK harus 16 angka", "The NIK must be 16 digits"),
    "unknown_nik": Message(E, "NIK ini tidak ada di batch ini",
                           "This NIK is not in this batch"),
    "unknown_nik_kind": Message(E, "NIK ini tidak punya mutasi jenis {kind} di batch ini",
                                "This NIK has no {kind} mutation in this batch"),
    "duplicate_nik": Message(E, "NIK ini sudah dijawab di baris {first}",
                             "This NIK was already answered on line {first}"),
    "bad_kpj": Message(E, "KPJ harus 11 angka, tertulis {length} karakter",
                       "A KPJ is 11 digits; this one has {length} characters"),
    "missing_kpj": Message(E, "Diterima tanpa KPJ: penambahan TK harus punya KPJ",
                           "Accepted without a KPJ: an added worker needs one"),
    "missing_reason": Message(E, "Tidak ada KPJ maupun alasan penolakan",
                              "Neither a KPJ nor a rejection reason"),
    "unknown_status": Message(E, "Status {status!r} tidak dikenal", "Unknown status {status!r}"),
    "unknown_kind": Message(E, "Jenis {kind!r} tidak dikenal", "Unknown kind {kind!r}"),
}  # fmt: skip


def _problem(code: str, row: int, field: str | None = None, **params: object) -> Problem:
    message = "unknown_nik_kind" if code == "unknown_nik" and "kind" in params else None
    return make_problem(MESSAGES, code, row, field, message=message, **params)


def read_answer_file(headers: AnswerHeaders, path: Path,
                     mutations: Sequence[OutgoingMutation]) -> list[Ack]:  # fmt: skip
    """The Acks of an answer file, by the mutations' keys; AnswerFileError with every bad
    line when any line is bad."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise OSError(f"larger than {MAX_BYTES // 1024 // 1024} MB")
        lines = list(_lines(path))
    except AnswerFileError:
        raise
    except Exception as exc:  # a corrupt workbook raises anything from zipfile to KeyError
        detail = f"{type(exc).__name__}: {exc}"
        raise _refused([_problem("answer_unreadable", 0, detail=detail)]) from exc
    found = _header(headers, lines)
    if found is None:
        names = "/".join(headers.nik[:2] + headers.kpj[:2] + headers.reason[:2])
        raise _refused([_problem("answer_no_header", 1, names=names)])
    header_row, cols = found
    by_nik: dict[str, list[OutgoingMutation]] = {}
    for m in mutations:
        by_nik.setdefault(m.nik, []).append(m)
    acks: list[Ack] = []
    problems: list[Problem] = []
    answered: dict[str, int] = {}  # mutation key -> the line that answered it
    for row, values in lines[header_row:]:
        cells = {name: _text(values[i]) if i < len(values) else "" for name, i in cols.items()}
        if not any(cells.values()):
            continue
        line_problems, line_acks = _line(headers, row, cells, by_nik, answered)
        problems += line_problems
        acks += line_acks
    if not problems and not acks:
        problems.append(_problem("answer_empty", header_row + 1))
    if problems:
        raise _refused(problems)
    return acks


def _refused(problems: list[Problem]) -> AnswerFileError:
    rows = ", ".join(str(p.row) for p in problems[:20]) + (" …" if len(problems) > 20 else "")
    return AnswerFileError(
        f"Berkas jawaban tidak diterapkan: {len(problems)} masalah (baris {rows}); tidak ada "
        f"yang diubah. / The answer file was not applied: {len(problems)} problems (lines "
        f"{rows}); nothing was changed.", problems)  # fmt: skip


def _line(headers: AnswerHeaders, row: int, cells: dict[str, str],
          by_nik: dict[str, list[OutgoingMutation]],
          answered: dict[str, int]) -> tuple[list[Problem], list[Ack]]:  # fmt: skip
    nik = "".join(cells["nik"].split())
    if len(nik) != 16 or not nik.isdigit():
        return [_problem("bad_nik", row, "nik")], []
    problems: list[Problem] = []
    kind = None
    if cells.get("kind"):
        kind = headers.kinds.get(normalise_header(cells["kind"]))
        if kind is None:
            problems.append(_problem("unknown_kind", row, "kind", kind=cells["kind"][:40]))
    mine = [m for m in by_nik.get(nik, ()) if kind is None or m.kind == kind]
    if not mine and not problems:
        params = {"kind": kind} if kind and nik in by_nik else {}
        problems.append(_problem("unknown_nik", row, "nik", **params))
    for m in mine:
        if m.key in answered:
            problems.append(_problem("duplicate_nik", row, "nik", first=answered[m.key]))
            break
    kpj = "".join(cells.get("kpj", "").split())
    reason = " ".join(cells.get("reason", "").split())
    status = normalise_header(cells.get("status", ""))
    if kpj and (len(kpj) != 11 or not kpj.isdigit()):
        problems.append(_problem("bad_kpj", row, "kpj", length=len(kpj)))
    known = not status or status in headers.accepted_status | headers.rejected_status
    if not known:
        problems.append(_problem("unknown_status", row, "status", status=cells["status"][:40]))
    accepted = status in headers.accepted_status if status else bool(kpj)
    if known and not accepted and not reason:
        problems.append(_problem("missing_reason", row, "reason"))
    if accepted and not kpj and any(m.kind == "new" for m in mine):
        problems.append(_problem("missing_kpj", row, "kpj"))
    if problems:
        return problems, []
    for m in mine:
        answered[m.key] = row
    if accepted:
        return [], [Ack(m.key, "accepted", kpj=kpj or m.kpj, row=row) for m in mine]
    code, why_id, why_en = _reason(headers, reason)
    return [], [Ack(m.key, "rejected", reason_code=code, reason_id=why_id, reason_en=why_en,
                    row=row) for m in mine]  # fmt: skip


def _reason(headers: AnswerHeaders, text: str) -> tuple[str, str, str]:
    """A rejection's code and what to do, from the words of BPJS's reason; BPJS's own words
    are kept after it."""
    lowered = text.lower()
    for r in headers.reasons:
        if any(word in lowered for word in r["match"]):
            return r["code"], f"{r['id']} (BPJS: {text})", f"{r['en']} (BPJS: {text})"
    return ("sipp_other", f"Ditolak BPJS: {text}",
            f"Rejected by BPJS (their words, in Indonesian): {text}")


def _header(headers: AnswerHeaders, lines: list[tuple[int, list[Any]]]
            ) -> tuple[int, dict[str, int]] | None:  # fmt: skip
    """The header row's index in `lines` and the column of each answer field."""
    wanted = {"nik": headers.nik, "kpj": headers.kpj, "reason": headers.reason,
              "status": headers.status, "kind": headers.kind}  # fmt: skip
    for index, (_row, values) in enumerate(lines[:HEADER_SEARCH]):
        names = [normalise_header(v) for v in values]
        cols: dict[str, int] = {}
        for field, spellings in wanted.items():
            for i, name in enumerate(names):
                if name and name in spellings and field not in cols:
                    cols[field] = i
        if "nik" in cols and ("kpj" in cols or "reason" in cols):
            return index + 1, cols
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a NIK or KPJ Excel kept as a number
    return str(value).strip()


def _lines(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(spreadsheet row or CSV line number, cell values), the first sheet of a workbook."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import zipfile

        from openpyxl import load_workbook

        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNZIPPED:
            raise OSError(f"unpacks to {unpacked // 1024 // 1024} MB, more than "
                          f"{MAX_UNZIPPED // 1024 // 1024} MB")  # fmt: skip

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                yield number, list(values)
        finally:
            wb.close()
        return
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    for values in reader:
        yield reader.line_num, values
