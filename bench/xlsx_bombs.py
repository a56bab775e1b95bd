"""XLSX bombs: peak memory and time of reading hostile workbooks through the gateway's reader.

    .venv/bin/python bench/xlsx_bombs.py                  # every case, in a temporary folder
    .venv/bin/python bench/xlsx_bombs.py --only inline_string tiny_rows
    .venv/bin/python bench/xlsx_bombs.py --tree /tmp/old   # the reader of another checkout

Each case is built in one child process, then read in another with `open_roster` to the last
row, as a run would; the reading child reports its peak resident set (`resource.getrusage`,
ru_maxrss), the time, the rows read and the file error it raised, if any. The cases are issue
16's finding 5, plus a normal roster:

  shared_strings    20 million tiny shared strings (~1.3 MB file; openpyxl took 2.5 GB)
  many_strings      4.5 million tiny shared strings, under the part's size cap
  inline_string     one inline string of 400 MiB in one text node (~0.4 MB file)
  inline_runs       one inline string of 400 rich-text runs of 1 MiB (openpyxl took 919 MB)
  tiny_rows         10.3 million rows of one tiny cell (~0.5 MB file; 1.0 GB and 255 s)
  many_parts        600,000 empty parts beside the workbook (zipfile holds each entry)
  normal_100k       a roster of 100,000 workers as openpyxl writes it (shared strings)

It prints numbers; it never asserts on them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
HEADER = ("NIK", "Nama Lengkap", "Jenis Kelamin", "Tanggal Lahir", "Jabatan", "Gaji", "TMT")


def workbook(path: Path, sheet: Iterator[bytes], strings: Iterator[bytes] | None = None) -> Path:
    """A minimal workbook whose sheet1.xml (and sharedStrings.xml) are the given byte
    streams, deflated at level 9 as a bomb maker would."""
    # The parts openpyxl needs as well, so `--tree` can measure a reader built on it.
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
        "</Types>"
    )
    package = (
        f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    rels = (
        f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        f'Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    )
    book = (
        f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        f'<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", package)
        archive.writestr("xl/workbook.xml", book)
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        empty = iter([f'<?xml version="1.0"?><sst xmlns="{MAIN}"/>'.encode()])
        parts = [("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", strings or empty)]
        for name, chunks in parts:
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
    return path


def _header_sheet(extra: Iterator[bytes] | None = None) -> Iterator[bytes]:
    cells = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in HEADER)
    yield f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>'.encode()
    yield f'<row r="1">{cells}</row>'.encode()
    yield from extra or ()
    yield b"</sheetData></worksheet>"


def _strings(count: int) -> Iterator[bytes]:
    yield f'<?xml version="1.0"?><sst xmlns="{MAIN}">'.encode()
    block = 100_000
    for start in range(0, count, block):
        yield "".join(f"<si><t>{i % 997}</t></si>" for i in range(start, start + block)).encode()
    yield b"</sst>"


def shared_strings(path: Path) -> Path:
    return workbook(path, _header_sheet(), _strings(20_000_000))


def many_strings(path: Path) -> Path:
    return workbook(path, _header_sheet(), _strings(4_500_000))


def inline_string(path: Path) -> Path:
    def cell() -> Iterator[bytes]:
        yield b'<row r="2"><c t="inlineStr"><is><t>'
        chunk = b"A" * 2**20
        for _ in range(400):
            yield chunk
        yield b"</t></is></c></row>"

    return workbook(path, _header_sheet(cell()))


def inline_runs(path: Path) -> Path:
    def cell() -> Iterator[bytes]:
        yield b'<row r="2"><c t="inlineStr"><is>'
        run = b"<r><t>" + b"A" * 2**20 + b"</t></r>"  # each text node under libxml2's 10 MB
        for _ in range(400):
            yield run
        yield b"</is></c></row>"

    return workbook(path, _header_sheet(cell()))


def tiny_rows(path: Path) -> Path:
    def rows() -> Iterator[bytes]:
        block = 100_000
        for start in range(2, 10_300_000, block):
            stop = min(start + block, 10_300_000)
            yield b"<row><c><v>1</v></c></row>" * (stop - start)  # no r=: numbered in turn

    return workbook(path, _header_sheet(rows()))


def many_parts(path: Path) -> Path:
    workbook(path, _header_sheet())
    with zipfile.ZipFile(path, "a") as archive:
        for i in range(600_000):  # ~52 MB, under the upload limit
            archive.writestr(f"x/{i}", b"")
    return path


def normal_100k(path: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from openpyxl import Workbook

    from tests.helpers.roster import worker_row

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    sheet.append(list(HEADER))
    for i in range(100_000):
        row = worker_row(i % 9_000)
        row[0] = f"{row[0][:12]}{i % 10_000:04d}"  # distinct enough; validity is not read here
        sheet.append(row)
    book.save(path)
    return path


CASES: dict[str, Callable[[Path], Path]] = {
    "shared_strings": shared_strings,
    "many_strings": many_strings,
    "inline_string": inline_string,
    "inline_runs": inline_runs,
    "tiny_rows": tiny_rows,
    "many_parts": many_parts,
    "normal_100k": normal_100k,
}


def read_one(path: str) -> None:
    """In the child: read the file through the gateway's reader; print a JSON line."""
    from gateway.roster.read.reader import RosterFileError, open_roster

    started = time.perf_counter()
    rows, code = 0, None
    try:
        with open_roster(path) as reader:
            for _ in reader:
                rows += 1
    except RosterFileError as exc:
        code = exc.code
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "error": code, "peak_mb": round(peak, 1),
                      "seconds": round(time.perf_counter() - started, 2)}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--tree", default=str(ROOT), help="the checkout whose reader is read")
    parser.add_argument("--read", help=argparse.SUPPRESS)  # the reading child's side
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)  # the building child's
    args = parser.parse_args()
    if args.read:
        read_one(args.read)
        return
    if args.build:
        CASES[args.build[0]](Path(args.build[1]))
        return
    env = {**os.environ, "PYTHONPATH": args.tree}
    print(f"{'case':<16}{'file MB':>9}{'peak MB':>9}{'seconds':>9}{'rows':>10}  error")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only:
            # Built in a child of its own: a child's ru_maxrss starts from its parent's peak
            # (Linux keeps it across fork and exec), so this process must stay small.
            path = Path(folder) / f"{name}.xlsx"
            subprocess.run([sys.executable, __file__, "--build", name, str(path)], check=True)
            done = subprocess.run(
                [sys.executable, __file__, "--read", str(path)], env=env, cwd=args.tree,
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                print(f"{name:<16} child failed ({done.returncode}): {done.stderr[-300:]}")
                continue
            r = json.loads(done.stdout.splitlines()[-1])
            size = path.stat().st_size / 2**20
            print(f"{name:<16}{size:>9.2f}{r['peak_mb']:>9.1f}{r['seconds']:>9.2f}"
                  f"{r['rows']:>10}  {r['error'] or '-'}")  # fmt: skip
            path.unlink()


if __name__ == "__main__":
    main()
