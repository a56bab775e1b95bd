"""What a feed's runs record (issue 21): the page and HTTP status of a failed page, a receipt
stating the digest of the rows fetched, status flags ending those who left, and problems
kept once when an unchanged feed is synced again. Real SOAP and HTTP servers on loopback."""

from __future__ import annotations

import hashlib
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from jamsos_kemenkes.server import SimpegServer, demo_employees
from sqlalchemy import func, select

from gateway import CsvSource, StatusFlag
from gateway.roster.sync import sync_source
from gateway.security.receipts import verify
from gateway.sources.loader import make_plugin_manager
from gateway.sources.spool import canonical_row
from gateway.store import dashboard
from gateway.store.tables import problems
from tests.integration.test_sync_kemenkes import make_source

TODAY = date(2025, 6, 2)


@pytest.fixture
def server():
    with SimpegServer(demo_employees(120, seed=5, error_rate=0.1)) as srv:
        srv.state.timeout_seconds = 1.5
        yield srv


@pytest.fixture
def pm():
    return make_plugin_manager(allow=["kemenkes"])


@pytest.fixture(autouse=True)
def _restore_page_size():
    from jamsos_kemenkes import KemenkesPPNPN

    size = KemenkesPPNPN.page_size
    yield
    KemenkesPPNPN.page_size = size


def full_sync(gw, pm, server, monkeypatch, **settings):
    source = make_source(pm, server, monkeypatch, **settings)
    return sync_source(gw.registry, pm, source, today=TODAY, trigger="test", full=True)


# -- a failed page ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "says"),
    [
        # A 5xx whose body is no SOAP (a proxy's error page): retried, then failed.
        ("http500", "page 3 failed (HTTP 500; 2 kali dicoba / tried 2 times)"),
        # SOAP 1.1 sends its Fault with HTTP 500: the service's answer, asked once.
        ("soap_fault", "page 3 failed (HTTP 500; SOAP Fault, tidak diulang / not retried)"),
        ("timeout", "page 3 failed (tanpa jawaban HTTP / no HTTP answer; 2 kali dicoba / "
                    "tried 2 times)"),
    ],
)
def test_a_failed_page_is_named_with_its_http_status(gw, pm, server, monkeypatch, kind, says):
    server.fail(page=3, kind=kind)
    result = full_sync(gw, pm, server, monkeypatch, retries=1)
    assert result.status == "failed"
    error = gw.registry.get_run(result.run_id)["error"]
    assert says in error, error
    asked = [r["page"] for r in server.requests].count(3)
    assert asked == (1 if kind == "soap_fault" else 2)


# -- the receipt of a feed -----------------------------------------------------------------------
def test_a_soap_feeds_receipt_states_the_digest_of_the_rows_fetched(gw, pm, server, monkeypatch):
    first = full_sync(gw, pm, server, monkeypatch)
    assert first.status == "succeeded", first.report.as_dict()
    receipt = first.report.receipt
    assert receipt["input_sha256"] and len(receipt["input_sha256"]) == 64
    assert gw.registry.get_run(first.run_id)["input_sha256"] == receipt["input_sha256"]
    assert verify(receipt, gw.signer.public).genuine

    # The digest is of the rows, not of the XML: the same data fetched again states it again.
    again = full_sync(gw, pm, server, monkeypatch)
    assert again.report.receipt["input_sha256"] == receipt["input_sha256"]

    # One wage changed at the agency: another digest.
    nik = sorted(server.state.employees)[7]
    server.update(nik, honorarium="5123000")
    changed = full_sync(gw, pm, server, monkeypatch)
    assert changed.status == "succeeded"
    assert changed.report.receipt["input_sha256"] != receipt["input_sha256"]

    # A tampered digest no longer verifies.
    forged = dict(receipt, input_sha256=changed.report.receipt["input_sha256"])
    assert not verify(forged, gw.signer.public).genuine


def test_the_digest_is_sha256_of_the_canonical_rows_in_order():
    """docs/writing-a-plugin.md documents this form so an agency can recompute it."""
    from gateway.domain.records import RawRow

    rows = [RawRow(row=1, values={"nik": "3174011708900001", "name": "Siti"}),
            RawRow(row=2, values={"name": "Ahmad", "nik": "3174011708900002"})]  # fmt: skip
    text = ('[1,{"name":"Siti","nik":"3174011708900001"}]\n'
            '[2,{"name":"Ahmad","nik":"3174011708900002"}]\n')  # fmt: skip
    from gateway.sources.spool import Spool

    spool = Spool()
    for raw in rows:
        spool.append(raw)
    spool.close()
    assert b"".join(canonical_row(r) for r in rows) == text.encode()
    assert spool.sha256 == hashlib.sha256(text.encode()).hexdigest()


class _Files(BaseHTTPRequestHandler):
    body = b""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


class FlaggedRoster(CsvSource):
    __test__ = False
    id = "flagged-roster"
    agency = "15.05"
    aliases = {"status": ("Status Pegawai",)}  # noqa: RUF012
    status = StatusFlag("status", left=("NONAKTIF", "0"), active=("AKTIF", "1"))


def roster_csv(statuses: list[str]) -> bytes:
    from gateway.domain.nik import make_nik
    from gateway.domain.records import Gender

    lines = ["NIK;Nama;Jenis Kelamin;Tanggal Lahir;Jabatan;Honor;TMT;Status Pegawai"]
    for i, status in enumerate(statuses):
        born = date(1985, 1 + i, 10)
        nik = make_nik("15.05", born, Gender.MALE, serial=20 + i)
        lines.append(f"{nik};Pegawai {i};L;{born:%d-%m-%Y};Pramubakti;3000000;01-01-2024;{status}")
    return ("\r\n".join(lines) + "\r\n").encode()


def sync_csv(gw, url_or_path: dict, pm):
    source = FlaggedRoster(url_or_path)
    return sync_source(gw.registry, pm, source, today=TODAY, trigger="test")


def test_a_downloaded_csv_receipt_states_the_files_sha256(gw, tmp_path, monkeypatch):
    monkeypatch.setenv("JAMSOS_ENDING_CONFIRM_SHARE", "1")
    data = roster_csv(["AKTIF"] * 5)
    handler = type("Files", (_Files,), {"body": data})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/roster.csv"
        result = sync_csv(gw, {"url": url}, make_plugin_manager(allow=[]))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.status == "succeeded", result.report.as_dict()
    assert result.report.receipt["input_sha256"] == hashlib.sha256(data).hexdigest()


# -- status flags ------------------------------------------------------------------------------
def test_a_status_flag_ends_those_who_left_and_warns_of_an_unknown_value(gw, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("JAMSOS_ENDING_CONFIRM_SHARE", "1")
    path = tmp_path / "roster.csv"
    pm = make_plugin_manager(allow=[])
    path.write_bytes(roster_csv(["AKTIF", "1", "AKTIF", "aktif ", "AKTIF"]))
    first = sync_csv(gw, {"path": str(path)}, pm)
    assert first.status == "succeeded", first.report.error
    assert first.report.changes["new"] == 5
    # Two left (NONAKTIF, 0), one with a status nobody declared (CUTI): kept, with a warning.
    path.write_bytes(roster_csv(["AKTIF", "NONAKTIF", "0", "CUTI", "AKTIF"]))
    second = sync_csv(gw, {"path": str(path)}, pm)
    assert second.status == "succeeded", second.report.error
    assert second.report.changes["ended"] == 2
    assert gw.registry.count_active("15.05") == 3
    said = [p["message_en"] for p in second.report.problems]
    assert sum("status NONAKTIF (the worker left" in m or "status 0 (the worker left" in m
               for m in said) == 2  # fmt: skip
    assert any("Status 'CUTI' in field status is unknown" in m for m in said), said


def test_kemenkes_ends_a_nonaktif_worker_in_a_full_sync(gw, pm, server, monkeypatch):
    assert full_sync(gw, pm, server, monkeypatch).status == "succeeded"
    active = gw.registry.count_active("kemenkes")
    nik = next(n for n, e in sorted(server.state.employees.items())
               if gw.registry.find_worker(n))  # fmt: skip
    server.update(nik, status="NONAKTIF")
    result = full_sync(gw, pm, server, monkeypatch)
    assert result.status == "succeeded"
    assert result.report.changes["ended"] == 1
    assert gw.registry.count_active("kemenkes") == active - 1
    assert any("status NONAKTIF" in p["message_id"] for p in result.report.problems)


# -- problems kept once --------------------------------------------------------------------------
def problem_rows(gw) -> int:
    with gw.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(problems)).scalar_one()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_unchanged_resyncs_keep_their_problems_once(gw, pm, server, monkeypatch, backend):
    runs = [full_sync(gw, pm, server, monkeypatch) for _ in range(3)]
    assert all(r.status == "succeeded" for r in runs)
    first, *later = runs
    stored = problem_rows(gw)
    assert stored == len(gw.registry.run_problems(first.run_id)) > 0
    # Each later run still shows them: in its report, the dashboard's pages and counts.
    for run in later:
        assert run.report.warnings == first.report.warnings
        assert gw.registry.run_problems(run.run_id) == gw.registry.run_problems(first.run_id)
        page = dashboard.problem_page(gw.engine, run.run_id, {}, None, 1000)
        assert len(page) == stored
        assert dashboard.problem_counts(gw.engine, run.run_id) == dashboard.problem_counts(
            gw.engine, first.run_id)

    # The data changed: that run's problems are its own.
    nik = sorted(server.state.employees)[3]
    server.update(nik, tanggalLahir="31-02-1991")
    changed = full_sync(gw, pm, server, monkeypatch)
    assert changed.status == "succeeded"
    mine = gw.registry.run_problems(changed.run_id)
    assert mine != gw.registry.run_problems(first.run_id)
    assert problem_rows(gw) == stored + len(mine)


def test_the_migration_adds_the_column_to_an_older_registry(tmp_path):
    """0017 on a registry at 0016 (the column created by 0001 from the live metadata on a
    new one): upgrade, downgrade keeping a shared run's problems, upgrade again."""
    from alembic import command
    from sqlalchemy import insert, inspect, update

    from gateway.store import db
    from gateway.store.tables import runs

    engine = db.make_engine(f"sqlite:///{Path(tmp_path) / 'r.db'}")
    db.upgrade(engine)
    config = db._alembic_config()
    with engine.begin() as conn:
        ids = [conn.execute(insert(runs).values(agency="x", source="s", trigger="t",
                                                status="succeeded", started_at=func.now())
                            .returning(runs.c.id)).scalar_one() for _ in range(2)]  # fmt: skip
        conn.execute(insert(problems).values(run_id=ids[0], row=2, code="c", severity="error",
                                             message_id="i", message_en="e"))  # fmt: skip
        conn.execute(update(runs).where(runs.c.id == ids[1]).values(problems_run_id=ids[0]))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0016")
    assert "problems_run_id" not in {c["name"] for c in inspect(engine).get_columns("runs")}
    with engine.connect() as conn:
        held = conn.execute(select(problems.c.run_id).order_by(problems.c.run_id)).scalars()
        assert list(held) == ids
    db.upgrade(engine)
    assert "problems_run_id" in {c["name"] for c in inspect(engine).get_columns("runs")}


def test_a_cursor_without_incremental_is_a_full_snapshot_every_sync(gw, pm, server, monkeypatch,
                                                                    caplog):
    """A plugin written before `incremental` (a `cursor_after()` alone) is synced in full
    every time, with a warning: it ends those who left instead of nobody."""
    from jamsos_kemenkes import KemenkesPPNPN

    monkeypatch.setattr(KemenkesPPNPN, "incremental", False)
    first = full_sync(gw, pm, server, monkeypatch)
    assert first.status == "succeeded"
    assert gw.registry.get_cursor("kemenkes-ppnpn") is None
    assert "defines cursor_after() but not incremental = True" in caplog.text
    nik = next(n for n in sorted(server.state.employees) if gw.registry.find_worker(n))
    del server.state.employees[nik]
    source = make_source(pm, server, monkeypatch)
    later = sync_source(gw.registry, pm, source, today=TODAY, trigger="test")  # not --full
    assert gw.registry.get_run(later.run_id)["mode"] == "snapshot"
    assert later.report.changes["ended"] == 1


def test_a_feed_rejected_again_keeps_its_problems_once(gw, pm, monkeypatch):
    """Every row wrong (a typo in each): rejected, and the same again the next day."""
    with SimpegServer(demo_employees(40, seed=9, error_rate=1.0)) as bad:
        runs = [full_sync(gw, pm, bad, monkeypatch) for _ in range(3)]
    assert [r.status for r in runs] == ["rejected"] * 3
    first = gw.registry.run_problems(runs[0].run_id)
    assert problem_rows(gw) == len(first) >= 40
    assert all(gw.registry.run_problems(r.run_id) == first for r in runs[1:])


def test_every_field_of_sync_json_is_documented(gw, pm, server, monkeypatch):
    """docs/writing-a-plugin.md, "`jamsos sync --json`", names every field it prints."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "writing-a-plugin.md").read_text()
    section = doc[doc.index("### `jamsos sync --json`"):]
    section = section[: section.index("\n## ")]
    printed = full_sync(gw, pm, server, monkeypatch).as_dict()
    server.fail(page=2, kind="soap_fault")
    printed_failed = full_sync(gw, pm, server, monkeypatch).as_dict()
    fields = set(printed) | set(printed["report"]) | set(printed_failed["report"])
    fields |= set(printed["stats"]) | set(printed["report"]["changes"])
    missing = sorted(f for f in fields if f"`{f}`" not in section)
    assert not missing, missing
