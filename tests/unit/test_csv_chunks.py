"""Reading a CSV roster in byte-range chunks gives exactly the rows the ordinary reader gives.

The contract of gateway/roster/read/chunks.py: for any CSV roster, `chunk_rows` over every chunk
that `plan_chunks` plans yields `list(reader)` (same values, same spreadsheet row numbers) and
collects the same totals rows, whatever the chunk size.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from gateway.domain.records import RawRow
from gateway.roster.read.chunks import CHUNK_BYTES, chunk_rows, plan_chunks
from gateway.roster.read.formats import SAMPLE_BYTES
from gateway.roster.read.reader import RosterFileError, open_roster
from tests.helpers.roster import HEADER, worker_row

SIZES = (1, 7, 64, 1000, CHUNK_BYTES)


def roster_bytes(
    records: list[list[str]],
    *,
    sep: str = ";",
    newline: str = "\r\n",
    encoding: str = "utf-8",
    bom: bool = False,
    hint: bool = False,
    final_newline: bool = True,
) -> bytes:
    """`records` (header included) as a CSV file, written by the csv module."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator=newline).writerows(records)
    text = buf.getvalue()
    if not final_newline:
        text = text.removesuffix(newline)
    if hint:
        text = f"sep={sep}{newline}{text}"
    return (codecs.BOM_UTF8 if bom else b"") + text.encode(encoding)


def read_plainly(path: Path) -> tuple[list[RawRow], list[int]]:
    with open_roster(path) as reader:
        return list(reader), list(reader.skipped_totals)


def read_in_chunks(path: Path, size: int) -> tuple[list[RawRow], list[int], int] | None:
    with open_roster(path) as reader:
        plan = plan_chunks(reader, size)
        if plan is None:
            return None
        chunks = list(plan)
    totals: list[int] = []
    rows = [raw for chunk in chunks for raw in chunk_rows(chunk, totals)]
    return rows, totals, len(chunks)


def assert_contract(path: Path, sizes: tuple[int, ...] = SIZES) -> list[RawRow]:
    expected, expected_totals = read_plainly(path)
    for size in sizes:
        got = read_in_chunks(path, size)
        assert got is not None, f"plan_chunks refused {path.name}"
        rows, totals, count = got
        # The chunk size rides along so a failure says which one broke.
        assert (size, rows) == (size, expected)
        assert (size, totals) == (size, expected_totals)
        if size == 1:  # the file really was cut: a record per chunk
            assert count >= len(expected) + len(expected_totals)
    return expected


VALID = [worker_row(i) for i in range(12)]
NAMED = [worker_row(i, name=n) for i, n in enumerate(["Siti; Aminah", 'Budi "Bud" S', "a,b"])]
MULTILINE = [
    worker_row(20, name="Siti\nAminah"),
    worker_row(21, name="Dua\r\nBaris; lagi"),
    worker_row(22, name='"Kutip"\n\n"lagi"'),
    [*worker_row(23)[:4], '""', "", ""],
]
QUOTED = [*NAMED, *MULTILINE, *VALID[:3]]
BLANKS = [[], ["   "], [" ", "", "\t"], [""], [";;"]]
TOTALS_MID = ["", "JUMLAH", "", "", "", "Rp 7.000.000", ""]
TOTALS_END = ["", "", "", "", "", "Total Rp 7.000.000", "tidak"]
NAME_HDR = [HEADER[0], "Nama\nLengkap", *HEADER[2:]]
NIK_HDR = ["No.\nKTP", *HEADER[1:]]
RENE = worker_row(1, name="Ren\xe9")
ASCII_BULK = [worker_row(i) for i in range(SAMPLE_BYTES // 60)]  # > 64 KiB of ASCII


def cp1252(records: list[list[str]]) -> bytes:
    return roster_bytes(records, encoding="cp1252")


CASES = {
    "semicolon": (lambda: roster_bytes([HEADER, *VALID])),
    "comma_lf": (lambda: roster_bytes([HEADER, *VALID], sep=",", newline="\n")),
    "quoted": (lambda: roster_bytes([HEADER, *QUOTED])),
    "quoted_comma_lf": (lambda: roster_bytes([HEADER, *QUOTED], sep=",", newline="\n")),
    "quoted_header": (lambda: roster_bytes([NAME_HDR, *VALID[:4], *MULTILINE])),
    "hint": (lambda: roster_bytes([HEADER, *VALID], hint=True)),
    "hint_quoted": (lambda: roster_bytes([HEADER, *QUOTED], hint=True)),
    "hint_comma": (lambda: roster_bytes([HEADER, *VALID], sep=",", hint=True)),
    "blanks": (lambda: roster_bytes([[], ["  "], HEADER, VALID[0], *BLANKS, *VALID[1:3], []])),
    "blanks_quoted": (lambda: roster_bytes([[], HEADER, *BLANKS, *QUOTED, *BLANKS])),
    "totals": (lambda: roster_bytes([HEADER, VALID[0], TOTALS_MID, *VALID[1:3], TOTALS_END])),
    "totals_quoted": (lambda: roster_bytes([HEADER, TOTALS_MID, *MULTILINE, TOTALS_END, []])),
    "no_final_newline": (lambda: roster_bytes([HEADER, *VALID], final_newline=False)),
    "no_final_newline_quoted": (lambda: roster_bytes([HEADER, *QUOTED], final_newline=False)),
    "bom": (lambda: roster_bytes([HEADER, *VALID, TOTALS_END], bom=True)),
    "bom_quoted": (lambda: roster_bytes([HEADER, *QUOTED], bom=True)),
    "bom_hint": (lambda: roster_bytes([HEADER, *QUOTED], bom=True, hint=True)),
    "bom_quoted_first_header": (lambda: roster_bytes([NIK_HDR, *QUOTED], sep=",", bom=True)),
    "cp1252": (lambda: cp1252([HEADER, RENE, *VALID])),
    "cp1252_quoted": (lambda: cp1252([HEADER, worker_row(2, name="Ren\xe9\n\xe9"), *QUOTED])),
    "utf8_non_ascii": (lambda: roster_bytes([HEADER, worker_row(1, name="Ren\xe9 \xe7"), *VALID])),
    "ascii_then_cp1252": (lambda: cp1252([HEADER, *ASCII_BULK, RENE, VALID[2]])),
    "ascii_then_cp1252_quoted": (lambda: cp1252([HEADER, *ASCII_BULK, RENE, *QUOTED])),
    "ascii_then_utf8": (lambda: roster_bytes([HEADER, *ASCII_BULK, RENE])),
    "header_only": (lambda: roster_bytes([HEADER])),
    "header_only_no_newline": (lambda: roster_bytes([HEADER], final_newline=False)),
    "header_then_blanks": (lambda: roster_bytes([HEADER, *BLANKS])),
    "quoted_header_only": (lambda: roster_bytes([NAME_HDR, []], hint=True)),
}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_chunks_give_the_readers_rows(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(CASES[name]())
    sizes = (1, 64, 4096, CHUNK_BYTES) if name.startswith("ascii_then") else SIZES
    assert_contract(path, sizes)


def test_a_multiline_record_is_one_row(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_bytes(roster_bytes([NAME_HDR, MULTILINE[0], [], MULTILINE[1], TOTALS_END, VALID[0]]))
    rows = assert_contract(path)
    assert [raw.row for raw in rows] == [2, 4, 6]
    assert rows[0].values["name"] == "Siti\nAminah"
    assert read_plainly(path)[1] == [5]


CELL = st.one_of(
    st.text(st.sampled_from(list('ab \xe9;,"\n\t')), max_size=6),
    st.sampled_from(["", " ", "JUMLAH", "Total 9", '"', "x\r\ny", "x\ry", "3171014508900001"]),
)


@settings(deadline=None, max_examples=100)
@given(
    rows=st.lists(st.lists(CELL, max_size=9), max_size=12),
    sep=st.sampled_from([";", ","]),
    newline=st.sampled_from(["\r\n", "\n"]),
    hint=st.booleans(),
    bom=st.booleans(),
    quoted_header=st.booleans(),
    final_newline=st.booleans(),
    size=st.integers(1, 300),
)
def test_chunks_give_the_readers_rows_for_any_cells(
    rows: list[list[str]],
    sep: str,
    newline: str,
    hint: bool,
    bom: bool,
    quoted_header: bool,
    final_newline: bool,
    size: int,
) -> None:
    header = list(HEADER)
    if quoted_header:  # line breaks in header cells; the first only where sniffing copes
        header[-1] = 'T\nM"T'
        if hint or sep == ",":
            header[0] = "No.\nKTP"
    data = roster_bytes(
        [header, *rows], sep=sep, newline=newline, hint=hint, bom=bom, final_newline=final_newline
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.csv"
        path.write_bytes(data)
        if read_in_chunks(path, size) is None:
            assert re.search(rb"\r(?!\n)", data), "plan_chunks refused a file it can cut"
        else:
            assert_contract(path, (size,))


def xlsx_path(tmp_path: Path) -> Path:
    book = Workbook()
    for row in [HEADER, *VALID[:3]]:
        book.active.append(row)
    book.save(tmp_path / "roster.xlsx")
    return tmp_path / "roster.xlsx"


@pytest.mark.parametrize("kind", ["bare_cr", "bare_cr_in_quotes", "utf16", "xlsx"])
def test_files_that_cannot_be_cut(tmp_path: Path, kind: str) -> None:
    if kind == "xlsx":
        path = xlsx_path(tmp_path)
    else:
        path = tmp_path / "roster.csv"
        if kind == "bare_cr":
            data = roster_bytes([HEADER, *VALID], newline="\r")
        elif kind == "bare_cr_in_quotes":
            data = roster_bytes([HEADER, worker_row(1, name="a\rb"), *VALID])
        else:
            data = codecs.BOM_UTF16_LE + roster_bytes([HEADER, *VALID]).decode().encode("utf-16-le")
        path.write_bytes(data)
    assert read_plainly(path)[0], "the ordinary reader still reads it"
    with open_roster(path) as reader:
        assert plan_chunks(reader) is None
        assert plan_chunks(reader, 7) is None


def test_a_reader_on_a_file_object_cannot_be_cut(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(roster_bytes([HEADER, *VALID]))
    with open(path, "rb") as fh, open_roster(fh) as reader:
        assert plan_chunks(reader) is None
    with open_roster(io.BytesIO(path.read_bytes())) as reader:
        assert plan_chunks(reader) is None


@pytest.mark.parametrize("quoted", [False, True])
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("size", [64, CHUNK_BYTES])
def test_a_bad_byte_after_a_strict_sample_is_undecodable(
    tmp_path: Path, quoted: bool, bom: bool, size: int
) -> None:
    rows = [HEADER, RENE, *ASCII_BULK, *(QUOTED if quoted else [])]
    path = tmp_path / "roster.csv"
    path.write_bytes(roster_bytes(rows, bom=bom) + b"3171014508900001;Ren\xe9;P\r\n")
    with pytest.raises(RosterFileError) as plain:
        read_plainly(path)
    assert plain.value.code == "undecodable"
    with pytest.raises(RosterFileError) as chunked:
        read_in_chunks(path, size)
    assert chunked.value.code == "undecodable"


@pytest.mark.parametrize("size", [1, 300, CHUNK_BYTES])
def test_a_quote_never_closed_is_malformed_in_chunks_too(tmp_path: Path, size: int) -> None:
    """The planner reads a quoted record with the csv module too: a quote left open near the
    end ran to the end of the file as one record, and its rows were lost."""
    path = tmp_path / "roster.csv"
    open_quote = [*worker_row(30)[:1], '"Budi', *worker_row(30)[2:]]
    after = roster_bytes([worker_row(31), worker_row(32)])
    path.write_bytes(
        roster_bytes([HEADER, *VALID]) + ";".join(open_quote).encode() + b"\r\n" + after
    )
    for read in (read_plainly, lambda p: read_in_chunks(p, size)):
        with pytest.raises(RosterFileError) as caught:
            read(path)
        assert caught.value.code == "malformed_csv"
        assert f"row {len(VALID) + 2}" in caught.value.message_en
