"""The streaming roster reader: formats, encodings, headers, row numbers, file-level errors."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from gateway.domain.records import RawRow, Severity
from gateway.roster.read.formats import SAMPLE_BYTES
from gateway.roster.read.headers import (
    HEADER_ALIASES,
    MAX_COLUMNS,
    normalise_header,
)
from gateway.roster.read.reader import (
    HEADER_SHOWN_CHARS,
    MESSAGES,
    UNKNOWN_SHOWN,
    RosterFileError,
    RosterReader,
    cell_text,
    open_roster,
)

HEADER = ["NIK", "Nama Lengkap", "Jenis Kelamin", "Tanggal Lahir", "Gaji", "TMT"]
ROW_A = ["3171014508900001", "Siti Aminah", "P", "05-08-1990", "Rp 3.500.000", "01-01-2024"]
ROW_B = ["3171011708900002", "Budi Santoso", "L", "17/08/1990", "3500000", "2024-01-01"]


def csv_bytes(
    rows: list[list[str]], *, sep: str = ";", newline: str = "\r\n", encoding: str = "utf-8"
) -> bytes:
    return "".join(sep.join(row) + newline for row in rows).encode(encoding)


def read_all(data: bytes, **kwargs: object) -> tuple[RosterReader, list[RawRow]]:
    with open_roster(io.BytesIO(data), **kwargs) as reader:  # type: ignore[arg-type]
        return reader, list(reader)


def xlsx_file(tmp_path: Path, rows: list[list[object]], name: str = "roster.xlsx") -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def error_code(data: bytes, filename: str | None = None) -> str:
    with pytest.raises(RosterFileError) as caught:
        read_all(data, filename=filename)
    return caught.value.code


# ------------------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_csv_delimiter_is_sniffed(sep: str) -> None:
    reader, rows = read_all(csv_bytes([HEADER, ROW_A, ROW_B], sep=sep))
    assert reader.format == "csv"
    assert reader.delimiter == sep
    assert [r.values["nik"] for r in rows] == [ROW_A[0], ROW_B[0]]
    assert rows[0].values["wage"] == "Rp 3.500.000"


def test_csv_comma_with_quoted_commas_in_values() -> None:
    data = b'NIK,Nama,Gaji,TMT\r\n3171011708900002,"Santoso, Budi","4,500,000.00",2024-01-01\r\n'
    reader, rows = read_all(data)
    assert reader.delimiter == ","
    assert rows[0].values == {
        "nik": "3171011708900002",
        "name": "Santoso, Budi",
        "wage": "4,500,000.00",
        "start_date": "2024-01-01",
    }


def test_semicolon_wins_over_commas_inside_quoted_headers() -> None:
    data = b'NIK;Nama;"Gaji (Rp, per bulan)";TMT\n3171011708900002;Budi;3500000;2024-01-01\n'
    reader, rows = read_all(data)
    assert reader.delimiter == ";"
    assert rows[0].values["wage"] == "3500000"


def test_excel_sep_hint_line_sets_delimiter_and_is_not_a_row() -> None:
    data = b"sep=,\r\n" + csv_bytes([HEADER, ROW_A], sep=",")
    reader, rows = read_all(data)
    assert reader.delimiter == ","
    assert reader.header_row == 1
    assert rows[0].row == 2


def test_utf8_bom_is_stripped_from_first_header() -> None:
    reader, rows = read_all(codecs.BOM_UTF8 + csv_bytes([HEADER, ROW_A]))
    assert reader.encoding == "utf-8-sig"
    assert "NIK" in reader.columns
    assert rows[0].values["nik"] == ROW_A[0]


def test_utf8_without_bom() -> None:
    row = [*ROW_A[:1], "Ni Luh Putu Ayu Déwi", *ROW_A[2:]]
    reader, rows = read_all(csv_bytes([HEADER, row]))
    assert reader.encoding == "utf-8"
    assert rows[0].values["name"] == "Ni Luh Putu Ayu Déwi"


def test_cp1252_bytes_fall_back_to_windows_1252() -> None:
    data = csv_bytes([HEADER]) + b"3171011708900002;Jos\xe9 Ram\xf3n;L;;3500000;2024-01-01\r\n"
    reader, rows = read_all(data)
    assert reader.encoding == "cp1252"
    assert rows[0].values["name"] == "José Ramón"


def test_cp1252_byte_after_an_ascii_sample_is_decoded_as_cp1252() -> None:
    filler = [ROW_B] * (SAMPLE_BYTES // 60 + 10)  # push the first non-ASCII byte past 64 KiB
    data = csv_bytes([HEADER, *filler]) + b"3171011708900003;Andr\xe9;L;;3500000;2024-01-01\r\n"
    assert len(data) > SAMPLE_BYTES
    reader, rows = read_all(data)
    assert reader.encoding == "utf-8"
    assert rows[-1].values["name"] == "André"
    assert rows[-1].row == len(filler) + 2


def test_invalid_byte_after_utf8_sample_is_a_file_error_not_garbage() -> None:
    first = [*ROW_A[:1], "Dédé", *ROW_A[2:]]
    filler = [ROW_B] * (SAMPLE_BYTES // 60 + 10)
    data = csv_bytes([HEADER, first, *filler]) + b"3171011708900003;Andr\xe9;L;;1;2024-01-01\r\n"
    reader = open_roster(io.BytesIO(data))
    with pytest.raises(RosterFileError) as caught:
        list(reader)
    reader.close()
    assert caught.value.code == "undecodable"
    assert "UTF-8" in caught.value.message_en


def test_undefined_cp1252_byte_is_undecodable() -> None:
    data = csv_bytes([HEADER]) + b"3171011708900002;Jos\xe9\x81;L;;3500000;2024-01-01\r\n"
    assert error_code(data) == "undecodable"


def test_utf16_unicode_text_export() -> None:
    text = "\t".join(HEADER) + "\r\n" + "\t".join(ROW_A) + "\r\n"
    reader, rows = read_all(text.encode("utf-16"))
    assert reader.encoding == "utf-16"
    assert reader.delimiter == "\t"
    assert rows[0].values["name"] == "Siti Aminah"


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_endings(newline: str) -> None:
    _, rows = read_all(csv_bytes([HEADER, ROW_A, ROW_B], newline=newline))
    assert [r.row for r in rows] == [2, 3]
    assert rows[1].values["start_date"] == "2024-01-01"  # no stray "\r"


def test_blank_rows_are_skipped_but_still_numbered() -> None:
    data = csv_bytes([HEADER, ROW_A, [], ["", "  ", "", "", "", ""], ROW_B, []])
    _, rows = read_all(data)
    assert [r.row for r in rows] == [2, 5]


def test_header_after_blank_rows_keeps_spreadsheet_numbers() -> None:
    reader, rows = read_all(csv_bytes([[], [";;"], HEADER, ROW_A]))
    assert reader.header_row == 3
    assert rows[0].row == 4


def test_quoted_line_break_is_one_row_as_excel_shows_it() -> None:
    data = csv_bytes([HEADER]) + b'3171011708900002;"Budi\r\nSantoso";L;;1;2024-01-01\r\n'
    data += csv_bytes([ROW_A])
    _, rows = read_all(data)
    assert [r.row for r in rows] == [2, 3]
    assert rows[0].values["name"] == "Budi\r\nSantoso"


def test_cells_are_stripped_and_empty_cells_are_none() -> None:
    data = csv_bytes([HEADER, [" 3171011708900002 ", "\u00a0Budi ", "", " ", "1", "x"]])
    _, rows = read_all(data)
    assert rows[0].values["nik"] == "3171011708900002"
    assert rows[0].values["name"] == "Budi"
    assert rows[0].values["gender"] is None
    assert rows[0].values["birth_date"] is None


def test_short_rows_read_missing_cells_as_none() -> None:
    _, rows = read_all(csv_bytes([HEADER, ROW_A[:2]]))
    assert rows[0].values["wage"] is None
    assert rows[0].values["start_date"] is None


@pytest.mark.parametrize("label", ["JUMLAH", "Jumlah", "jumlah total", "TOTAL", "Total:"])
def test_totals_row_is_never_yielded(label: str) -> None:
    data = csv_bytes([HEADER, ROW_A, ROW_B, ["", label, "", "", "7.000.000", ""]])
    reader, rows = read_all(data)
    assert [r.row for r in rows] == [2, 3]
    assert reader.skipped_totals == [4]
    [problem] = reader.notices()
    assert (problem.code, problem.row, problem.severity) == (
        "totals_row_skipped",
        4,
        Severity.WARNING,
    )


def test_totals_label_in_an_unknown_column_counts() -> None:
    data = csv_bytes([["No", *HEADER], ["1", *ROW_A], ["Jumlah", "", "", "", "", "", ""]])
    reader, rows = read_all(data)
    assert len(rows) == 1
    assert reader.skipped_totals == [3]


def test_row_with_a_nik_is_data_even_if_a_cell_says_total() -> None:
    row = [ROW_A[0], "Total Sutrisno", *ROW_A[2:]]
    reader, rows = read_all(csv_bytes([HEADER, row]))
    assert rows[0].values["name"] == "Total Sutrisno"
    assert reader.skipped_totals == []


def test_csv_values_are_never_numeric() -> None:
    _, rows = read_all(csv_bytes([HEADER, ROW_B]))
    assert rows[0].numeric_fields == frozenset()


def test_unclosed_quote_is_malformed_csv() -> None:
    data = csv_bytes([HEADER, ROW_A]) + b'3171011708900002;"Budi' + b"x;" * 70_000
    reader = open_roster(io.BytesIO(data))
    with pytest.raises(RosterFileError) as caught:
        list(reader)
    assert caught.value.code == "malformed_csv"
    assert "3" in caught.value.message_en


def test_a_quote_never_closed_in_a_small_file_is_malformed_not_swallowed() -> None:
    """Under the field size limit the lenient csv module returned the rest of the file as one
    cell: the rows after the quote vanished (and a snapshot ended their workers)."""
    data = csv_bytes([HEADER, ROW_A]) + b'3171011708900002;"Budi;L\r\n' + csv_bytes([ROW_B])
    with pytest.raises(RosterFileError) as caught:
        list(open_roster(io.BytesIO(data)))
    assert caught.value.code == "malformed_csv"
    assert "row 3" in caught.value.message_en


def test_a_quoted_cell_with_line_breaks_in_the_last_row_is_read() -> None:
    data = csv_bytes([HEADER, ROW_A]) + b'3171011708900002;"Budi\r\nSantoso";L'
    _, rows = read_all(data)
    assert [r.values["name"] for r in rows] == [ROW_A[1], "Budi\r\nSantoso"]


# ----------------------------------------------------------------------------------- headers


VALUES = ["3171011708900002", "Budi", "3500000", "2024-01-01", "x"]


def _header_with(field: str, spelling: str) -> list[str]:
    """A header with the required columns, `field` spelt `spelling` (added if optional)."""
    base = {"nik": "NIK", "name": "Nama", "wage": "Gaji", "start_date": "TMT"}
    base[field] = spelling
    return list(base.values())


ALIAS_CASES = [(field, s) for field, spellings in HEADER_ALIASES.items() for s in spellings]


@pytest.mark.parametrize(("field", "spelling"), ALIAS_CASES)
@pytest.mark.parametrize("variant", [str, str.upper, str.lower, lambda s: f"  {s}  "])
def test_every_header_alias_is_recognised(field: str, spelling: str, variant: object) -> None:
    header = variant(spelling)  # type: ignore[operator]
    cells = _header_with(field, header)
    reader, rows = read_all(csv_bytes([cells, VALUES[: len(cells)]]))
    assert reader.columns[header.strip()] == field
    assert reader.unknown_columns == []
    assert rows[0].values[field] is not None


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("No.KTP", "nik"),
        ("NO_KTP", "nik"),
        ("no-ktp", "nik"),
        ("NamaLengkap", "name"),
        ("TGL.LAHIR", "birth_date"),
        ("Honor / Bulan", "wage"),
        ("Gaji (Rp)", "wage"),
        ("Jenis Kelamin (L/P)", "gender"),
        ("Tanggal Lahir [dd-mm-yyyy]", "birth_date"),
        ("T.M.T", "start_date"),
    ],
)
def test_punctuation_and_bracketed_units_do_not_matter(header: str, field: str) -> None:
    cells = _header_with(field, header)
    reader, _ = read_all(csv_bytes([cells, VALUES[: len(cells)]]))
    assert reader.columns[header] == field


def test_alias_spellings_do_not_collide_between_fields() -> None:
    owner: dict[str, str] = {}
    for field, spellings in HEADER_ALIASES.items():
        for spelling in spellings:
            assert owner.setdefault(normalise_header(spelling), field) == field


def test_unknown_columns_are_reported_in_file_order() -> None:
    reader, rows = read_all(csv_bytes([["Catatan", *HEADER, "Keterangan", ""],
                                       ["1", *ROW_A, "x"]]))  # fmt: skip
    assert reader.unknown_columns == ["Catatan", "Keterangan"]
    assert set(rows[0].values) == {"nik", "name", "gender", "birth_date", "wage", "start_date"}
    notices = reader.notices()
    assert [(p.code, p.row) for p in notices] == [("unknown_column", 1), ("unknown_column", 1)]
    assert "Keterangan" in notices[1].message_id


@pytest.mark.parametrize("number", ["No", "No.", "NO", "Nomor", "No Urut", "No. Urut"])
def test_the_row_number_column_is_known_not_warned_about(number: str) -> None:
    """Issue 21: the first column of most Indonesian sheets numbers the rows; it was warned
    about as an unknown column on every upload."""
    reader, rows = read_all(csv_bytes([[number, *HEADER, "Keterangan"], ["1", *ROW_A, "x"]]))
    assert reader.unknown_columns == ["Keterangan"]
    assert [p.code for p in reader.notices()] == ["unknown_column"]
    assert rows[0].values["nik"] == ROW_A[0] and "1" not in rows[0].values.values()


def test_a_million_unknown_columns_make_one_capped_notice_not_a_million() -> None:
    """Issue 16, item 10: 1 million unknown columns made 1 million problems, 11.8 MB."""
    unknown = [f"Kolom {i}" for i in range(MAX_COLUMNS + 5_000)]
    reader, rows = read_all(csv_bytes([[*HEADER, *unknown], ROW_A]))
    assert len(rows) == 1 and rows[0].values["nik"] == ROW_A[0]
    assert reader.unknown_columns == unknown[:UNKNOWN_SHOWN]
    notices = reader.notices()
    assert len(notices) == UNKNOWN_SHOWN + 1
    more = notices[-1]
    # Only the first MAX_COLUMNS columns are read at all (the six known ones among them).
    count = MAX_COLUMNS - len(HEADER) - UNKNOWN_SHOWN
    assert (more.code, more.row) == ("unknown_columns_more", 1)
    assert f"{count} kolom lain" in more.message_id and f"{count} more" in more.message_en


def test_a_long_unknown_header_is_listed_shortened() -> None:
    reader, _ = read_all(csv_bytes([[*HEADER, "X" * 5_000], ROW_A]))
    assert [len(h) for h in reader.unknown_columns] == [HEADER_SHOWN_CHARS]
    assert reader.unknown_columns[0].endswith("…")


def test_columns_after_the_last_read_one_are_not_read() -> None:
    with pytest.raises(RosterFileError) as caught:
        read_all(csv_bytes([[""] * MAX_COLUMNS + HEADER, [""] * MAX_COLUMNS + ROW_A]))
    assert caught.value.code == "no_header"


def test_plugin_aliases_extend_and_override() -> None:
    header = ["NIK Pendamping", "Nama", "Honor", "Mulai Tugas", "No KPJ"]
    row = ["3171011708900002", "Budi", "3500000", "2024-01-01", "12345678901"]
    extra = {"nik": ["NIK Pendamping"], "start_date": ("Mulai Tugas",), "kpj": "No KPJ"}
    reader, rows = read_all(csv_bytes([header, row]), aliases=extra)
    assert reader.columns == {
        "NIK Pendamping": "nik",
        "Nama": "name",
        "Honor": "wage",
        "Mulai Tugas": "start_date",
        "No KPJ": "kpj",
    }
    assert rows[0].values["kpj"] == "12345678901"


def test_required_columns_can_be_narrowed() -> None:
    _, rows = read_all(csv_bytes([["NIK", "Nama"], ["3171011708900002", "Budi"]]), required=())
    assert rows[0].values == {"nik": "3171011708900002", "name": "Budi"}


# ----------------------------------------------------------------------------------- XLSX


def test_xlsx_cells_become_text_and_numeric_cells_are_flagged(tmp_path: Path) -> None:
    path = xlsx_file(
        tmp_path,
        [
            [*HEADER, "Kategori"],
            [
                3171011708900002,
                "Budi",
                "L",
                dt.datetime(1990, 8, 17),
                3500000,
                dt.date(2024, 1, 1),
                True,
            ],
            ["3171014508900001", "Siti", "P", "05-08-1990", 3500000.0, "01-01-2024", "honorer"],
            ["3171014508900003", "Ani", "P", None, 2750000.5, "01-01-2024", None],
        ],
    )
    with open_roster(path) as reader:
        rows = list(reader)
        assert (reader.format, reader.encoding, reader.delimiter) == ("xlsx", None, None)
    first, second, third = rows
    assert first.values["nik"] == "3171011708900002"
    assert first.numeric_fields == {"nik", "wage"}
    assert first.values["birth_date"] == "1990-08-17"
    assert first.values["start_date"] == "2024-01-01"
    assert first.values["category"] == "TRUE"
    assert second.numeric_fields == {"wage"}
    assert second.values["wage"] == "3500000"
    assert third.values["wage"] == "2750000.5"
    assert third.values["birth_date"] is None


def test_xlsx_cells_read_as_openpyxl_reads_them(tmp_path: Path) -> None:
    """The bounded reader (read/xlsx.py) gives each cell the text openpyxl's value gave."""
    from openpyxl import load_workbook
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    from gateway.roster.read.xlsx import open_book, sheet_rows

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    rich = CellRichText("Siti ", TextBlock(InlineFont(b=True), "Aminah"))
    values = [
        3171011708900002, rich, True, dt.datetime(1990, 8, 17, 10, 30), 3_500_000.75,
        dt.date(2024, 1, 1), dt.time(8, 30), 1e20, -0.5, "  spasi  ", "x005F_y", "#N/A",
    ]  # fmt: skip
    sheet.append(values)
    sheet.append(["=1+1", dt.timedelta(hours=36), False, None, 0, ""])
    sheet["C3"].number_format = "[h]:mm"
    sheet["C3"] = 1.5
    sheet["D3"].number_format = "dd/mm/yyyy"
    sheet["D3"] = 45000
    path = tmp_path / "types.xlsx"
    book.save(path)
    for date1904 in (False, True):
        if date1904:
            book.epoch = dt.datetime(1904, 1, 1)  # openpyxl: CALENDAR_MAC_1904
            book.save(path)
        expected = [
            [cell_text(v)[0] for v in row]
            for row in load_workbook(path, read_only=True, data_only=True).active.iter_rows(
                values_only=True
            )
        ]
        with path.open("rb") as fh:
            ours = open_book(fh)
            got = [
                [cells[i] if i < len(cells) else None for i in range(len(expected[n - 1]))]
                for n, cells, _ in sheet_rows(ours, ours.sheets[0])
            ]
            ours.archive.close()
        assert got == expected, date1904


def test_xlsx_row_numbers_blank_rows_and_totals(tmp_path: Path) -> None:
    path = xlsx_file(
        tmp_path,
        [[], HEADER, ROW_A, [], [None, "  "], ROW_B, [None, "JUMLAH", None, None, 7000000]],
    )
    with open_roster(path) as reader:
        rows = list(reader)
        assert reader.header_row == 2
        assert [r.row for r in rows] == [3, 6]
        assert reader.skipped_totals == [7]
        assert reader.progress == 1.0


def test_xlsx_rows_beyond_a_wrong_dimension_are_still_read(tmp_path: Path) -> None:
    source = xlsx_file(tmp_path, [HEADER, ROW_A, ROW_B])
    target = tmp_path / "lying.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:F3"', b'<dimension ref="A1:B2"')
                assert b"A1:B2" in data
            new.writestr(item, data)
    with open_roster(target) as reader:
        rows = list(reader)
    assert [r.row for r in rows] == [2, 3]
    assert rows[1].values["start_date"] == "2024-01-01"


class _Unseekable(io.RawIOBase):
    """A Flask-like upload stream: short reads, no seeking."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(min(len(buffer), 999))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_xlsx_from_unseekable_stream_is_spooled(tmp_path: Path) -> None:
    data = xlsx_file(tmp_path, [HEADER, ROW_A, ROW_B]).read_bytes()
    stream = _Unseekable(data)
    with open_roster(stream) as reader:
        assert reader.total_bytes == len(data)
        assert [r.row for r in reader] == [2, 3]
    assert not stream.closed  # the caller's stream is the caller's to close


def test_csv_from_unseekable_stream() -> None:
    data = csv_bytes([HEADER, *[ROW_A] * 2000])
    with open_roster(_Unseekable(data)) as reader:
        assert reader.total_bytes is None
        assert reader.progress is None
        assert sum(1 for _ in reader) == 2000
        assert reader.bytes_read == len(data)


def test_csv_progress_reaches_one(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([HEADER, *[ROW_A] * 5000]))
    with open_roster(path) as reader:
        assert reader.total_bytes == path.stat().st_size
        seen = [reader.progress for i, _ in enumerate(reader) if i % 1000 == 0]
        assert seen == sorted(seen)
        assert reader.progress == 1.0
        assert reader.rows_read == 5000


def test_path_is_closed_with_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([HEADER, ROW_A]))
    reader = open_roster(path)
    reader.close()
    reader.close()  # idempotent


def test_cell_text() -> None:
    assert cell_text(3171011708900002) == ("3171011708900002", True)
    assert cell_text(3.17101e15) == ("3171010000000000", True)
    assert cell_text(0.1) == ("0.1", True)
    assert cell_text("  ") == (None, False)
    assert cell_text(dt.datetime(2024, 1, 1, 13, 5)) == ("2024-01-01", False)
    assert cell_text(False) == ("FALSE", False)


# ------------------------------------------------------------------------- file-level errors


def test_empty_file() -> None:
    assert error_code(b"") == "empty_file"


def test_only_blank_lines_is_empty() -> None:
    assert error_code(b"\r\n;;;\r\n  \r\n") == "empty_file"


def test_empty_xlsx(tmp_path: Path) -> None:
    assert error_code(xlsx_file(tmp_path, []).read_bytes()) == "empty_file"


def test_no_recognisable_header_names_the_required_columns() -> None:
    with pytest.raises(RosterFileError) as caught:
        read_all(csv_bytes([ROW_A, ROW_B]))
    error = caught.value
    assert error.code == "no_header"
    # As a clerk knows the columns (issue 21), never the internal ids (start_date, wage).
    said = "NIK/No. KTP, Nama/Nama Lengkap, Upah/Gaji, TMT/Tanggal Mulai."
    assert error.message_id.endswith(f"kolom wajib: {said}")
    assert error.message_en.endswith(f"required columns: {said}")
    assert "start_date" not in error.message_en and "wage" not in error.message_id


def test_a_plugins_own_spelling_names_its_column_first() -> None:
    with pytest.raises(RosterFileError) as caught:
        read_all(csv_bytes([["NIK", "Nama", "Honor", "Mulai"], ROW_A[:4]]),
                 aliases={"start_date": ("Mulai Bertugas",), "wage": "Honor"})
    assert caught.value.code == "missing_columns"
    assert "Mulai Bertugas/TMT" in caught.value.message_id


def test_missing_required_columns_are_listed() -> None:
    with pytest.raises(RosterFileError) as caught:
        read_all(csv_bytes([["NIK", "Nama", "Jabatan"], ["3171011708900002", "Budi", "Sopir"]]))
    error = caught.value
    assert error.code == "missing_columns"
    assert "Upah/Gaji, TMT/Tanggal Mulai" in error.message_en
    assert "Upah/Gaji, TMT/Tanggal Mulai" in error.message_id
    assert "wage" not in error.message_en and "start_date" not in error.message_en


def test_duplicate_header_for_one_field() -> None:
    with pytest.raises(RosterFileError) as caught:
        read_all(csv_bytes([["NIK", "No. KTP", "Nama", "Gaji", "TMT"], ROW_A[:5]]))
    assert caught.value.code == "duplicate_column"
    assert "NIK, No. KTP" in caught.value.message_en
    assert caught.value.message_id.startswith("Kolom NIK/No. KTP muncul lebih dari sekali")


def test_corrupt_xlsx(tmp_path: Path) -> None:
    data = xlsx_file(tmp_path, [HEADER, ROW_A]).read_bytes()
    assert error_code(data[: len(data) // 2]) == "corrupt_xlsx"
    assert error_code(b"PK\x03\x04" + b"\x00garbage" * 50) == "corrupt_xlsx"


def test_damaged_part_inside_a_valid_zip_is_corrupt_xlsx(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("xl/workbook.xml", "<not xml")
    assert error_code(buffer.getvalue()) == "corrupt_xlsx"


def test_text_named_xlsx_is_corrupt_xlsx() -> None:
    assert error_code(csv_bytes([HEADER, ROW_A]), filename="roster.xlsx") == "corrupt_xlsx"


def test_legacy_xls() -> None:
    assert error_code(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512) == "legacy_xls"
    assert error_code(b"<html><table>", filename="ROSTER.XLS") == "legacy_xls"


def test_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert error_code(buffer.getvalue(), filename="roster.docx") == "unsupported_format"


@pytest.mark.parametrize("data", [b"%PDF-1.7\n...", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"])
def test_not_csv_or_xlsx(data: bytes) -> None:
    assert error_code(data) == "unsupported_format"


def test_text_stream_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        open_roster(io.StringIO("NIK;Nama"))  # type: ignore[arg-type]


def test_file_error_as_problem() -> None:
    error = RosterFileError.from_catalog("missing_columns", columns="wage")
    problem = error.as_problem()
    assert (problem.row, problem.field, problem.code, problem.severity) == (
        1,
        None,
        "missing_columns",
        Severity.ERROR,
    )
    assert problem.message_id == "Kolom wajib tidak ditemukan: wage."
    assert problem.message_en == "Required columns are missing: wage."


def test_catalog_has_both_languages() -> None:
    for code, message in MESSAGES.items():
        assert message.id and message.en, code
        assert message.id != message.en, code


# --------------------------------------------------------------------------- XLSX sheets


def _book(tmp_path: Path, sheets: list[tuple[str, list[list[object]], str]]) -> Path:
    """A workbook of (title, rows, state) sheets, in order."""
    book = Workbook()
    book.remove(book.active)
    for title, rows, state in sheets:
        sheet = book.create_sheet(title)
        sheet.sheet_state = state
        for row in rows:
            sheet.append(row)
    path = tmp_path / "book.xlsx"
    book.save(path)
    return path


def test_workers_on_several_sheets_are_refused_not_partly_read(tmp_path: Path) -> None:
    """One sheet per OPD: reading the first alone applied half the roster and ended the rest,
    without a word."""
    path = _book(tmp_path, [
        ("Dinkes", [HEADER, ROW_A], "visible"),
        ("Catatan", [["Disusun oleh BKPSDM"]], "visible"),  # notes: not a roster sheet
        ("Disdik", [["Daftar honorer"], [], HEADER, ROW_B], "visible"),
    ])  # fmt: skip
    with pytest.raises(RosterFileError) as caught, open_roster(path) as reader:
        list(reader)
    assert caught.value.code == "several_roster_sheets"
    assert "Dinkes, Disdik" in caught.value.message_en
    # One file per sheet would end the other sheets' workers: never advised.
    assert "Do not send one file per sheet" in caught.value.message_en


@pytest.mark.parametrize("first", ["hidden", "empty"])
def test_the_roster_sheet_is_found_behind_a_hidden_or_empty_first_sheet(
    tmp_path: Path, first: str
) -> None:
    old = ("Lama", [HEADER, ROW_B], "hidden") if first == "hidden" else ("Kosong", [], "visible")
    sheets = [old, ("Data", [HEADER, ROW_A], "visible")]
    with open_roster(_book(tmp_path, sheets)) as reader:
        rows = list(reader)
    assert [r.values["name"] for r in rows] == [ROW_A[1]]
