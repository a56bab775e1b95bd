"""What can be wrong with a roster file as a whole, in Bahasa Indonesia and English.

Row-level problems belong to validation; these stop the file before (or, for a bad byte or a
broken quote far down a CSV, while) its rows are read. Messages never quote cell contents:
a cell may hold a NIK, and problems are stored and shown (records.Problem).
"""

from __future__ import annotations

from gateway.domain.records import Message, Problem, Severity, make_problem

_E = Severity.ERROR
_W = Severity.WARNING

MESSAGES: dict[str, Message] = {
    "empty_file": Message(
        _E,
        "Berkas kosong: tidak ada baris judul kolom maupun data.",
        "The file is empty: it has no header row and no data.",
    ),
    "no_data_rows": Message(
        _E,
        "Tidak ada satu pun baris data pekerja: berkas hanya berisi judul kolom, baris kosong "
        "atau baris jumlah.",
        "There is not a single worker row: the file holds only the header row, blank rows or "
        "totals rows.",
    ),
    "no_header": Message(
        _E,
        "Baris judul kolom tidak dikenali. Baris pertama harus berisi nama kolom; "
        "kolom wajib: {required}.",
        "No recognisable header row. The first row must hold the column names; "
        "required columns: {required}.",
    ),
    "missing_columns": Message(
        _E,
        "Kolom wajib tidak ditemukan: {columns}.",
        "Required columns are missing: {columns}.",
    ),
    "duplicate_column": Message(
        _E,
        "Kolom {field} muncul lebih dari sekali ({headers}); sisakan satu saja.",
        "Column {field} appears more than once ({headers}); keep only one.",
    ),
    "several_roster_sheets": Message(
        _E,
        "Data pekerja ada di beberapa lembar kerja ({sheets}): satukan semuanya dalam satu "
        "lembar lalu kirim ulang. Jangan kirim satu berkas per lembar: setiap berkas dianggap "
        "daftar lengkap, sehingga pekerja yang tidak ada di dalamnya akan diakhiri.",
        "Workers are listed on several sheets ({sheets}): put them all on one sheet and send "
        "the file again. Do not send one file per sheet: each file is taken as the complete "
        "list, so workers missing from it would be ended.",
    ),
    "several_data_sheets": Message(
        _E,
        "Baris data ada di beberapa lembar kerja ({sheets}): satukan semuanya dalam satu "
        "lembar lalu kirim ulang; membaca satu lembar saja akan kehilangan baris lembar lain.",
        "Lines are listed on several sheets ({sheets}): put them all on one sheet and send the "
        "file again; reading one sheet would lose the other sheets' lines.",
    ),
    # Not raised by the reader (the web server refuses the upload first): the API and the
    # dashboard answer with it. Never advise splitting the roster: a roster is a snapshot.
    "file_too_large": Message(
        _E,
        "Berkas melebihi batas {limit} MB. Kirim roster sebagai CSV (jauh lebih kecil daripada "
        "XLSX) dan hapus kolom yang tidak diperlukan. Jangan memecah roster menjadi beberapa "
        "berkas: setiap berkas dianggap daftar lengkap, sehingga pekerja yang tidak ada di "
        "dalamnya akan diakhiri.",
        "The file exceeds the {limit} MB limit. Send the roster as CSV (much smaller than "
        "XLSX) and remove the columns not needed. Do not split the roster into several files: "
        "each file is taken as the complete list, so workers missing from it would be ended.",
    ),
    "corrupt_xlsx": Message(
        _E,
        "Berkas Excel (.xlsx) rusak atau tidak dapat dibaca ({detail}). "
        "Simpan ulang dari Excel lalu unggah kembali.",
        "The Excel (.xlsx) file is damaged or cannot be read ({detail}). "
        "Save it again from Excel and upload it again.",
    ),
    "xlsx_too_large": Message(
        _E,
        "Berkas Excel terlalu besar untuk dibaca dengan aman (teks tak terkompresi lebih dari "
        "{limit} MiB, sel lebih dari 32.767 karakter, atau lebih dari 1.048.576 baris). "
        "Buka di Excel, simpan sebagai CSV UTF-8, lalu unggah CSV itu.",
        "The Excel file is too large to read safely (more than {limit} MiB of uncompressed "
        "text, a cell over 32,767 characters, or over 1,048,576 rows). Open it in Excel, save "
        "it as CSV UTF-8 and upload that CSV instead.",
    ),
    "legacy_xls": Message(
        _E,
        "Format Excel lama (.xls) tidak didukung: buka di Excel lalu simpan sebagai .xlsx "
        "atau CSV.",
        "The old Excel format (.xls) is not supported: open it in Excel and save it as .xlsx "
        "or CSV.",
    ),
    "unsupported_format": Message(
        _E,
        "Format berkas tidak didukung: unggah CSV (.csv) atau Excel (.xlsx).",
        "Unsupported file format: upload a CSV (.csv) or Excel (.xlsx) file.",
    ),
    "undecodable": Message(
        _E,
        "Teks berkas tidak dapat dibaca sebagai {encoding} (sekitar baris {row}). "
        "Simpan ulang dari Excel sebagai 'CSV UTF-8'.",
        "The file's text cannot be decoded as {encoding} (near row {row}). "
        "Save it again from Excel as 'CSV UTF-8'.",
    ),
    "malformed_csv": Message(
        _E,
        "Struktur CSV rusak sekitar baris {row}, misalnya tanda kutip yang tidak ditutup.",
        "Malformed CSV near row {row}, for example a quote that is never closed.",
    ),
    # Notices: the file is read, the submitter should know.
    "totals_row_skipped": Message(
        _W,
        "Baris {number} adalah baris jumlah/total dan dilewati.",
        "Row {number} is a totals row and was skipped.",
    ),
    "unknown_column": Message(
        _W,
        "Kolom '{header}' tidak dikenali dan diabaikan.",
        "Column '{header}' is not recognised and was ignored.",
    ),
    "unknown_columns_more": Message(
        _W,
        "{count} kolom lain juga tidak dikenali dan diabaikan.",
        "{count} more columns are not recognised either and were ignored.",
    ),
}


class RosterFileError(Exception):
    """The roster file as a whole cannot be read; no row of it may be applied."""

    def __init__(self, code: str, message_id: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_id = message_id
        self.message_en = message_en
        # Warnings about the file found before it was refused (a totals row skipped, an
        # unknown column): the rejected run keeps them, as an applied one would.
        self.notices: list[Problem] = []
        # The header as it was read, when it was (a file of a header alone): kept on the run.
        self.columns: dict[str, str] | None = None
        self.unknown_columns: list[str] | None = None

    def __reduce__(self) -> tuple:
        # Found in a worker process that reads part of the file (chunks.py), it must cross
        # back to the writer as itself: the default pickling would call __init__ with one
        # argument and turn a bad file into a broken pool.
        return (type(self), (self.code, self.message_id, self.message_en))

    @classmethod
    def from_catalog(cls, code: str, **params: object) -> RosterFileError:
        msg = MESSAGES[code]
        return cls(code, msg.id.format(**params), msg.en.format(**params))

    def as_problem(self) -> Problem:
        # A file-level problem is reported against the header row, as docs/domain.md §4 asks.
        return Problem(
            row=1,
            field=None,
            code=self.code,
            severity=Severity.ERROR,
            message_id=self.message_id,
            message_en=self.message_en,
        )


def notice(code: str, at_row: int, **params: object) -> Problem:
    """A warning about the file (unknown column, totals row skipped) at row `at_row`."""
    return make_problem(MESSAGES, code, at_row, None, **params)
