"""`jamsos plugin new NAME --kind soap|csv`: a plugin package that installs and passes its
contract tests as generated, for an engineer to adapt to the agency's real feed.

    plugins/<name>/
      pyproject.toml            entry point jamsos_gateway: <name> = "jamsos_<name>"
      jamsos_<name>/__init__.py the source class and its hooks
      jamsos_<name>/service.wsdl              (soap) the WSDL to replace with the agency's
      jamsos_<name>/samples/...  sample input: a roster file (csv) or recorded pages (soap)
      tests/test_<name>_contract.py           gateway.testing.SourceContract

`incremental` says whether the agency's feed can send changes only: a SOAP service that
answers "changed since" (the source then declares `incremental = True` and a
`cursor_after()`), a CSV export that lists only the changed workers (`snapshot = False`).
Without it every sync is a full snapshot that ends the workers no longer listed, which is
what a service with no "changed since" needs.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from importlib.resources import files
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.domain.nik import make_nik
from gateway.domain.records import Gender

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
_SAMPLE_SERVER_TIME = "2025-06-01T02:00:00+07:00"


class ScaffoldError(Exception):
    """The plugin cannot be created as asked; the message says why (both languages)."""


def _template(name: str) -> Template:
    return Template((files("gateway.sources") / "templates" / name).read_text(encoding="utf-8"))


def _sample_workers(agency_region: str) -> list[dict[str, str]]:
    rows = []
    for i in range(12):
        gender = Gender.FEMALE if i % 3 == 0 else Gender.MALE
        born = date(1980 + i, 1 + i % 12, 5 + i)
        rows.append(
            {
                "nik": make_nik(agency_region, born, gender, serial=10 + i),
                "name": f"Pegawai Contoh {i + 1}",
                "birth_date": born.strftime("%d-%m-%Y"),
                "gender": gender.value,
                "work_unit": "Sekretariat",
                "position": "Pramubakti",
                "wage": f"{3_000_000 + 50_000 * i}",
                "start_date": "01-01-2025",
            }
        )
    rows[4]["wage"] = "-"  # a realistic mistake: the contract kit checks it is reported
    return rows


_CURSOR_REQUEST = """\
        if cursor is not None:  # the saved cursor: ask for the changes since then
            args["changedSince"] = datetime.fromisoformat(cursor)
"""
_CURSOR_AFTER = """
    def cursor_after(self, first_response: Any, cursor: str | None) -> str | None:
        # The server's clock when it answered page 1: next time, ask for changes since then.
        return first_response.serverTime.isoformat()
"""


def _kind_values(kind: str, incremental: bool) -> dict[str, str]:
    """The template text that differs between a full-snapshot and an incremental feed."""
    if kind == "csv":
        line = (
            "    snapshot = False  # the file lists only changed workers: nobody is ended"
            if incremental
            else "    snapshot = True  # the file lists every worker: those missing are ended"
        )
        return {"snapshot_line": line}
    if incremental:
        return {
            "datetime_import": "\nfrom datetime import datetime",
            "incremental_line": "    incremental = True  # the service answers 'changed since'",
            "cursor_request": _CURSOR_REQUEST,
            "cursor_after": _CURSOR_AFTER,
        }
    return {
        "datetime_import": "",
        "incremental_line": (
            "    # No 'changed since' in the service: every sync fetches it whole. If it has\n"
            "    # one, run `jamsos plugin new` with --incremental to see the cursor methods.\n"
            "    incremental = False"
        ),
        "cursor_request": "",
        "cursor_after": "",
    }


def scaffold(
    name: str, *, kind: str, agency: str | None, directory: Path, incremental: bool = False
) -> Path:
    """Create the package folder `directory/name`; return it."""
    if not _NAME.match(name):
        raise ScaffoldError(
            f"nama plugin harus huruf kecil, angka, garis bawah / plugin name must be lower-case "
            f"letters, digits and underscores: {name!r}"
        )
    if kind not in ("soap", "csv"):
        raise ScaffoldError(f"kind must be soap or csv, not {kind!r}")
    try:
        resolved = resolve_agency(agency or name)
    except UnknownAgency as exc:
        raise ScaffoldError(f"{exc.message_id} / {exc} (use --agency)") from exc
    target = directory / name
    if target.exists():
        raise ScaffoldError(f"{target} sudah ada / already exists")
    package = f"jamsos_{name}"
    cls = "".join(part.capitalize() for part in name.split("_")) + "Roster"
    values = {
        "name": name,
        "package": package,
        "cls": cls,
        "source_id": f"{name.replace('_', '-')}-roster",
        "agency": resolved.code,
        "title": f"{resolved.name}: roster ({kind.upper()})",
        "env_name": name.upper(),
        "extra_deps": ', "zeep>=4.2,<5"' if kind == "soap" else "",
        **_kind_values(kind, incremental),
    }
    pkg = target / package
    (pkg / "samples").mkdir(parents=True)
    (target / "tests").mkdir()
    (target / "pyproject.toml").write_text(_template("pyproject.toml.tmpl").substitute(values))
    (target / "tests" / f"test_{name}_contract.py").write_text(
        _template("test_contract.py.tmpl").substitute(values)
    )
    (pkg / "__init__.py").write_text(_template(f"{kind}_init.py.tmpl").substitute(values))
    # A region code for the sample NIKs: the agency's own, or Jakarta for a ministry.
    region = resolved.code if "." in resolved.code else "31.74"
    workers = _sample_workers(region)
    if kind == "csv":
        _write_csv_sample(pkg / "samples" / "roster.csv", workers)
    else:
        wsdl = (files("gateway.sources") / "templates" / "service.wsdl").read_bytes()
        (pkg / "service.wsdl").write_bytes(wsdl)
        half = len(workers) // 2
        for page, chunk in ((1, workers[:half]), (2, workers[half:])):
            (pkg / "samples" / f"ListWorkers-page{page}.xml").write_text(
                _soap_page(page, 2, chunk), encoding="utf-8"
            )
    return target


def _write_csv_sample(path: Path, workers: list[dict[str, str]]) -> None:
    header = {
        "nik": "NIK Pegawai",
        "name": "Nama Pegawai",
        "gender": "Jenis Kelamin",
        "birth_date": "Tanggal Lahir",
        "position": "Jabatan",
        "work_unit": "Unit Kerja",
        "wage": "Honor per Bulan",
        "start_date": "TMT",
    }
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(header.values())
        for w in workers:
            writer.writerow(w[field] for field in header)


def _soap_page(page: int, pages: int, workers: list[dict[str, str]]) -> str:
    elements = {
        "nik": "nik",
        "name": "name",
        "birth_date": "birthDate",
        "gender": "gender",
        "work_unit": "workUnit",
        "position": "position",
        "wage": "wage",
        "start_date": "startDate",
    }
    items = "".join(
        "<worker>"
        + "".join(f"<{el}>{escape(w[field])}</{el}>" for field, el in elements.items())
        + "</worker>\n"
        for w in workers
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>\n'
        '<ListWorkersResponse xmlns="urn:jamsos:plugin:workers:v1">\n'
        f"<serverTime>{_SAMPLE_SERVER_TIME}</serverTime><page>{page}</page>"
        f"<pageCount>{pages}</pageCount>\n{items}"
        "</ListWorkersResponse></soap:Body></soap:Envelope>\n"
    )
