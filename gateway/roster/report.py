"""The words of a roster report, shared by the CLI (cli_report.py) and the dashboard's upload
page, so a clerk reads the same sentences whichever way the roster went in.

Each text is a pair (Bahasa Indonesia, English): the CLI prints both joined by " / ", the
dashboard shows the language the user chose.
"""

from __future__ import annotations

from typing import NamedTuple


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


def status_text(status: str) -> Text:
    return STATUS.get(status, Text(status, status))


def more_problems(hidden: int) -> Text:
    return Text(
        f"… dan {hidden} masalah lain (gunakan --json)", f"and {hidden} more (use --json)"
    )
