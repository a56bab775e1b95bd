"""Each hook, exercised through the real plugin manager (one `test_hook_<name>` per hookspec:
tests/plugins/test_hookspecs.py checks that none is missing)."""

from __future__ import annotations

import types
from datetime import date
from importlib.metadata import EntryPoint
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway import CsvSource, Problem, RawRow, RowResult, hookimpl
from gateway.cli.plugins import register_plugin_commands
from gateway.domain.records import Severity
from gateway.roster.sync import sync_source
from gateway.sources.loader import make_plugin_manager, source_catalog
from gateway.store.tables import audit_log
from tests.helpers.roster import worker_row, write_roster

TODAY = date(2025, 6, 2)


class TestAgencyRoster(CsvSource):
    __test__ = False  # not a pytest class
    id = "test-agency-roster"
    agency = "15.05"


def plugin(**hooks):
    """A plugin object whose attributes are the given hook implementations."""
    return types.SimpleNamespace(**{name: hookimpl(fn) for name, fn in hooks.items()})


def roster(tmp_path: Path, n: int = 4) -> Path:
    return write_roster(tmp_path / "roster.csv", [worker_row(i) for i in range(n)])


def sources_plugin():
    return plugin(register_sources=lambda: [TestAgencyRoster])


def sync(gw, pm, path, source_id="test-agency-roster"):
    source = source_catalog(pm, {source_id: {"path": str(path)}})[source_id].create()
    return sync_source(gw.registry, pm, source, today=TODAY, trigger="test")


def test_hook_register_sources(gw, tmp_path):
    pm = make_plugin_manager(load_entry_points=False, plugins={"agency": sources_plugin()})
    catalog = source_catalog(pm, {})
    assert catalog["test-agency-roster"].plugin == "agency"
    result = sync(gw, pm, roster(tmp_path))
    assert result.status == "succeeded" and result.report.changes["new"] == 4


def test_register_sources_errors_cost_only_that_plugin(tmp_path):
    def boom():
        raise RuntimeError("bug in plugin")

    class NoId(CsvSource):
        agency = "15.05"

    pm = make_plugin_manager(
        load_entry_points=False,
        plugins={
            "good": sources_plugin(),
            "raises": plugin(register_sources=boom),
            "bad-class": plugin(register_sources=lambda: [NoId, object]),
        },
    )
    assert list(source_catalog(pm, {})) == ["test-agency-roster"]
    assert "bug in plugin" in pm.load_errors["raises"][0]
    assert len(pm.load_errors["bad-class"]) == 2


def test_a_misconfigured_source_is_reported_once_however_often_the_catalog_is_read():
    # Every upload reads the catalog again (roster/intake.py): in a server that runs for
    # months, the list of errors must not grow with each upload.
    pm = make_plugin_manager(load_entry_points=False, plugins={"good": sources_plugin()})
    settings = {"typo-source": {"type": "no-such-source"}}
    for _ in range(5):
        assert "typo-source" not in source_catalog(pm, settings)
    assert pm.load_errors["config"] == [
        "sources.typo-source: type 'no-such-source' is not a registered source"
    ]


def test_hook_validate_record(gw, tmp_path):
    def validate_record(source, raw: RawRow, result: RowResult) -> list[Problem]:
        if source.agency == "15.05" and raw.row == 2:
            return [Problem(raw.row, "wage", "too_low_here", Severity.ERROR, "rendah", "low")]
        return []

    pm = make_plugin_manager(
        load_entry_points=False,
        plugins={"agency": sources_plugin(), "rules": plugin(validate_record=validate_record)},
    )
    result = sync(gw, pm, roster(tmp_path))
    assert result.report.rejected == 1 and result.report.accepted == 3
    assert {p["code"] for p in result.report.problems} == {"too_low_here"}


def test_validate_record_raising_fails_its_own_plugins_run(gw, tmp_path):
    own = sources_plugin()
    own.validate_record = hookimpl(lambda source, raw, result: 1 / 0)
    pm = make_plugin_manager(load_entry_points=False, plugins={"agency": own})
    result = sync(gw, pm, roster(tmp_path))
    assert result.status == "failed"
    assert "ZeroDivisionError" in gw.registry.get_run(result.run_id)["error"]
    assert gw.registry.count_active("15.05") == 0


def test_validate_record_raising_in_another_plugin_is_switched_off(gw, tmp_path):
    other = plugin(validate_record=lambda source, raw, result: 1 / 0)
    pm = make_plugin_manager(
        load_entry_points=False, plugins={"agency": sources_plugin(), "other": other}
    )
    result = sync(gw, pm, roster(tmp_path))
    assert result.status == "succeeded" and result.report.accepted == 4
    assert [p["code"] for p in result.report.problems] == ["plugin_check_failed"]


def test_a_nik_quoted_in_a_failed_runs_error_is_masked(gw, tmp_path):
    """A plugin's exception may quote the row's NIK: the run's error is stored in the clear,
    shown on the dashboard and written to the audit log, so it is masked first."""
    nik = worker_row(0)[0]

    def refuse(source, raw, result):
        raise ValueError(f"NIK {raw.values['nik']} tidak ada di SIMPEG")

    own = sources_plugin()
    own.validate_record = hookimpl(refuse)
    pm = make_plugin_manager(load_entry_points=False, plugins={"agency": own})
    result = sync(gw, pm, roster(tmp_path))
    error = gw.registry.get_run(result.run_id)["error"]
    assert result.status == "failed" and nik not in error
    assert f"{nik[:6]}******{nik[-4:]}" in error
    with gw.engine.connect() as conn:
        logged = " ".join(conn.execute(select(audit_log.c.details)).scalars())
    assert nik not in logged


WRONG_RETURNS = [
    (lambda raw: Problem(raw.row, "wage", "x", Severity.WARNING, "x", "x"), "not Problem"),
    (lambda raw: "too low", "not str"),
    (lambda raw: 1, "not int"),
    (lambda raw: [{"code": "x"}], "a dict in its list"),
    (lambda raw: [Problem(raw.row, "wage", "x", "error", "x", "x")], "severity is 'error'"),
]


@pytest.mark.parametrize(("returns", "says"), WRONG_RETURNS)
def test_a_wrong_validate_record_return_in_another_plugin_is_switched_off(
    gw, tmp_path, returns, says
):
    """It used to fail every other agency's sync ("'Problem' object is not iterable")."""
    other = plugin(validate_record=lambda source, raw, result: returns(raw))
    pm = make_plugin_manager(
        load_entry_points=False, plugins={"agency": sources_plugin(), "other": other}
    )
    result = sync(gw, pm, roster(tmp_path))
    assert result.status == "succeeded" and result.report.accepted == 4
    (warning,) = result.report.problems
    assert warning["code"] == "plugin_check_failed" and says in warning["message_en"]


@pytest.mark.parametrize(("returns", "says"), WRONG_RETURNS)
def test_a_wrong_validate_record_return_names_the_plugin_and_hook(gw, tmp_path, returns, says):
    own = sources_plugin()
    own.validate_record = hookimpl(lambda source, raw, result: returns(raw))
    pm = make_plugin_manager(load_entry_points=False, plugins={"agency": own})
    result = sync(gw, pm, roster(tmp_path))
    error = gw.registry.get_run(result.run_id)["error"]
    assert result.status == "failed" and "validate_record" in error and says in error, error


def test_hook_after_run(gw, tmp_path):
    seen = []
    pm = make_plugin_manager(
        load_entry_points=False,
        plugins={
            "agency": sources_plugin(),
            "notify": plugin(after_run=lambda source, run: seen.append((source.id, run["status"]))),
            "broken": plugin(after_run=lambda run: 1 / 0),
        },
    )
    result = sync(gw, pm, roster(tmp_path))
    assert seen == [("test-agency-roster", "succeeded")]
    assert result.status == "succeeded"  # a failing notification does not change the run
    assert "ZeroDivisionError" in result.warnings[0]


def test_hook_register_commands():
    @click.command("hello")
    def hello() -> None:
        click.echo("halo dari plugin")

    cli = click.Group("jamsos")
    pm = make_plugin_manager(
        load_entry_points=False,
        plugins={
            "cmds": plugin(register_commands=lambda cli: cli.add_command(hello)),
            "broken": plugin(register_commands=lambda cli: 1 / 0),
        },
    )
    register_plugin_commands(cli, pm=pm)
    out = CliRunner().invoke(cli, ["hello"])
    assert out.output == "halo dari plugin\n"


def test_hook_prepare_demo(gw, tmp_path):
    def prepare_demo(instance_path: str):
        folder = Path(instance_path) / "drop"
        folder.mkdir()
        roster(folder)
        return {"test-agency-roster": {"folder": str(folder)}}

    pm = make_plugin_manager(
        load_entry_points=False,
        plugins={"agency": sources_plugin(), "demo": plugin(prepare_demo=prepare_demo)},
    )
    (settings,) = pm.hook.prepare_demo(instance_path=str(tmp_path))
    source = source_catalog(pm, settings)["test-agency-roster"].create()
    first = sync_source(gw.registry, pm, source, today=TODAY, trigger="demo")
    again = sync_source(gw.registry, pm, source, today=TODAY, trigger="demo")
    assert first.status == "succeeded"
    assert again.status == "nothing_new"  # the drop folder's file is processed once


def test_import_error_and_bad_hooks_are_reported_not_raised():
    pm = make_plugin_manager(
        load_entry_points=False,
        plugins={
            "missing": EntryPoint("missing", "jamsos_no_such_module", "jamsos_gateway"),
            "typo": plugin(regster_sources=lambda: []),
            "signature": plugin(validate_record=lambda source, row: None),
            "fine": sources_plugin(),
        },
    )
    assert "ModuleNotFoundError" in pm.load_errors["missing"][0]
    assert "regster_sources" in pm.load_errors["typo"][0]
    assert "row" in pm.load_errors["signature"][0]
    assert pm.get_plugin("typo") is None and pm.get_plugin("fine") is not None


def test_allow_list_from_the_environment(monkeypatch):
    monkeypatch.setenv("JAMSOS_PLUGINS", "kemendes, apbd")
    pm = make_plugin_manager()
    names = {name for name, _ in pm.list_name_plugin()}
    assert names == {"builtin", "kemendes", "apbd"}
    monkeypatch.delenv("JAMSOS_PLUGINS")
    assert {"kemenkes", "regional_roster"} <= {
        n for n, _ in make_plugin_manager().list_name_plugin()
    }


def test_each_app_has_its_own_plugin_manager(app):
    from gateway.app import create_app

    other = create_app({"INSTANCE_PATH": "unused", "CONFIG_FILE": None})
    assert app.extensions["jamsos"].plugins is not other.extensions["jamsos"].plugins


def test_category_outside_the_sources_categories_is_rejected(gw, tmp_path):
    class PpnpnOnly(TestAgencyRoster):
        categories = ("ppnpn",)

    pm = make_plugin_manager(
        load_entry_points=False, plugins={"agency": plugin(register_sources=lambda: [PpnpnOnly])}
    )
    result = sync(gw, pm, roster(tmp_path))
    assert result.status == "rejected"  # the regency's default category is honorer
    assert {p["code"] for p in result.report.problems} == {"category_not_allowed"}


@pytest.fixture(autouse=True)
def _no_sources_file(monkeypatch):
    monkeypatch.delenv("JAMSOS_SOURCES_FILE", raising=False)
    monkeypatch.delenv("JAMSOS_PLUGINS", raising=False)


def test_hook_send_alert(gw, tmp_path, monkeypatch):
    # Through the real plugin manager and the gateway's one way out (gateway/alerts.py): a
    # configured plugin gets the alert with its settings (a $env: password resolved when
    # asked), a failing one is recorded without stopping the others, an unconfigured one and
    # one whose min_severity the alert does not reach are not asked, and the same alert
    # again is not delivered twice. The SMTP plugin itself: tests/integration/test_alerts.py.
    from gateway.alerts import raise_alert
    from gateway.store import alerts as stored

    gw.ensure_ready()
    got = []

    def pager(alert, settings):
        got.append((alert.kind, alert.agency, alert.title_en, settings.setting("token")))

    def broken(alert):
        raise ConnectionError("chat service down")

    pm = make_plugin_manager(load_entry_points=False, plugins={
        "pager": plugin(send_alert=pager), "chat": plugin(send_alert=broken),
        "quiet": plugin(send_alert=pager), "picky": plugin(send_alert=pager)})  # fmt: skip
    config = tmp_path / "gateway.toml"
    config.write_text('[alerts.pager]\ntoken = "$env:PAGER_TOKEN"\nmin_severity = "error"\n'
                      '[alerts.chat]\n[alerts.picky]\nmin_severity = "critical"\n')
    runtime = types.SimpleNamespace(config={**gw.config, "CONFIG_FILE": str(config)},
                                    engine=gw.engine, plugins=pm)
    monkeypatch.setenv("PAGER_TOKEN", "s3cret")
    raised = dict(kind="sync_failed", severity="error", agency="kemenkes",
                  title_id="Sinkronisasi gagal", title_en="Sync failed",
                  details={"source": "kemenkes-ppnpn"})
    assert raise_alert(runtime, **raised) is True
    assert got == [("sync_failed", "kemenkes", "Sync failed", "s3cret")]
    [row] = stored.recent(gw.engine)
    assert row["delivered"] == ["pager"]
    assert row["failures"] == {"chat": "ConnectionError: chat service down"}
    assert raise_alert(runtime, **raised) is False and len(got) == 1  # the same one: once


def test_hook_verify_identities(gw, tmp_path, monkeypatch):
    # Through the real plugin manager and the gateway's pass (gateway/verify/run.py): only the
    # configured provider is asked, with its settings ($env: resolved when asked) and the
    # threshold; its verdicts are stored per worker; a condition pauses the pass and stores
    # nothing; an exception counts as the service being down. Over HTTP against the loopback
    # Dukcapil service: tests/integration/test_verify_dukcapil.py.
    from gateway import Verdict
    from gateway.domain.agencies import resolve_agency
    from gateway.roster.submit import submit_roster
    from gateway.store import verification as stored
    from gateway.verify.run import verify_pending
    from gateway.verify.settings import verification_settings

    asked = []

    def registry(people, settings):
        asked.append((len(people), settings.setting("token"), settings.threshold))
        first, *rest = people
        return [Verdict(first.ref, "deceased", code="11"),
                *(Verdict(p.ref, "quota", code="05") for p in rest)]  # fmt: skip

    def other(people):
        raise AssertionError("not the configured provider")

    pm = make_plugin_manager(load_entry_points=False, plugins={
        "registry": plugin(verify_identities=registry), "other": plugin(verify_identities=other),
        "down": plugin(verify_identities=lambda people: 1 / 0)})  # fmt: skip
    submit_roster(gw.registry, roster(tmp_path, 3), agency=resolve_agency("15.05"), today=TODAY,
                  trigger="test", batch_size=50)  # fmt: skip
    monkeypatch.setenv("JAMSOS_TEST_REGISTRY_TOKEN", "t0ken")
    settings = verification_settings({"VERIFICATION": {
        "provider": "registry", "threshold": 80,
        "registry": {"token": "$env:JAMSOS_TEST_REGISTRY_TOKEN"}}})  # fmt: skip
    result = verify_pending(gw.registry.engine, gw.registry.keyring, pm, settings)
    assert asked == [(3, "t0ken", 80)]
    assert result.answers == {"deceased": 1} and result.stopped == "quota"
    counts = stored.agency_counts(gw.registry.engine)["15.05"]
    assert counts == {"deceased": 1, "pending": 2}
    down = verification_settings({"VERIFICATION": {"provider": "down"}})
    result = verify_pending(gw.registry.engine, gw.registry.keyring, pm, down, force=True)
    assert result.stopped == "unavailable" and result.answers == {}


def test_hook_register_destinations(gw, tmp_path):
    # Through the real plugin manager: a plugin's destination is found by its id with its
    # settings, one that is not a Destination is reported and skipped, and a delivery through
    # it tells the counterpart each new worker once. The loopback BPJS service over HTTP:
    # tests/integration/test_delivery_h2h*.py; the outbox: tests/delivery/.
    from gateway import Ack, Destination
    from gateway.delivery.catalog import collect_destinations, make_destination
    from gateway.delivery.employers import register_employer
    from gateway.delivery.outbox import deliver
    from gateway.domain.agencies import resolve_agency
    from gateway.roster.submit import submit_roster

    told = []

    class Recorder(Destination):
        id = "recorder"
        title = "Records what it is told"

        def send(self, mutations):
            told.extend((m.kind, m.nik, self.setting("label")) for m in mutations)
            return [Ack(m.key, "accepted", kpj=f"{i + 1:011d}") for i, m in enumerate(mutations)]

    pm = make_plugin_manager(load_entry_points=False, plugins={
        "good": plugin(register_destinations=lambda: [Recorder]),
        "bad": plugin(register_destinations=lambda: [object])})  # fmt: skip
    assert list(collect_destinations(pm)) == ["recorder"]
    assert "not a Destination subclass" in pm.load_errors["bad"][0]
    gw.__dict__["plugins"] = pm
    submit_roster(gw.registry, roster(tmp_path, 3), agency=resolve_agency("15.05"), today=TODAY,
                  trigger="test", batch_size=50)  # fmt: skip
    register_employer(gw, agency="15.05", kind="npp", npp="12345678", division=None,
                      segment=None, work_unit=None, destination="recorder")  # fmt: skip
    dest = make_destination(pm, "recorder", {"recorder": {"label": "L"}})
    assert deliver(gw, "recorder", destination=dest, answer_wait=0).counts["accepted"] == 3
    assert sorted(told) == sorted(("new", worker_row(i)[0], "L") for i in range(3))
