"""A roster's report: its counts (`RosterReport`, the one count of a run's rows, which the
run records and its receipt signs) and its words, shared by the CLI (`cli/output.py`) and the
dashboard's upload page, so a clerk reads the same sentences whichever way the roster went in.

Each text is a pair (Bahasa Indonesia, English): the CLI prints both joined by " / ", the
dashboard shows the language the user chose.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from gateway.domain.records import Problem, RowResult, Severity
from gateway.roster.endings import Endings

if TYPE_CHECKING:
    from gateway.domain.budget import BudgetCheck
    from gateway.roster.prepare import PreparedRow

# A report keeps at most this many problems in memory; the registry keeps all of them.
REPORT_PROBLEM_LIMIT = 10_000


@dataclass
class RosterReport:
    """What happened to a roster: the machine report of the CLI and the API. Its rows,
    accepted, rejected and warnings are the run's one count of them (`RosterApply.finish`
    records them on the run)."""

    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    warnings: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    problems_total: int = 0
    run_id: int | None = None
    status: str = "checked"  # checked | succeeded | rejected | failed
    replayed: bool = False  # the same input was applied before: this is that run's report
    changes: dict[str, int] | None = None  # new / changed / unchanged / ended, when applied
    error: str | None = None
    receipt: dict[str, Any] | None = None  # signed, when the run applied
    # The agency's active workers the roster ends (a check: would end), when counted.
    endings: Endings | None = None

    def add(self, results: Sequence[RowResult | PreparedRow]) -> None:
        for res in results:
            self.rows += 1
            if res.record is None:
                self.rejected += 1
            else:
                self.accepted += 1
            for p in res.problems:
                self.problems_total += 1
                if p.severity is Severity.WARNING:
                    self.warnings += 1
                if len(self.problems) < REPORT_PROBLEM_LIMIT:
                    self.problems.append(p.as_dict())

    def add_unchanged(self, count: int) -> None:
        """Rows known unchanged without being validated (clean the last time: no problems)."""
        self.rows += count
        self.accepted += count

    def add_notices(self, notices: list[Problem]) -> None:
        """File-level warnings (unknown columns, skipped totals rows): not rows themselves.
        Given at the end of a file, they are put in row order among the rows' problems, as
        the run's stored problems are listed (an unknown column is on row 1)."""
        for p in notices:
            self.problems_total += 1
            if p.severity is Severity.WARNING:
                self.warnings += 1
            if len(self.problems) < REPORT_PROBLEM_LIMIT:
                self.problems.append(p.as_dict())
        if notices:
            self.problems.sort(key=_row_of)

    def reject_file(self, problem: Problem) -> None:
        # First, as the run's stored problems list it (by row; a file problem is on row 1).
        self.problems.insert(0, problem.as_dict())
        self.problems_total += 1
        self.status = "rejected"

    def row_counts(self) -> dict[str, int]:
        """rows / accepted / rejected / warnings, as the run records them."""
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "warnings": self.warnings,
        }

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **self.row_counts(),
            "columns": self.columns,
            "unknown_columns": self.unknown_columns,
            "problems": self.problems,
        }
        if self.problems_total > len(self.problems):
            out["problems_total"] = self.problems_total
            out["problems_truncated"] = True
        if self.endings is not None:
            out["endings"] = self.endings.as_dict()
        if self.run_id is not None:
            out.update(run_id=self.run_id, status=self.status, replayed=self.replayed)
            if self.changes is not None:
                out["changes"] = self.changes
            if self.error:
                out["error"] = self.error
                # The recorded cause in a clerk's words, Indonesian first (failure_cause).
                cause = failure_cause(self.error)
                if cause is not None:
                    out["error_message"] = cause.as_message()
            if self.receipt is not None:
                out["receipt"] = self.receipt
        return out


def _row_of(problem: dict[str, Any]) -> int:
    return problem["row"]


class Text(NamedTuple):
    id: str
    en: str

    @property
    def both(self) -> str:
        return f"{self.id} / {self.en}"

    def in_(self, lang: str) -> str:
        return self.en if lang == "en" else self.id

    def as_message(self) -> dict[str, str]:
        """As the JSON answers carry a message: message_id and message_en."""
        return {"message_id": self.id, "message_en": self.en}


STATUS: dict[str, Text] = {
    "checked": Text("Pemeriksaan selesai", "Check finished"),
    "succeeded": Text("Roster diterapkan", "Roster applied"),
    "rejected": Text(
        "Roster ditolak, tidak ada yang diubah", "Roster rejected, nothing changed"
    ),
    "failed": Text("Gagal, tidak ada yang diubah", "Failed, nothing changed"),
}
REPLAYED = Text(
    "Berkas yang sama sudah pernah dikirim: ini laporan run tersebut, tidak ada perubahan.",
    "The same file was submitted before: this is that run's report, nothing changed.",
)
# The counts of a report, in the order they are printed.
COUNTS: dict[str, Text] = {
    "rows": Text("Baris", "rows"),
    "accepted": Text("diterima", "accepted"),
    "rejected": Text("ditolak", "rejected"),
    "warnings": Text("peringatan", "warnings"),
}
CHANGES: dict[str, Text] = {
    "new": Text("Baru", "new"),
    "changed": Text("berubah", "changed"),
    "unchanged": Text("tetap", "unchanged"),
    "ended": Text("diakhiri", "ended"),
}
# A roster field as a clerk names it (the data keeps the canonical ids: `birth_date`, `wage`);
# the dashboard's field_label (gateway/web/i18n.py) and the CLI both read these.
FIELD_NAMES: dict[str, Text] = {
    "nik": Text("NIK", "NIK"),
    "name": Text("Nama", "Name"),
    "gender": Text("Jenis kelamin", "Gender"),
    "birth_date": Text("Tanggal lahir", "Birth date"),
    "position": Text("Jabatan", "Position"),
    "work_unit": Text("Unit kerja", "Work unit"),
    "wage": Text("Upah", "Wage"),
    "start_date": Text("TMT", "Start date (TMT)"),
    "category": Text("Kategori", "Category"),
    "kpj": Text("KPJ", "KPJ"),
}


def field_name(field: str | None) -> Text:
    """A field as a clerk names it; a plugin's own field as it is called; "-" for none."""
    if not field:
        return Text("-", "-")
    return FIELD_NAMES.get(field) or Text(field, field)


COLUMNS = Text("Kolom", "columns")
UNKNOWN_COLUMNS = Text("Kolom tidak dikenal (diabaikan)", "unknown columns (ignored)")
ERROR = Text("Kesalahan", "error")
ALLOCATION_NOT_RECORDED = Text(
    "Alokasi anggaran tidak dicatat karena roster tidak diterapkan; kirim ulang bersama roster "
    "yang sudah diperbaiki.",
    "The budget allocation was not recorded because the roster was not applied; send it again "
    "with the corrected roster.",
)
RECEIPT = Text("Tanda terima bertanda tangan", "Signed receipt")
RECEIPT_HINT = Text(
    "Simpan sebagai bukti pengiriman: tanda tangannya dapat diperiksa siapa pun dengan kunci "
    "publik gateway (/api/v1/receipt-key), mis. dengan perintah jamsos receipt verify.",
    "Keep it as proof of this submission: anyone can check its signature against the "
    "gateway's public key (/api/v1/receipt-key), e.g. with the command jamsos receipt verify.",
)
PROBLEMS_BY_CODE = Text("Masalah per kode", "problems by code")
ROW = Text("Baris", "Row")
FIELD = Text("Kolom", "Field")
CODE = Text("Kode", "Code")
MESSAGE = Text("Pesan", "Message")
SEVERITY: dict[str, Text] = {
    "error": Text("GALAT", "ERROR"),
    "warning": Text("PERINGATAN", "WARNING"),
}


def endings_text(endings: Endings) -> Text:
    """What a check says of the workers a submit would end."""
    n, active, pct = endings.would_end, endings.active, round(100 * endings.fraction)
    text = Text(
        f"Jika dikirim, roster ini mengakhiri kepesertaan {n} dari {active} pekerja aktif "
        f"({pct} %).",
        f"If submitted, this roster ends {n} of {active} active workers ({pct} %).",
    )
    if endings.needs_confirmation:
        limit = round(100 * endings.share)
        text = Text(
            f"{text.id} Lebih dari {limit} %: pengiriman harus dikonfirmasi dengan angka {n}.",
            f"{text.en} More than {limit} %: the submission must be confirmed with the "
            f"number {n}.",
        )
    return text


def status_text(status: str) -> Text:
    return STATUS.get(status, Text(status, status))


def more_problems(hidden: int) -> Text:
    return Text(
        f"… dan {hidden} masalah lain (gunakan --json)", f"and {hidden} more (use --json)"
    )


def _rp(amount: int, lang: str) -> str:
    """Rupiah as each language writes thousands: Rp 1.250.000 / Rp 1,250,000."""
    text = f"Rp {amount:,}"
    return text if lang == "en" else text.replace(",", ".")


def allocation_text(check: BudgetCheck) -> Text:
    """What a clerk is told after declaring an allocation with a roster: whether the year's
    allocation covers the obligation of the workers enrolled for that year, and if not, by
    how much (per program: each is its own account code) and for how many months it pays."""
    year = check.fiscal_year
    ob_id, ob_en = _rp(check.obligation, "id"), _rp(check.obligation, "en")
    workers = check.workers
    if check.status == "sufficient":
        text = Text(
            f"Alokasi {year} mencukupi kewajiban setahun: {_rp(check.allocated, 'id')} untuk "
            f"kewajiban {ob_id} ({workers} pekerja).",
            f"The {year} allocation covers the year's obligation: {_rp(check.allocated, 'en')} "
            f"for an obligation of {ob_en} ({workers} workers).",
        )
    elif check.status == "shortfall":
        short = [line for line in check.lines if line.gap]
        per_id = ", ".join(f"{line.program.upper()} kurang {_rp(line.gap, 'id')}" for line in short)
        per_en = ", ".join(f"{line.program.upper()} short by {_rp(line.gap, 'en')}"
                           for line in short)  # fmt: skip
        months = check.months_covered
        text = Text(
            f"Alokasi {year} belum mencukupi: kurang {_rp(check.gap, 'id')} dari kewajiban "
            f"{ob_id} untuk {workers} pekerja ({per_id}); alokasi ini cukup untuk {months} "
            "dari 12 bulan.",
            f"The {year} allocation does not cover the year: {_rp(check.gap, 'en')} short of "
            f"an obligation of {ob_en} for {workers} workers ({per_en}); it pays for {months} "
            "of 12 months.",
        )
    else:
        text = Text(
            f"Alokasi {year} tidak memuat program yang wajib dibayar: kewajiban {ob_id} untuk "
            f"{workers} pekerja belum teralokasikan.",
            f"The {year} allocation holds none of the programs owed: the obligation of {ob_en} "
            f"for {workers} workers has no budget.",
        )
    if check.allocation_source == "apbd":
        said = (" Pagu APBD dari SIPD yang dipakai, bukan alokasi yang dideklarasikan"
                + (", dan keduanya berbeda." if check.disagreement else "."),
                " The APBD figures from SIPD are used, not the declared allocation"
                + (", and the two differ." if check.disagreement else "."))  # fmt: skip
        text = Text(text.id + said[0], text.en + said[1])
    return text


def allocation_outcome(check: BudgetCheck) -> dict[str, Any]:
    """The machine form of `allocation_text` (the API's and `--json`'s `allocation_check`):
    the budget check's figures for the year, with the sentence in both languages."""
    return {**check.as_dict(), **allocation_text(check).as_message()}


# Why a run failed, as the registry records it (partly English, from older code, exceptions and
# transports) -> the words a clerk reads, Indonesian first. Read at display time, so causes
# recorded before this existed are worded too.
_SAFE_AGAIN = Text("Tidak ada yang diubah; aman dikirim ulang.",
                   "Nothing was changed; safe to send again.")  # fmt: skip
_TRANSPORT: dict[str, str] = {  # describe_error's bilingual details (English first there)
    "timed out / waktu habis": "waktu habis",
    "connection failed or dropped / koneksi gagal atau terputus": "koneksi gagal atau terputus",
}
_CAUSES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Text]], ...] = (
    (re.compile(r"endings_unconfirmed \(\d+/\d+\): (.*?) / (.*)", re.S),
     lambda m: Text(m[1], m[2])),
    (re.compile(r"interrupted: the server stopped while applying this upload"),
     lambda m: Text("Terhenti: server berhenti saat menerapkan unggahan ini. Kirim ulang "
                    "berkasnya; tidak ada yang diterapkan.",
                    "Interrupted: the server stopped while applying this upload. Send the file "
                    "again; nothing was applied.")),
    (re.compile(r"interrupted: its process ended before it finished"),
     lambda m: Text("Terhenti: prosesnya berakhir sebelum selesai. Kirim ulang; tidak ada yang "
                    "diterapkan.",
                    "Interrupted: its process ended before it finished. Send it again; nothing "
                    "was applied.")),
    (re.compile(r"interrupted: no sign of its process for over (.+?) before it finished"),
     lambda m: Text(f"Terhenti: prosesnya tidak terlihat lebih dari {m[1]} sebelum selesai. "
                    "Kirim ulang; tidak ada yang diterapkan.",
                    f"Interrupted: no sign of its process for over {m[1]} before it finished. "
                    "Send it again; nothing was applied.")),
    (re.compile(r"Stopped: dihentikan oleh (\S+) / stopped by \S+"),
     lambda m: Text(f"Dihentikan oleh {m[1]}. {_SAFE_AGAIN.id}",
                    f"Stopped by {m[1]}. {_SAFE_AGAIN.en}")),
    (re.compile(r"(KeyboardInterrupt|SystemExit): interrupted, nothing was applied"),
     lambda m: Text(f"Dihentikan ({m[1]}). {_SAFE_AGAIN.id}",
                    f"Stopped ({m[1]}). {_SAFE_AGAIN.en}")),
    (re.compile(r"(?:SourceError: )?plugin (\S+), source (\S+): (.*)", re.S),
     lambda m: Text(f"Sumber {m[2]} (plugin {m[1]}) gagal: {_detail_id(m[3])}. "
                    f"{_SAFE_AGAIN.id}",
                    f"Source {m[2]} (plugin {m[1]}) failed: {m[3].rstrip('.')}. {_SAFE_AGAIN.en}")),
    # A rejected file records its problem's code (no_header): the problem list says the rest.
    (re.compile(r"[a-z][a-z0-9_]*\Z"),
     lambda m: Text(f"Berkas ditolak ({m[0]}): penyebabnya ada di daftar masalah. "
                    f"{_SAFE_AGAIN.id}",
                    f"The file was rejected ({m[0]}): the cause is in the problem list. "
                    f"{_SAFE_AGAIN.en}")),
    (re.compile(r"([A-Z]\w*(?: \(HTTP \d{3}\))?): (.*)", re.S),
     lambda m: Text(f"Gagal karena kesalahan tak terduga ({m[1]}): {_detail_id(m[2])}. "
                    f"{_SAFE_AGAIN.id}",
                    f"Failed on an unexpected error ({m[1]}): {m[2].rstrip('.')}. "
                    f"{_SAFE_AGAIN.en}")),
)


def _detail_id(detail: str) -> str:
    """A cause's detail for the Indonesian text: a transport's own Indonesian half, else as
    recorded (an exception's text is quoted, not translated)."""
    name, _, rest = detail.partition(": ")
    for both, indonesian in _TRANSPORT.items():
        if rest == both:
            return f"{name}: {indonesian}"
    return detail.rstrip(".")


def failure_cause(error: str | None) -> Text | None:
    """A failed run's recorded cause in the clerk's words, Indonesian first; an unknown cause
    as recorded in both. None for no cause."""
    if not error:
        return None
    error = error.strip()
    for pattern, words in _CAUSES:
        if found := pattern.match(error):
            return words(found)
    return Text(error, error)
