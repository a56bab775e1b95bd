"""Daily report: coverage against targets and the sources that are failing or stale.

Runs when the registry changed (its asset: a sync or an upload; events arriving during a
run are gathered into the next) and every day at 07:00 UTC at the latest.

Reads the gateway's registry only (the runs every trigger records, `jamsos sync` and Airflow
alike), judged as the dashboard and /metrics judge feed health. Feed health and coverage are
separate tasks, so a broken targets file does not hide a failing feed; the report is the last
task's return value (an XCom) and its log. Failing feeds do not fail this DAG: their own sync
DAGs are red already, and /metrics is where alerts come from (docs/operations.md).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException

from gateway.orchestration import START_DATE, task_defaults
from gateway.orchestration.plan import REGISTRY_ASSET, REGISTRY_ASSET_URI

FLOOR = CronTriggerTimetable("0 7 * * *", timezone="UTC")


@dag(
    dag_id="jamsos_daily_report",
    description="Coverage against targets; failing and stale sources (daily)",
    schedule=AssetOrTimeSchedule(
        timetable=FLOOR, assets=Asset(name=REGISTRY_ASSET, uri=REGISTRY_ASSET_URI)
    ),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(),
    tags=["report", "jamsos"],
    doc_md=__doc__,
)
def jamsos_daily_report() -> None:
    @task(multiple_outputs=False)
    def feed_health() -> dict[str, Any]:
        from gateway.orchestration import feed_health
        from gateway.orchestration.plan import UnknownParams, check_params

        try:  # the report takes no params: any is a mistake
            check_params(get_current_context()["dag_run"].conf, set())
        except UnknownParams as exc:
            raise AirflowFailException(str(exc)) from exc

        return feed_health()

    @task(multiple_outputs=False)
    def coverage() -> dict[str, Any]:
        from gateway.orchestration import coverage_report

        return coverage_report()

    @task(multiple_outputs=False)
    def report(feeds: dict[str, Any], cover: dict[str, Any]) -> dict[str, Any]:
        print(f"feeds: {feeds['counts']}; enrolled: {cover['enrolled_total']}")
        for item in feeds["attention"]:
            print(
                f"{item['health']:<8} {item['agency']:<10} {item['source']:<24} last run "
                f"{item['last_run_id']} {item['last_status']}: {item['last_error'] or ''}"
            )
        return {"feeds": feeds, "coverage": cover}

    report(feed_health(), coverage())


jamsos_daily_report()
