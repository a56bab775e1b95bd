"""XLSX bombs are refused as `xlsx_too_large`, never read into memory (issue 16, finding 5).

Before, openpyxl read them: a 1.27 MB workbook of tiny shared strings took 2.5 GB, one 400 MiB
inline string 919 MB, 10.3 million tiny rows 1.0 GB and 255 s. These are smaller versions of
each; where building the real size is cheap (a part's declared size, Excel's row and cell
limits, libxml2's text limit) the real limit is crossed. Memory and time are measured by
bench/xlsx_bombs.py, never asserted here.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest

from gateway.domain.agencies import resolve_agency
from gateway.roster.read import xlsx_parts
from gateway.roster.read.reader import RosterFileError, open_roster
from gateway.roster.submit import submit_roster
from tests.helpers.roster import HEADER, worker_row

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _inline(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def _row(number: int, cells: Iterable[str]) -> bytes:
    return f'<row r="{number}">{"".join(cells)}</row>'.encode()


def _book(path: Path, rows: Iterable[bytes], strings: Iterable[bytes] | None = None) -> Path:
    """A minimal workbook: one sheet of `rows` (after a roster header), maybe shared strings."""
    rels = (f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" '
            f'Target="worksheets/sheet1.xml"/></Relationships>')  # fmt: skip
    book = (f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            f'<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>')  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("xl/workbook.xml", book)
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            sheet.write(_row(1, map(_inline, HEADER)))
            for row in rows:
                sheet.write(row)
            sheet.write(b"</sheetData></worksheet>")
        if strings is not None:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                part.write(f'<sst xmlns="{MAIN}">'.encode())
                for chunk in strings:
                    part.write(chunk)
                part.write(b"</sst>")
    return path


def _tiny_strings(count: int) -> Iterable[bytes]:
    for start in range(0, count, 10_000):
        yield "".join(f"<si><t>{i % 97}</t></si>" for i in range(start, start + 10_000)).encode()


def _refusal(path: Path) -> str:
    with pytest.raises(RosterFileError) as caught, open_roster(path) as reader:
        for _ in reader:
            pass
    return caught.value.code


def test_shared_strings_past_the_part_limit_are_refused_before_parsing(tmp_path: Path) -> None:
    # The 1.27 MB bomb's shape: a shared-string part of hundreds of MB of tiny strings.
    filler = b"<si><t>a</t></si>" * 2**16  # ~1.1 MB a chunk
    count = xlsx_parts.MAX_SHARED_STRINGS_BYTES // len(filler) + 1
    path = _book(tmp_path / "strings.xlsx", [], (filler for _ in range(count)))
    assert path.stat().st_size < 64 * 2**20  # under the upload limit
    assert _refusal(path) == "xlsx_too_large"


@pytest.mark.parametrize(
    ("limit", "value"), [("MAX_SHARED_STRINGS", 20_000), ("MAX_SHARED_TEXT_BYTES", 30_000)]
)
def test_too_many_shared_strings_or_too_much_of_their_text_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str, value: int
) -> None:
    # The real limits (4 million strings, 128 MiB) would take this test a minute to reach.
    monkeypatch.setattr(xlsx_parts, limit, value)
    path = _book(tmp_path / "strings.xlsx", [], _tiny_strings(50_000))
    assert _refusal(path) == "xlsx_too_large"


def test_one_huge_inline_string_is_refused(tmp_path: Path) -> None:
    # libxml2 (no huge_tree) stops a text node at 10 MB: the 400 MiB bomb never gets built.
    path = _book(tmp_path / "inline.xlsx", [_row(2, [_inline("A" * 12_000_000)])])
    assert _refusal(path) == "xlsx_too_large"


@pytest.mark.parametrize("where", ["inline", "shared"])
def test_a_string_of_many_runs_each_under_the_text_limit_is_refused(
    tmp_path: Path, where: str
) -> None:
    # Each run's text node is under libxml2's 10 MB: only counting them as they end stops it.
    runs = "".join(f"<r><t>{'A' * 1_000_000}</t></r>" for _ in range(12))
    if where == "inline":
        cell = f'<c t="inlineStr"><is>{runs}</is></c>'
        path = _book(tmp_path / "runs.xlsx", [_row(2, [cell])])
    else:
        cell = '<c t="s"><v>0</v></c>'
        path = _book(tmp_path / "runs.xlsx", [_row(2, [cell])], [f"<si>{runs}</si>".encode()])
    assert _refusal(path) == "xlsx_too_large"


@pytest.mark.parametrize("where", ["cell", "shared"])
def test_a_cell_of_countless_elements_is_refused(tmp_path: Path, where: str) -> None:
    junk = "<x/>" * (xlsx_parts.MAX_CELL_ELEMENTS + 1)
    if where == "cell":
        path = _book(tmp_path / "junk.xlsx", [_row(2, [f"<c><v>1</v>{junk}</c>"])])
    else:
        cell = '<c t="s"><v>0</v></c>'
        strings = [f"<si><t>a</t>{junk}</si>".encode()]
        path = _book(tmp_path / "junk.xlsx", [_row(2, [cell])], strings)
    assert _refusal(path) == "xlsx_too_large"


@pytest.mark.parametrize("where", ["inline", "shared"])
def test_a_cell_longer_than_excel_allows_is_refused(tmp_path: Path, where: str) -> None:
    text = "A" * (xlsx_parts.MAX_CELL_CHARS + 1)
    if where == "inline":
        path = _book(tmp_path / "cell.xlsx", [_row(2, [_inline(text)])])
    else:
        cell = '<c t="s"><v>0</v></c>'
        path = _book(
            tmp_path / "cell.xlsx", [_row(2, [cell])], [f"<si><t>{text}</t></si>".encode()]
        )
    assert _refusal(path) == "xlsx_too_large"


def test_a_cell_as_long_as_excel_allows_is_read(tmp_path: Path) -> None:
    row = worker_row(1)
    row[1] = "N" * xlsx_parts.MAX_CELL_CHARS
    path = _book(tmp_path / "long.xlsx", [_row(2, map(_inline, row))])
    with open_roster(path) as reader:
        assert [len(r.values["name"] or "") for r in reader] == [xlsx_parts.MAX_CELL_CHARS]


def test_a_row_of_many_long_cells_is_refused(tmp_path: Path) -> None:
    # Every cell the same shared string of 30,000 characters: each read is a new string.
    cells = ['<c t="s"><v>0</v></c>'] * (xlsx_parts.MAX_ROW_CHARS // 30_000 + 1)
    strings = [f"<si><t>{'A' * 30_000}</t></si>".encode()]
    assert _refusal(_book(tmp_path / "row.xlsx", [_row(2, cells)], strings)) == "xlsx_too_large"


def test_rows_past_excels_last_row_are_refused(tmp_path: Path) -> None:
    # 10.3 million tiny rows: refused at row 1,048,577 instead of read to the end.
    rows = [_row(2, map(_inline, worker_row(1))), _row(xlsx_parts.MAX_ROWS + 1, [_inline("1")])]
    assert _refusal(_book(tmp_path / "rows.xlsx", rows)) == "xlsx_too_large"
    last = [_row(xlsx_parts.MAX_ROWS, map(_inline, worker_row(1)))]
    with open_roster(_book(tmp_path / "last.xlsx", last)) as reader:
        assert [r.row for r in reader] == [xlsx_parts.MAX_ROWS]


def test_a_row_of_a_hundred_thousand_cells_is_read_one_cell_at_a_time(tmp_path: Path) -> None:
    wide = _row(2, [*map(_inline, worker_row(1)), *(["<c><v>1</v></c>"] * 100_000)])
    with open_roster(_book(tmp_path / "wide.xlsx", [wide])) as reader:
        rows = list(reader)
    assert rows[0].values["nik"] == worker_row(1)[0]


def test_a_bomb_submitted_is_a_rejected_run_with_nothing_applied(gw, tmp_path: Path) -> None:
    rows = [_row(2, map(_inline, worker_row(1))), _row(3, [_inline("A" * 12_000_000)])]
    report = submit_roster(
        gw.registry, _book(tmp_path / "bomb.xlsx", rows), agency=resolve_agency("15.05"),
        today=date(2026, 11, 21), trigger="test", batch_size=gw.config["BATCH_SIZE"],
    )  # fmt: skip
    assert report.status == "rejected"
    assert [p["code"] for p in report.problems] == ["xlsx_too_large"]
    assert "CSV" in report.problems[0]["message_id"] and "CSV" in report.problems[0]["message_en"]
    assert gw.registry.find_worker(worker_row(1)[0]) is None


def test_a_zip_of_a_million_tiny_parts_is_refused_before_it_is_listed(tmp_path: Path) -> None:
    # zipfile holds ~500 bytes per entry: 64 MB of tiny entries would take gigabytes.
    path = _book(tmp_path / "parts.xlsx", [_row(2, map(_inline, worker_row(1)))])
    with zipfile.ZipFile(path, "a") as archive:
        for i in range(xlsx_parts.MAX_DIRECTORY_BYTES // 46):  # 46 bytes and a name each
            archive.writestr(f"x/{i}", b"")
    assert _refusal(path) == "xlsx_too_large"
