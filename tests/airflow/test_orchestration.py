"""gateway.orchestration without Airflow: what the DAG tasks call, in this process."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jamsos_kemenkes.server import SimpegServer, demo_employees

from gateway.app import Gateway
from gateway.config import load_config
from gateway.domain.schedules import spread_schedule
from gateway.orchestration import (
    TASK_DEFAULTS,
    SyncFailed,
    SyncRejected,
    UnknownSource,
    run_sync,
    summarize_budget,
    sync_specs,
    task_defaults,
)

SOURCES = """
[sources."kemenkes-ppnpn"]
url = "{url}"
username = "jamsos"
password = "$env:TEST_SIMPEG_PASSWORD"
retries = 1
connect_timeout = 2

[sources."roster-15.05"]
type = "regional-roster"
agency = "15.05"
folder = "{drop}"
schedule = "30 1 * * *"

[sources."roster-15.71"]
type = "regional-roster"
agency = "15.71"
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("TEST_SIMPEG_PASSWORD", "rahasia-demo")
    drop = tmp_path / "drop"
    drop.mkdir()
    server = SimpegServer(demo_employees(60, seed=5)).start()
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES.format(url=server.url, drop=drop))
    overrides = {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "CONFIG_FILE": None,
        "SOURCES_FILE": str(sources),
    }
    yield {"overrides": overrides, "server": server, "drop": drop, "sources": sources}
    server.stop()


def gateway_of(overrides: dict[str, Any]) -> Gateway:
    return Gateway(load_config(overrides))


def test_sync_specs_read_no_secret_database_or_network(
    site: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Secrets that cannot be read: parsing must not try (no key loading at import time).
    monkeypatch.setenv("JAMSOS_DATA_KEYS", "$file:/nonexistent/keys")
    monkeypatch.setenv("JAMSOS_DATABASE_URL", "$env:NOT_SET_ANYWHERE")
    monkeypatch.delenv("TEST_SIMPEG_PASSWORD")
    specs = {s.source_id: s for s in sync_specs(site["overrides"])}
    assert not (tmp_path / "instance").exists()
    assert "regional-roster" not in specs  # a template: its configured instances are feeds
    assert specs["roster-15.05"].agency == "15.05"
    assert specs["roster-15.05"].schedule == "30 1 * * *"  # the sources file overrides
    # Else the class's, at the government's own minute of the spread window (04:00-06:59).
    assert specs["roster-15.71"].schedule == spread_schedule("0 4 * * *", "15.71", 180)
    assert specs["roster-15.05"].dag_id == "jamsos_sync_roster-15.05"
    assert specs["kemenkes-ppnpn"].kind == "roster" and specs["apbd-sipd"].kind == "budget"


def test_run_sync_records_trigger_and_external_id(site: dict[str, Any]) -> None:
    summary = run_sync(
        "kemenkes-ppnpn",
        external_id="jamsos_sync_kemenkes-ppnpn/manual__1",
        overrides=site["overrides"],
    )
    assert summary["status"] == "succeeded"
    assert summary["rows"] == 60
    assert "problems" not in summary  # counts only: the run page has the problems
    gw = gateway_of(site["overrides"])
    run = gw.registry.get_run(summary["run_id"])
    assert run is not None
    assert (run["trigger"], run["external_id"]) == (
        "airflow",
        "jamsos_sync_kemenkes-ppnpn/manual__1",
    )
    gw.engine.dispose()


def test_run_sync_raises_after_recording_the_failure(site: dict[str, Any]) -> None:
    site["server"].stop()
    with pytest.raises(SyncFailed) as caught:
        run_sync("kemenkes-ppnpn", external_id="d/r1", overrides=site["overrides"])
    assert not isinstance(caught.value, SyncRejected)  # a feed down is worth a retry
    summary = caught.value.summary
    gw = gateway_of(site["overrides"])
    run = gw.registry.get_run(summary["run_id"])
    assert run is not None
    assert run["status"] == "failed" and run["external_id"] == "d/r1"
    assert "kemenkes" in run["error"] and str(summary["run_id"]) in str(caught.value)
    gw.engine.dispose()


def test_misconfigured_source_fails_with_its_external_id(site: dict[str, Any]) -> None:
    # roster-15.71 has no folder, path or url: the plan fails before any fetch. The run is
    # still recorded, and still names the Airflow run that started it.
    with pytest.raises(SyncFailed) as caught:
        run_sync("roster-15.71", external_id="d/r2", overrides=site["overrides"])
    gw = gateway_of(site["overrides"])
    run = gw.registry.get_run(caught.value.summary["run_id"])
    assert run is not None
    assert (run["status"], run["trigger"], run["external_id"]) == ("failed", "airflow", "d/r2")
    gw.engine.dispose()


def test_rejected_roster_raises_sync_rejected(site: dict[str, Any]) -> None:
    (site["drop"] / "roster.csv").write_text("NIK;Nama;Gaji;TMT\n12;X;3.000.000;01-01-2024\n")
    with pytest.raises(SyncRejected) as caught:
        run_sync("roster-15.05", external_id="d/r3", overrides=site["overrides"])
    assert caught.value.summary["status"] == "rejected"


def test_a_budget_year_the_rate_tables_do_not_cover_is_not_retried(site: dict[str, Any]) -> None:
    from gateway.orchestration import BudgetYearNotCovered, NotRetryable, run_budget_check

    # A worker since 2013, checked for 2014: before the JKK/JKM tables (July 2015).
    (site["drop"] / "roster.csv").write_text(
        "NIK;Nama;Gaji;TMT\n1505010101800001;Budi;3.000.000;01-01-2013\n"
    )
    run_sync("roster-15.05", external_id="d/r4", overrides=site["overrides"])
    with pytest.raises(BudgetYearNotCovered) as caught:
        run_budget_check("15.05", 2014, site["overrides"])
    assert isinstance(caught.value, NotRetryable)  # the DAG fails the task at once
    assert "2015-01" not in str(caught.value) and "2014-01" in str(caught.value)


def test_unknown_source_records_nothing(site: dict[str, Any]) -> None:
    with pytest.raises(UnknownSource, match="kemenkes-ppnpn"):
        run_sync("no-such-source", overrides=site["overrides"])
    gw = gateway_of(site["overrides"])
    assert gw.registry.list_runs() == []
    gw.engine.dispose()


def test_task_defaults_and_their_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert task_defaults() == TASK_DEFAULTS
    assert TASK_DEFAULTS["retry_exponential_backoff"] == 2.0
    monkeypatch.setenv("JAMSOS_AIRFLOW_RETRIES", "5")
    monkeypatch.setenv("JAMSOS_AIRFLOW_RETRY_DELAY_SECONDS", "30")
    got = task_defaults()
    assert got["retries"] == 5 and got["retry_delay"] == timedelta(seconds=30)
    assert got["max_retry_delay"] == TASK_DEFAULTS["max_retry_delay"]
    monkeypatch.setenv("JAMSOS_AIRFLOW_RETRIES", "many")
    with pytest.raises(ValueError, match="JAMSOS_AIRFLOW_RETRIES"):
        task_defaults()


def test_summarize_budget_orders_by_gap() -> None:
    results = [
        {"government": "15.05", "name": "A", "status": "sufficient", "gap": 0},
        {"government": "19.71", "name": "B", "status": "shortfall", "gap": 500},
        {"government": "16.71", "name": "C", "status": "no_budget", "gap": 900},
    ]
    summary = summarize_budget(results)
    assert summary["by_status"] == {"sufficient": 1, "shortfall": 1, "no_budget": 1}
    assert summary["total_gap"] == 1400
    assert [a["government"] for a in summary["attention"]] == ["16.71", "19.71"]
