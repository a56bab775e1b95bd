"""The real thing: Airflow's scheduler, DAG processor and API server as separate processes,
LocalExecutor, metadata and registry on a throwaway PostgreSQL; DAGs triggered over the REST
API, the effect checked in the registry. Covers what `dag.test()` cannot: the pool, the asset
events that start the report and the budget check, a misspelt param refused by a real
trigger, and a task killed from Airflow mid-run (~60-90 s in all)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from jamsos_kemenkes.server import SimpegServer, demo_employees

from gateway.app import Gateway
from gateway.config import load_config
from gateway.demo.rosters import generate_roster, write_csv
from gateway.orchestration.plan import DEFAULT_POOL
from tests.airflow.cluster import AirflowCluster
from tests.pg import PostgresServer

pytestmark = pytest.mark.slow

REGENCIES = ("19.71", "15.71")
KEMENKES_WORKERS = 1200  # three pages of 500: a hang on page 2 is a kill mid-fetch
SOURCES = """
[sources."kemenkes-ppnpn"]
url = "{url}"
username = "jamsos"
password = "$env:TEST_SIMPEG_PASSWORD"
retries = 0
connect_timeout = 2
timeout = 300
"""
ROSTER = """
[sources."roster-{code}"]
type = "regional-roster"
agency = "{code}"
folder = "{folder}"
"""


@pytest.fixture(scope="module")
def simpeg() -> Iterator[SimpegServer]:
    with SimpegServer(demo_employees(KEMENKES_WORKERS, seed=20)) as server:
        yield server


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    pg_server: PostgresServer,
    pg_template: str,
    simpeg: SimpegServer,
) -> Iterator[tuple[AirflowCluster, Gateway]]:
    import psycopg

    root = tmp_path_factory.mktemp("scheduler")
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE jamsos_scheduler TEMPLATE {pg_template}")
    registry_url = pg_server.url("jamsos_scheduler")
    instance = root / "instance"
    text = SOURCES.format(url=simpeg.url)
    for i, code in enumerate(REGENCIES):
        folder = root / f"drop_{code}"
        folder.mkdir()
        rows = generate_roster(150, seed=i, regency=code)
        write_csv(folder / f"honorer_{code}.csv", rows, totals_row=True)
        text += ROSTER.format(code=code, folder=folder)
    sources = root / "sources.toml"
    sources.write_text(text, encoding="utf-8")
    overrides = {"INSTANCE_PATH": str(instance), "CONFIG_FILE": None, "DATABASE_URL": registry_url}
    gw = Gateway(load_config(overrides))
    gw.registry.count_active()  # makes the instance's keys once, before the workers need them
    af = AirflowCluster(
        root,
        pg_server,
        registry_url=registry_url,
        sources=sources,
        instance=instance,
        env={
            "TEST_SIMPEG_PASSWORD": simpeg.state.password,
            "JAMSOS_AIRFLOW_RETRIES": "0",
            # A minute: the runs scheduled at startup (for their last missed time, hours ago)
            # are past their deadline at once, so Airflow's late-feed alert fires for real.
            "JAMSOS_AIRFLOW_DEADLINE_MINUTES": "1",
        },
        pool_slots=2,
    )
    with af:
        af.wait_dags(
            [f"jamsos_sync_roster-{c}" for c in REGENCIES]
            + ["jamsos_sync_kemenkes-ppnpn", "jamsos_budget_check", "jamsos_daily_report"]
        )
        print(f"\nAirflow up in {af.timings['ready']:.1f} s (migrate {af.timings['migrate']:.1f})")
        yield af, gw
    gw.engine.dispose()


def gateway_runs(gw: Gateway, source: str) -> list[dict[str, Any]]:
    return [r for r in gw.registry.list_runs(limit=200) if r["source"] == source]


def first_run(
    af: AirflowCluster, dag_id: str, run_type: str | None = None, timeout: float = 90
) -> dict[str, Any]:
    """The DAG's first run (of `run_type`), finished. Unpaused at creation with catchup off,
    each DAG is scheduled at once for its last missed time (the regional syncs at their own
    minute, the report and the budget check on their clock floor)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in af.runs(dag_id) if run_type in (None, r["run_type"])]
        if runs:
            return af.wait(dag_id, runs[0]["dag_run_id"])
        time.sleep(1)
    raise AssertionError(f"{dag_id} had no {run_type or ''} run in {timeout} s")


def test_scheduled_syncs_write_registry_and_start_report_on_assets(
    cluster: tuple[AirflowCluster, Gateway],
) -> None:
    af, gw = cluster
    for code in REGENCIES:
        dag_id = f"jamsos_sync_roster-{code}"
        run = first_run(af, dag_id)
        tasks = af.tasks(dag_id, run["dag_run_id"])
        assert run["state"] == "success", tasks
        assert run["run_type"] == "scheduled"
        # The spread schedule: a minute of the government's own, not the class's 04:00.
        assert run["run_after"][11:16] != "04:00"
        assert tasks["sync"]["pool"] == DEFAULT_POOL
        assert tasks["publish"]["state"] == "success"  # the registry changed: asset event
        (record,) = gateway_runs(gw, f"roster-{code}")
        assert record["status"] == "succeeded"
        assert record["trigger"] == "airflow"
        assert record["external_id"] == f"{dag_id}/{run['dag_run_id']}"
        assert gw.registry.count_active(code) > 100
    # The asset events started the report and the budget check, with no clock involved.
    for dag_id in ("jamsos_daily_report", "jamsos_budget_check"):
        run = first_run(af, dag_id, "asset_triggered")
        assert run["state"] == "success", af.tasks(dag_id, run["dag_run_id"])

    # Airflow's deadline callback (run by the executor) raised the gateway's late-feed alert.
    from gateway.store import alerts as stored

    deadline = time.monotonic() + 30
    while True:
        late = {a["agency"]: a for a in stored.recent(gw.engine, 200) if a["kind"] == "feed_late"}
        if set(REGENCIES) <= set(late) or time.monotonic() > deadline:
            break
        time.sleep(1)
    for code in REGENCIES:
        assert late[code]["details"]["dag_id"] == f"jamsos_sync_roster-{code}"
        assert "terlambat" in late[code]["title_id"] and "late" in late[code]["title_en"]

    # Triggered over the REST API with nothing new: success, publish skipped, no asset event.
    dag_id = f"jamsos_sync_roster-{REGENCIES[0]}"
    run_id = af.trigger(dag_id)
    assert af.wait(dag_id, run_id)["state"] == "success"
    assert af.tasks(dag_id, run_id)["publish"]["state"] == "skipped"
    assert len(gateway_runs(gw, f"roster-{REGENCIES[0]}")) == 1  # nothing new records no run


def test_misspelt_param_is_refused(cluster: tuple[AirflowCluster, Gateway]) -> None:
    af, _ = cluster
    run_id = af.trigger("jamsos_budget_check", {"fiscal_yaer": 2025})
    assert af.wait("jamsos_budget_check", run_id)["state"] == "failed"
    first = af.tasks("jamsos_budget_check", run_id)["governments"]
    assert first["state"] == "failed"
    assert first["try_number"] == 1  # refused at once, never retried


def test_task_killed_mid_run_fails_and_leaves_registry_unchanged(
    cluster: tuple[AirflowCluster, Gateway], simpeg: SimpegServer
) -> None:
    af, gw = cluster
    dag_id = "jamsos_sync_kemenkes-ppnpn"
    assert first_run(af, dag_id)["state"] == "success"  # its scheduled run, on startup
    before = gw.registry.count_active("kemenkes")
    cursor = gw.registry.get_cursor("kemenkes-ppnpn")
    assert before > 0 and cursor is not None
    # A full sync (every page) whose page 2 never answers in time: the sync is mid-run, page
    # 1 fetched, until Airflow kills it.
    simpeg.state.timeout_seconds = 120
    simpeg.fail(page=2, kind="timeout", times=1)
    asked = len(simpeg.state.requests)
    run_id = af.trigger(dag_id, {"full": True})
    external_id = f"{dag_id}/{run_id}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        running = [r for r in gateway_runs(gw, "kemenkes-ppnpn") if r["external_id"] == external_id]
        if running and len(simpeg.state.requests) >= asked + 2:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the sync never started: {af.tasks(dag_id, run_id)}")
    af.set_task_state(dag_id, run_id, "sync", "failed")  # Airflow kills the task (SIGTERM)
    assert af.wait(dag_id, run_id)["state"] == "failed"
    # Recorded failed with the cause at once, not left running for the sweep.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        (record,) = [
            r for r in gateway_runs(gw, "kemenkes-ppnpn") if r["external_id"] == external_id
        ]
        if record["status"] != "running":
            break
        time.sleep(0.5)
    assert record["status"] == "failed", record
    assert record["finished_at"] is not None
    assert "SIGTERM" in record["error"]  # "dihentikan oleh SIGTERM / stopped by SIGTERM"
    assert gw.registry.count_active("kemenkes") == before
    assert gw.registry.get_cursor("kemenkes-ppnpn") == cursor
    simpeg.heal()
