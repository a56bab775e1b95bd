"""The DAGs as the real Airflow 3 parses them: no import errors, cheap to parse, and each
DAG's tasks, dependencies, schedule and retry policy."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.schedules import spread_schedule
from gateway.orchestration import SYNC_DAG_PREFIX, sync_specs
from tests.helpers.airflow import EXTRA_SOURCE, AirflowSite

pytestmark = pytest.mark.slow

PRODUCTION_RETRY = {
    "retries": 3,
    "retry_delay": 300.0,
    "retry_exponential_backoff": 2.0,  # a multiplier in Airflow 3: True (1.0) would not grow
    "max_retry_delay": 3600.0,
    "execution_timeout": 4 * 3600.0,
}


def _retry(task: dict[str, Any]) -> dict[str, Any]:
    return {k: task[k] for k in PRODUCTION_RETRY}


def test_dagbag_loads_cheaply(airflow_result: dict[str, Any]) -> None:
    assert airflow_result["import_errors"] == {}
    # Parsing opened no socket and created no database or key file of the gateway.
    assert airflow_result["network_attempts"] == []
    assert not {"jamsos.db", "keys.json", "receipt-key.pem"} & set(
        airflow_result["instance_files_after_parse"]
    )
    print(
        f"\ndags/ parsed in {airflow_result['dagbag_seconds'] * 1000:.0f} ms "
        f"(per file, s: {airflow_result['file_seconds']})"
    )


def test_one_sync_dag_per_configured_source(
    airflow_result: dict[str, Any], airflow_site: AirflowSite
) -> None:
    dags = airflow_result["dags"]
    specs = sync_specs({"SOURCES_FILE": str(airflow_site.sources), "CONFIG_FILE": None})
    expected = {s.dag_id: s for s in specs}
    assert {d for d in dags if d.startswith(SYNC_DAG_PREFIX)} == set(expected)
    # Each plugin's source, and a regency configured only in the sources file; the generic
    # regional-roster class is a template, not a feed.
    assert {s.source_id for s in specs} >= {
        "kemenkes-ppnpn",
        "kemendes-pendamping",
        "apbd-sipd",
        "roster-19.71",
        EXTRA_SOURCE,
    }
    assert "regional-roster" not in {s.source_id for s in specs}
    for dag_id, spec in expected.items():
        dag = dags[dag_id]
        assert dag["schedule"] == spec.schedule
        assert dag["timezone"] == "UTC"
        assert spec.agency in dag["tags"]
        assert dag["max_active_runs"] == 1
        assert dag["catchup"] is False
        assert list(dag["tasks"]) == ["sync", "publish"]
        sync, publish = dag["tasks"]["sync"], dag["tasks"]["publish"]
        assert _retry(sync) == PRODUCTION_RETRY
        # Only the writer holds a slot of the registry writers' pool.
        assert sync["pool"] == "jamsos_registry_writers"
        assert publish["pool"] == "default_pool"
        assert sync["on_failure"] == ["SyncFailureAlert"]
        assert publish["upstream"] == ["sync"]
        asset = {"budget": "jamsos_budget_feed", "roster": "jamsos_registry"}.get(
            spec.kind, f"jamsos_{spec.kind}"
        )
        assert publish["outlets"] == [asset] and sync["outlets"] == []
        assert dag["params"] == ["full"]
        (late,) = dag["deadlines"]
        assert late["interval"] == 180 * 60
        assert late["callback"] == "gateway.orchestration.alerting.feed_late"
        assert late["kwargs"] == {
            "source_id": spec.source_id,
            "agency": spec.agency,
            "minutes": 180,
        }
    kemenkes = dags["jamsos_sync_kemenkes-ppnpn"]
    assert kemenkes["schedule"] == "0 2 * * *"  # a ministry keeps its class's schedule
    assert kemenkes["tags"] == ["jamsos", "kemenkes", "sync"]
    assert dags[f"jamsos_sync_{EXTRA_SOURCE}"]["tags"] == ["15.05", "jamsos", "sync"]
    # Regional rosters: each at its own minute of 04:00-06:59, the same on every parse.
    regional = [dags[f"jamsos_sync_{s}"]["schedule"] for s in ("roster-19.71", EXTRA_SOURCE)]
    assert regional == [spread_schedule("0 4 * * *", c, 180) for c in ("19.71", "15.05")]
    assert len(set(regional)) == 2 and "0 4 * * *" not in regional


def test_budget_dag_maps_over_governments(airflow_result: dict[str, Any]) -> None:
    dag = airflow_result["dags"]["jamsos_budget_check"]
    # When the rosters or the budgets changed, and on the 2nd (after the SIPD feed of the
    # 1st) at the latest.
    assert dag["timetable"] == "AssetOrTimeSchedule"
    assert dag["assets"] == ["jamsos_budget_feed", "jamsos_registry"]
    assert dag["schedule"] == "0 6 2 * *"
    assert dag["max_active_runs"] == 1 and dag["catchup"] is False
    assert dag["params"] == ["fiscal_year"]
    tasks = dag["tasks"]
    assert tasks["governments"]["downstream"] == ["check"]
    assert tasks["check"]["mapped"] is True
    assert tasks["check"]["upstream"] == ["governments"]
    assert tasks["check"]["downstream"] == ["summarize"]
    assert tasks["summarize"]["upstream"] == ["check"]
    for task in tasks.values():
        assert _retry(task) == PRODUCTION_RETRY


def test_report_dag_joins_health_and_coverage(airflow_result: dict[str, Any]) -> None:
    dag = airflow_result["dags"]["jamsos_daily_report"]
    assert dag["timetable"] == "AssetOrTimeSchedule"
    assert dag["assets"] == ["jamsos_registry"]
    assert dag["schedule"] == "0 7 * * *"
    assert dag["max_active_runs"] == 1 and dag["catchup"] is False
    tasks = dag["tasks"]
    assert tasks["report"]["upstream"] == ["coverage", "feed_health"]
    assert tasks["feed_health"]["upstream"] == tasks["coverage"]["upstream"] == []
    for task in tasks.values():
        assert _retry(task) == PRODUCTION_RETRY


def test_registry_watch_publishes_uploads(airflow_result: dict[str, Any]) -> None:
    dag = airflow_result["dags"]["jamsos_registry_watch"]
    assert dag["schedule"] == "*/15 * * * *"
    assert dag["max_active_runs"] == 1 and dag["catchup"] is False
    assert dag["tasks"]["uploads"]["outlets"] == ["jamsos_registry"]


def test_one_delivery_dag_per_destination(airflow_result: dict[str, Any]) -> None:
    from gateway.orchestration.delivery import delivery_ids

    dags = airflow_result["dags"]
    # The configured destination only, not every installed one (bpjs-h2h is installed too).
    assert delivery_ids({"CONFIG_FILE": None}) == []  # no destinations file here: none
    expected = {"jamsos_deliver_bpjs-sipp"}
    assert {d for d in dags if d.startswith("jamsos_deliver_")} == expected
    for dag_id in expected:
        dag = dags[dag_id]
        # A sync or an upload changed the registry; the monthly cut-off at the latest.
        assert dag["timetable"] == "AssetOrTimeSchedule"
        assert dag["assets"] == ["jamsos_registry"]
        assert dag["schedule"] == "0 8 1 * *"
        assert dag["max_active_runs"] == 1
        assert list(dag["tasks"]) == ["deliver"]
        assert dag["tasks"]["deliver"]["pool"] == "jamsos_registry_writers"
        assert dag["tasks"]["deliver"]["on_failure"] == ["DeliveryFailureAlert"]
        assert _retry(dag["tasks"]["deliver"]) == PRODUCTION_RETRY


def test_reconcile_dag_waits_for_bpjs_facts_and_the_due_date(
        airflow_result: dict[str, Any]) -> None:  # fmt: skip
    dag = airflow_result["dags"]["jamsos_reconcile"]
    # A membership list, bills or payments synced; the 17th, after the 15th's due date.
    assert dag["timetable"] == "AssetOrTimeSchedule"
    assert sorted(dag["assets"]) == ["jamsos_bpjs_bills", "jamsos_bpjs_members",
                                     "jamsos_bpjs_payments"]  # fmt: skip
    assert dag["schedule"] == "0 3 17 * *" and dag["max_active_runs"] == 1
    assert list(dag["tasks"]) == ["reconcile"]
    assert _retry(dag["tasks"]["reconcile"]) == PRODUCTION_RETRY


def test_verify_dag_follows_the_registry_and_resumes_after_midnight_wib(
        airflow_result: dict[str, Any]) -> None:  # fmt: skip
    dag = airflow_result["dags"]["jamsos_verify"]
    assert dag["timetable"] == "AssetOrTimeSchedule"
    assert dag["assets"] == ["jamsos_registry"]
    assert dag["schedule"] == "10 17 * * *"  # 00:10 WIB: the quota is new
    assert dag["max_active_runs"] == 1 and list(dag["tasks"]) == ["verify"]
