"""Load control, assets, param checks and alerts of the scheduler's side, without Airflow: the
spread schedule, the pool's size, what counts as a registry change, the refusal of a
misspelt param, the alerts Airflow's callbacks raise (through the real gateway.alerts into a
recorded alert), and the registry watch that brings uploads to the assets."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.app import Gateway
from gateway.config import load_config
from gateway.demo.rosters import generate_roster, write_csv
from gateway.domain.regions import regencies_and_cities
from gateway.domain.schedules import effective_schedule, spread_schedule
from gateway.orchestration import SyncFailed, alerting, run_sync
from gateway.orchestration.plan import (
    DEFAULT_POOL,
    UnknownParams,
    asset_uri,
    changed_registry,
    check_params,
    deadline_minutes,
    publishes,
    registry_pool,
)
from gateway.orchestration.uploads import registry_changes
from gateway.sources.health import configured_sources


def test_spread_is_deterministic_and_fills_the_window() -> None:
    codes = [r.code for r in regencies_and_cities()]
    assert len(codes) >= 500
    times = [spread_schedule("0 4 * * *", code, 180) for code in codes]
    # The same on every call (a salted hash() would differ between processes).
    assert times == [spread_schedule("0 4 * * *", code, 180) for code in codes]
    minutes = [int(t.split()[1]) * 60 + int(t.split()[0]) - 240 for t in times if t]
    assert min(minutes) >= 0 and max(minutes) < 180
    per_minute = Counter(minutes)
    # 514 governments over 180 minutes: ~3 a minute, never a crowd at one minute.
    assert len(per_minute) > 150
    assert max(per_minute.values()) <= 10
    print(f"\n{len(codes)} governments: at most {max(per_minute.values())} in one minute")


def test_spread_keeps_what_it_cannot_spread() -> None:
    assert spread_schedule("0 4 * * *", "19.71", 0) == "0 4 * * *"
    assert spread_schedule("0 5 1 * *", "19.71", 180) == "0 5 1 * *"  # monthly: as given
    assert spread_schedule(None, "19.71", 180) is None
    assert spread_schedule("30 23 * * *", "19.71", 180) != "30 23 * * *"  # wraps past midnight


def test_effective_schedule() -> None:
    spread = spread_schedule("0 4 * * *", "15.71", 180)
    assert effective_schedule("0 4 * * *", "", {"agency": "15.71"}, 180) == spread
    # Its own schedule wins; a ministry's class keeps its time.
    assert (
        effective_schedule("0 4 * * *", "", {"agency": "15.71", "schedule": "5 1 * * *"}, 180)
        == "5 1 * * *"
    )
    assert effective_schedule("0 2 * * *", "kemenkes", {}, 180) == "0 2 * * *"


def test_feed_health_expects_a_regional_feed_at_its_spread_minute(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text('[sources."roster-15.71"]\ntype = "regional-roster"\nagency = "15.71"\n')
    gw = Gateway(load_config({"INSTANCE_PATH": str(tmp_path), "CONFIG_FILE": None,
                              "SOURCES_FILE": str(sources)}))  # fmt: skip
    (feed,) = [s for s in configured_sources(gw) if s["id"] == "roster-15.71"]
    assert feed["schedule"] == spread_schedule("0 4 * * *", "15.71", 180) != "0 4 * * *"


def test_pool_and_deadline_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert registry_pool().name == DEFAULT_POOL
    monkeypatch.setenv("JAMSOS_AIRFLOW_POOL_SLOTS", "12")
    monkeypatch.setenv("JAMSOS_AIRFLOW_POOL", "writers")
    assert (registry_pool().name, registry_pool().slots) == ("writers", 12)
    monkeypatch.setenv("JAMSOS_AIRFLOW_POOL_SLOTS", "0")
    with pytest.raises(ValueError, match="JAMSOS_AIRFLOW_POOL_SLOTS must be at least 1"):
        registry_pool()
    monkeypatch.setenv("JAMSOS_AIRFLOW_DEADLINE_MINUTES", "banyak")
    with pytest.raises(ValueError, match="whole number"):
        deadline_minutes()


def test_changed_registry() -> None:
    new = {"status": "succeeded", "changes": {"new": 3, "changed": 0, "unchanged": 9, "ended": 0}}
    same = {"status": "succeeded", "changes": {"new": 0, "changed": 0, "unchanged": 9, "ended": 0}}
    assert changed_registry(new)
    assert not changed_registry(same)  # an unchanged roster is no news
    assert not changed_registry({"status": "nothing_new"})
    assert not changed_registry({"status": "failed", "changes": {"new": 3}})
    assert changed_registry({"status": "succeeded", "accepted": 40})  # the budget feed


def test_each_kind_publishes_its_asset() -> None:
    assert publishes("roster") == "jamsos_registry"  # what the report and deliveries wait for
    assert publishes("budget") == "jamsos_budget_feed"
    # BPJS's reconciliation feeds change no roster: an asset of their own.
    assert publishes("bpjs_members") == "jamsos_bpjs_members"
    assert asset_uri("jamsos_bpjs_members") == "jamsos://registry/bpjs_members"
    assert asset_uri("jamsos_registry") == "jamsos://registry/rosters"


def test_misspelt_param_refused_in_both_languages() -> None:
    check_params({"fiscal_year": 2025}, {"fiscal_year"})
    check_params(None, {"fiscal_year"})
    with pytest.raises(UnknownParams) as err:
        check_params({"fiscal_yaer": 2025}, {"fiscal_year"})
    assert "parameter tidak dikenal / unknown parameter: fiscal_yaer" in str(err.value)
    assert "fiscal_year" in str(err.value).split("known:")[1]


@pytest.fixture
def alerts_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    """A gateway configured like a worker (the environment): alerts are recorded there."""
    monkeypatch.setenv("JAMSOS_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("JAMSOS_CONFIG_FILE", "")
    gw = Gateway(load_config())
    gw.registry.count_active()  # migrates and makes the keys
    return gw


def recorded_alerts(gw: Gateway) -> list[dict[str, Any]]:
    from gateway.store import alerts as stored

    return stored.recent(gw.engine)


def test_failure_callback_raises_one_alert_per_gateway_run(
    alerts_site: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, Any]] = []
    real = alerting.send
    monkeypatch.setattr(alerting, "send", lambda **kw: sent.append(kw) or real(**kw))
    failure = SyncFailed({"source": "kemenkes-ppnpn", "status": "failed", "run_id": 41,
                          "error": "SIMPEG tidak menjawab / no answer"})  # fmt: skip
    context = {"ti": {"dag_id": "jamsos_sync_kemenkes-ppnpn", "try_number": 4},
               "run_id": "scheduled__2026-01-01", "exception": failure}  # fmt: skip
    callback = alerting.SyncFailureAlert("kemenkes-ppnpn", "kemenkes")
    callback(context)
    callback(context)  # Airflow retried the callback: the same alert, not a second one
    assert len(sent) == 2
    alert = sent[0]
    assert alert["kind"] == "sync_failed" and alert["agency"] == "kemenkes"
    assert alert["key"] == "sync_failed:run:41"  # the gateway's own check uses the same key
    assert "gagal" in alert["title_id"] and "failed after its last retry" in alert["title_en"]
    assert alert["details"]["try_number"] == 4
    assert "no answer" in alert["details"]["error"]
    assert [a["kind"] for a in recorded_alerts(alerts_site)] == ["sync_failed"]


def test_late_feed_callback(alerts_site: Gateway) -> None:
    context = {"dag_run": {"dag_id": "jamsos_sync_roster-19.71", "dag_run_id": "scheduled__x",
                           "state": "running", "logical_date": "2026-12-01T04:27:00Z"},
               "deadline": {"deadline_time": "2026-12-01T07:27:00Z"}}  # fmt: skip
    alerting.feed_late(context, source_id="roster-19.71", agency="19.71", minutes=180)
    (alert,) = recorded_alerts(alerts_site)
    assert alert["kind"] == "feed_late"
    assert alert["agency"] == "19.71"


def test_alert_that_cannot_be_sent_never_fails_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAMSOS_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("JAMSOS_CONFIG_FILE", "")
    assert alerting.send(kind="feed_late", severity="warning", agency="19.71", title_id="x",
                         title_en="x", details={}) is False  # fmt: skip


def test_registry_watch_sees_runs_outside_airflow(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    rows = list(generate_roster(40, seed=3, regency="19.71"))
    write_csv(drop / "a.csv", rows[:30], totals_row=True)
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[sources."roster-19.71"]\ntype = "regional-roster"\nagency = "19.71"\nfolder = "{drop}"\n'
    )
    overrides = {"INSTANCE_PATH": str(tmp_path / "i"), "CONFIG_FILE": None,
                 "SOURCES_FILE": str(sources)}  # fmt: skip
    before = datetime.now(UTC) - timedelta(seconds=1)
    run_sync("roster-19.71", trigger="airflow", overrides=overrides)
    mid = datetime.now(UTC)
    # Airflow's own runs published their asset themselves: not news for the watch.
    assert registry_changes(before, mid, overrides)["changed"] is False
    write_csv(drop / "b.csv", rows, totals_row=True)  # ten more workers
    done = run_sync("roster-19.71", trigger="cli", overrides=overrides)
    after = datetime.now(UTC) + timedelta(seconds=1)
    found = registry_changes(mid, after, overrides)
    assert found["changed"] is True
    assert found["runs"] == [done["run_id"]]
    assert found["by_trigger"] == {"cli": 1}
    assert registry_changes(after, after + timedelta(minutes=15), overrides)["changed"] is False
