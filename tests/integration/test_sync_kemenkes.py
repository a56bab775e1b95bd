"""The Kemenkes SOAP source against a real SOAP server on loopback: paging, the cursor, and
every kind of failure part-way through paging."""

from __future__ import annotations

from datetime import date

import pytest
from jamsos_kemenkes.server import SimpegServer, demo_employees
from sqlalchemy import select

from gateway.roster.sync import sync_source
from gateway.sources.loader import make_plugin_manager, source_catalog
from gateway.store.tables import enrollments, source_state
from gateway.testing import registry_counts

TODAY = date(2025, 6, 2)
PAGE = 50


@pytest.fixture
def server():
    with SimpegServer(demo_employees(230, seed=3)) as srv:
        srv.state.timeout_seconds = 1.5
        yield srv


@pytest.fixture
def pm():
    return make_plugin_manager(allow=["kemenkes"])


def make_source(pm, server, monkeypatch, **settings):
    monkeypatch.setenv("SIMPEG_PASSWORD", "rahasia-demo")
    values = {
        "url": server.url,
        "username": "jamsos",
        "password": "$env:SIMPEG_PASSWORD",
        "timeout": 0.5,
        "connect_timeout": 0.5,
        "retries": 1,
        "backoff": 0.01,
        **settings,
    }
    source = source_catalog(pm, {"kemenkes-ppnpn": values})["kemenkes-ppnpn"].create()
    type(source).page_size = PAGE  # several pages from a small roster
    return source


@pytest.fixture(autouse=True)
def _restore_page_size():
    from jamsos_kemenkes import KemenkesPPNPN

    size = KemenkesPPNPN.page_size
    yield
    KemenkesPPNPN.page_size = size


def state_of(gw):
    """Everything a failed run must leave exactly as it was."""
    with gw.engine.connect() as conn:
        rows = conn.execute(select(enrollments).order_by(enrollments.c.id)).mappings().all()
        cursors = conn.execute(select(source_state)).mappings().all()
    return [dict(r) for r in rows], [dict(c) for c in cursors], registry_counts(gw.registry)


def failed_sync(gw, pm, server, monkeypatch) -> str:
    """A sync that must fail and leave everything as it was: its run's error."""
    gw.registry  # noqa: B018 - migrated, so the state before can be read
    before = state_of(gw)
    result = sync_source(gw.registry, pm, make_source(pm, server, monkeypatch), today=TODAY,
                         trigger="test")  # fmt: skip
    assert result.status == "failed"
    assert state_of(gw) == before
    return gw.registry.get_run(result.run_id)["error"]


def test_full_then_incremental_sync(gw, pm, server, monkeypatch):
    source = make_source(pm, server, monkeypatch)
    first = sync_source(gw.registry, pm, source, today=TODAY, trigger="test")
    assert first.status == "succeeded", first.report.as_dict()
    assert first.report.changes["new"] == 230
    assert first.stats["pages"] == 5  # 230 / 50
    assert [r["page"] for r in server.requests] == [1, 2, 3, 4, 5]
    run = gw.registry.get_run(first.run_id)
    assert run["mode"] == "snapshot" and run["cursor_after"]
    cursor = gw.registry.get_cursor("kemenkes-ppnpn")
    assert cursor == run["cursor_after"]

    # One worker's honorarium changes, one contract ends: the incremental run asks only for
    # changes since the cursor and ends nobody (the ended contract waits for a full sync).
    niks = sorted(server.state.employees)
    server.update(niks[0], honorarium="6000000")
    server.update(niks[1], status="NONAKTIF")
    server.requests.clear()
    second = sync_source(gw.registry, pm, make_source(pm, server, monkeypatch), today=TODAY,
                         trigger="test")  # fmt: skip
    assert second.status == "succeeded"
    assert server.requests[0]["since"] is not None
    assert second.report.rows == 1 and second.report.changes["changed"] == 1
    assert second.report.changes["ended"] == 0
    assert any(p["code"] == "row_skipped" for p in second.report.problems)
    assert gw.registry.get_run(second.run_id)["cursor_before"] == cursor

    # Nothing changed since: an incremental run with no rows is a success, not a rejection.
    third = sync_source(gw.registry, pm, make_source(pm, server, monkeypatch), today=TODAY,
                        trigger="test")  # fmt: skip
    assert third.status == "succeeded" and third.report.rows == 0

    # A full sync is a snapshot again: the ended contract's worker is ended now.
    full = sync_source(gw.registry, pm, make_source(pm, server, monkeypatch), today=TODAY,
                       trigger="test", full=True)  # fmt: skip
    assert full.status == "succeeded" and full.report.changes["ended"] == 1


@pytest.mark.parametrize("kind", ["timeout", "http500", "soap_fault", "malformed", "drop", "dtd"])
def test_a_fault_part_way_through_paging_changes_nothing(gw, pm, server, monkeypatch, kind):
    source = make_source(pm, server, monkeypatch)
    assert sync_source(gw.registry, pm, source, today=TODAY, trigger="test").status == "succeeded"
    # Half the workers leave: a complete snapshot would end them.
    for nik in sorted(server.state.employees)[::2]:
        del server.state.employees[nik]
    before = state_of(gw)
    server.fail(page=3, kind=kind)

    failed = sync_source(gw.registry, pm, make_source(pm, server, monkeypatch), today=TODAY,
                         trigger="test", full=True)  # fmt: skip
    assert failed.status == "failed"
    run = gw.registry.get_run(failed.run_id)
    assert run["status"] == "failed" and "kemenkes" in run["error"]
    assert run["cursor_after"] is None
    expected = {
        "timeout": "Timeout",
        "http500": "HTTP 500",
        "soap_fault": "Fault",
        "malformed": "XML",
        "drop": "dropped",
        "dtd": "DTDForbidden",
    }[kind]
    assert expected in run["error"], run["error"]
    # Never a response body in the run record: it would put NIKs where people read.
    assert "</" not in run["error"] and "pegawai" not in run["error"]
    assert state_of(gw) == before  # nothing applied, nobody ended, cursor kept

    server.heal()
    # Half the feed ended is over ENDING_CONFIRM_SHARE: the operator lets it through (issue 16).
    monkeypatch.setenv("JAMSOS_ENDING_CONFIRM_SHARE", "1")
    again = sync_source(gw.registry, pm, make_source(pm, server, monkeypatch), today=TODAY,
                        trigger="test", full=True)  # fmt: skip
    assert again.status == "succeeded"
    assert again.report.changes["ended"] == 115


def test_transport_errors_are_retried_faults_are_not(gw, pm, server, monkeypatch):
    source = make_source(pm, server, monkeypatch, retries=2)
    server.fail(page=2, kind="http500", times=2)  # two failures, then the page is served
    assert sync_source(gw.registry, pm, source, today=TODAY, trigger="test").status == "succeeded"
    assert [r["page"] for r in server.requests].count(2) == 3

    server.requests.clear()
    server.fail(page=1, kind="soap_fault", times=1)
    result = sync_source(gw.registry, pm, make_source(pm, server, monkeypatch, retries=2),
                         today=TODAY, trigger="test", full=True)  # fmt: skip
    assert result.status == "failed"
    assert len(server.requests) == 1  # a Fault is the server's answer: not asked again


def test_wrong_password_is_a_failed_run_that_says_so(gw, pm, server, monkeypatch):
    source = make_source(pm, server, monkeypatch)
    monkeypatch.setenv("SIMPEG_PASSWORD", "salah")
    result = sync_source(gw.registry, pm, source, today=TODAY, trigger="test")
    assert result.status == "failed"
    assert "Autentikasi gagal" in gw.registry.get_run(result.run_id)["error"]


def test_missing_secret_fails_the_run_with_the_setting_named(gw, pm, server, monkeypatch):
    source = make_source(pm, server, monkeypatch)
    monkeypatch.delenv("SIMPEG_PASSWORD")
    result = sync_source(gw.registry, pm, source, today=TODAY, trigger="test")
    assert result.status == "failed"
    assert "SIMPEG_PASSWORD" in gw.registry.get_run(result.run_id)["error"]


def test_unreachable_server_fails_fast(gw, pm, monkeypatch):
    class Gone:
        url = "http://127.0.0.1:9/simpeg/ppnpn"  # discard port: nothing listens

    source = make_source(pm, Gone, monkeypatch, retries=0)
    result = sync_source(gw.registry, pm, source, today=TODAY, trigger="test")
    assert result.status == "failed"
    assert "connection" in gw.registry.get_run(result.run_id)["error"]


def test_typed_values_from_map_row_are_read_as_a_roster_writes_them(gw, pm, server, monkeypatch):
    """A WSDL typing the wage xsd:decimal and dates xsd:date hands map_row Decimals and dates:
    they read as their text (they failed as "not JSON serializable" in the spool)."""
    from decimal import Decimal

    from jamsos_kemenkes import KemenkesPPNPN

    plain = KemenkesPPNPN.map_row

    def typed(self, item, row):
        values = plain(self, item, row)
        if values is not None:
            values["wage"] = Decimal(values["wage"].replace(".", "")) if values["wage"] else None
            values["start_date"] = date(2024, 2, 1)
        return values

    monkeypatch.setattr(KemenkesPPNPN, "map_row", typed)
    result = sync_source(gw.registry, pm, make_source(pm, server, monkeypatch), today=TODAY,
                         trigger="test")  # fmt: skip
    assert result.status == "succeeded", result.report.as_dict()
    assert result.report.changes["new"] == 230


@pytest.mark.parametrize(
    ("returns", "says"),
    [(lambda values: list(values.items()), "map_row must return a dict"),
     (lambda values: dict(values, wage=3.5e6), "map_row returned float for 'wage'")],
)  # fmt: skip
def test_a_wrong_map_row_return_names_map_row(gw, pm, server, monkeypatch, returns, says):
    from jamsos_kemenkes import KemenkesPPNPN

    plain = KemenkesPPNPN.map_row
    monkeypatch.setattr(KemenkesPPNPN, "map_row",
                        lambda self, item, row: returns(plain(self, item, row)))  # fmt: skip
    error = failed_sync(gw, pm, server, monkeypatch)
    assert says in error and "kemenkes" in error, error


class _Typed:
    """A value the fake service writes as is, whatever its WSDL type says."""

    def __init__(self, text: str) -> None:
        self.text = text

    def isoformat(self) -> str:
        return self.text


def test_a_value_its_wsdl_type_does_not_allow_fails_the_run_naming_it(
    gw, pm, server, monkeypatch, capfd
):
    """zeep reads an xsd:dateTime "kemarin" as None, logs a traceback to stderr and goes on:
    the run failed later with "'NoneType' object has no attribute 'isoformat'", or the value
    was lost without a word."""
    nik = sorted(server.state.employees)[60]  # on page 2
    server.state.employees[nik]["diubahPada"] = _Typed("kemarin")
    error = failed_sync(gw, pm, server, monkeypatch)
    assert "page 2" in error and "WSDL type" in error and "kemarin" in error, error
    assert "Error during xml" not in capfd.readouterr().err
