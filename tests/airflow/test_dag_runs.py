"""Each DAG run once end to end by the real Airflow 3 (`dag.test()`), against the demo SOAP
service and demo files; the effect checked in the gateway's registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.app import Gateway
from gateway.orchestration import run_budget_check
from tests.helpers.airflow import EXTRA_SOURCE, AirflowSite

pytestmark = pytest.mark.slow

SYNC_ORDER = ["kemenkes-ppnpn", "kemendes-pendamping", "roster-19.71", "apbd-sipd"]


@pytest.fixture(scope="module")
def gw(airflow_site: AirflowSite) -> Iterator[Gateway]:
    gateway = airflow_site.gateway()
    yield gateway
    gateway.engine.dispose()


def runs_of(gw: Gateway, source: str) -> list[dict[str, Any]]:
    return [r for r in reversed(gw.registry.list_runs(limit=500)) if r["source"] == source]


def tasks(run: dict[str, Any], task_id: str) -> list[dict[str, Any]]:
    return [t for t in run["tasks"] if t["task_id"] == task_id]


def test_scheduled_syncs_recorded_in_the_gateway(
    airflow_result: dict[str, Any], gw: Gateway
) -> None:
    for source, run in zip(SYNC_ORDER, airflow_result["runs"][:4], strict=True):
        assert run["dag_id"] == f"jamsos_sync_{source}"
        assert run["state"] == "success", run
        summary = run["xcoms"]["sync"]
        external_id = f"{run['dag_id']}/{run['run_id']}"
        assert summary["status"] == "succeeded"
        assert summary["external_id"] == external_id
        # Compliance staff see the run in the gateway, with who started it.
        record = gw.registry.get_run(summary["run_id"])
        assert record is not None
        assert record["source"] == source
        assert record["trigger"] == "airflow"
        assert record["external_id"] == external_id
        assert record["status"] == "succeeded"
        assert record["accepted"] == summary["accepted"] > 0
    kemenkes = airflow_result["runs"][0]["xcoms"]["sync"]
    assert kemenkes["rows"] == 1200 and kemenkes["changes"]["new"] == kemenkes["accepted"]
    assert gw.registry.get_cursor("kemenkes-ppnpn") is not None
    assert gw.registry.count_active("kemenkes") == kemenkes["accepted"]


def test_soap_service_down_fails_task_and_run(airflow_result: dict[str, Any], gw: Gateway) -> None:
    first, run = airflow_result["runs"][0], airflow_result["runs"][5]
    assert run["dag_id"] == "jamsos_sync_kemenkes-ppnpn"
    assert run["state"] == "failed"
    (sync,) = tasks(run, "sync")
    assert sync["state"] == "failed"
    assert sync["try_number"] == 2  # one retry (JAMSOS_AIRFLOW_RETRIES=1), then failed
    external_id = f"{run['dag_id']}/{run['run_id']}"
    failed = [r for r in runs_of(gw, "kemenkes-ppnpn") if r["external_id"] == external_id]
    # Each try left the failed run record a failed `jamsos sync` leaves, cause included.
    assert [r["status"] for r in failed] == ["failed", "failed"]
    for record in failed:
        assert record["trigger"] == "airflow"
        assert "kemenkes" in record["error"]
        assert record["finished_at"] is not None
    # Nothing moved: the cursor and the enrollments are those of the successful run.
    ok = gw.registry.get_run(first["xcoms"]["sync"]["run_id"])
    assert ok is not None
    assert gw.registry.get_cursor("kemenkes-ppnpn") == ok["cursor_after"]
    assert gw.registry.count_active("kemenkes") == first["xcoms"]["sync"]["accepted"]


def test_rejected_roster_fails_without_retrying(
    airflow_result: dict[str, Any], gw: Gateway
) -> None:
    run = airflow_result["runs"][6]
    assert run["dag_id"] == f"jamsos_sync_{EXTRA_SOURCE}"
    assert run["state"] == "failed"
    (sync,) = tasks(run, "sync")
    assert sync["state"] == "failed"
    assert sync["try_number"] == 1  # retries=2, but the same file would be rejected again
    (record,) = runs_of(gw, EXTRA_SOURCE)
    assert record["status"] == "rejected"
    assert record["trigger"] == "airflow"
    assert record["external_id"] == f"{run['dag_id']}/{run['run_id']}"
    assert gw.registry.count_active("15.05") == 0


def test_budget_check_maps_over_every_government(
    airflow_result: dict[str, Any], airflow_site: AirflowSite, gw: Gateway
) -> None:
    run = airflow_result["runs"][4]
    assert run["dag_id"] == "jamsos_budget_check"
    assert run["state"] == "success", run
    governments = run["xcoms"]["governments"]
    assert "19.71" in governments  # rostered by its sync; others from the SIPD feed
    assert len(governments) > 1
    checks = tasks(run, "check")
    assert sorted(t["map_index"] for t in checks) == list(range(len(governments)))
    assert {t["state"] for t in checks} == {"success"}
    overrides = {"INSTANCE_PATH": str(airflow_site.instance), "CONFIG_FILE": None}
    for i, code in enumerate(governments):
        assert run["xcoms"][f"check[{i}]"] == run_budget_check(code, 2025, overrides)
    summary = run["xcoms"]["summarize"]
    assert summary["governments"] == len(governments)
    assert sum(summary["by_status"].values()) == len(governments)


def test_daily_report_names_failing_sources(airflow_result: dict[str, Any], gw: Gateway) -> None:
    run = airflow_result["runs"][7]
    assert run["dag_id"] == "jamsos_daily_report"
    assert run["state"] == "success", run
    report = run["xcoms"]["report"]
    health = {(a["source"]): a for a in report["feeds"]["attention"]}
    assert health["kemenkes-ppnpn"]["health"] == "failing"
    assert "kemenkes" in health["kemenkes-ppnpn"]["last_error"]
    assert health[EXTRA_SOURCE]["health"] == "failing"
    assert health[EXTRA_SOURCE]["last_status"] == "rejected"
    for source in ("kemendes-pendamping", "roster-19.71"):
        assert source not in health  # synced just now: healthy
    cover = report["coverage"]
    assert cover["enrolled_total"] == gw.registry.count_active()
    agencies = {r["code"]: r for r in cover["agencies"]}
    assert agencies["kemendes"]["target"] == 200_000
    assert agencies["kemenkes"]["enrolled"] == gw.registry.count_active("kemenkes")


def test_failure_after_last_retry_raises_one_alert(
    airflow_result: dict[str, Any], gw: Gateway
) -> None:
    """Airflow's failure callback, called once after the last try (and at once for a rejected
    roster), raised the gateway's sync_failed alert, keyed by the gateway's run."""
    from gateway.store import alerts as stored

    failed = {a["details"]["source"]: a for a in stored.recent(gw.engine, 100)
              if a["kind"] == "sync_failed"}  # fmt: skip
    soap, rejected = airflow_result["runs"][5], airflow_result["runs"][6]
    for source, run in (("kemenkes-ppnpn", soap), (EXTRA_SOURCE, rejected)):
        alert = failed[source]
        last = [
            r for r in runs_of(gw, source) if r["external_id"] == f"{run['dag_id']}/{run['run_id']}"
        ][-1]
        assert alert["key"] == f"sync_failed:run:{last['id']}"
        assert alert["details"]["run_id"] == run["run_id"]
        assert alert["times"] == 1  # not once per try
    assert failed["kemenkes-ppnpn"]["agency"] == "kemenkes"
    assert failed[EXTRA_SOURCE]["agency"] == "15.05"


def test_registry_watch_ignores_airflows_own_runs(airflow_result: dict[str, Any]) -> None:
    run = airflow_result["runs"][8]
    assert run["dag_id"] == "jamsos_registry_watch"
    assert run["state"] == "success"
    # Skipped: no asset event, so nothing downstream runs again for the syncs' own changes.
    assert [t["state"] for t in tasks(run, "uploads")] == ["skipped"]


def test_delivery_dag_records_its_delivery(airflow_result: dict[str, Any], gw: Gateway) -> None:
    from gateway.store.outbox import get_delivery

    run = airflow_result["runs"][9]
    assert run["dag_id"] == "jamsos_deliver_bpjs-sipp"
    assert run["state"] == "success", run
    summary = run["xcoms"]["deliver"]
    assert summary["status"] == "succeeded"
    assert summary["external_id"] == f"{run['dag_id']}/{run['run_id']}"
    record = get_delivery(gw.engine, summary["delivery_id"])
    assert record is not None
    assert record["trigger"] == "airflow"
    assert record["external_id"] == summary["external_id"]
    assert record["status"] == "succeeded"


def test_reconcile_dag_saves_the_figures_for_metrics(airflow_result: dict[str, Any],
                                                     gw: Gateway) -> None:  # fmt: skip
    from gateway.store.reconcile import last_figures

    run = airflow_result["runs"][10]
    assert run["dag_id"] == "jamsos_reconcile"
    assert run["state"] == "success", run
    summary = run["xcoms"]["reconcile"]
    assert set(summary["differences"]) == {"not_registered", "ended_still_registered",
                                           "other_employer", "wage_differs", "not_on_roster"}
    saved = last_figures(gw.engine)
    assert saved is not None and saved["today"] == summary["today"]
    assert sum(f["rostered"] for f in saved["agencies"].values()) > 0


def test_verify_dag_without_a_provider_does_nothing_and_succeeds(
        airflow_result: dict[str, Any]) -> None:  # fmt: skip
    run = airflow_result["runs"][11]
    assert run["dag_id"] == "jamsos_verify" and run["state"] == "success", run
    summary = run["xcoms"]["verify"]
    assert summary["off"] is True and "verification" in summary["reason"].lower()
