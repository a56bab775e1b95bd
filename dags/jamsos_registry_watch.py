"""Uploads reach the registry asset: `jamsos_registry_watch`, every 15 minutes.

An upload through the API or the dashboard changes the registry outside Airflow, so no task
updated the registry asset for it. This DAG asks the gateway's registry whether a run outside
Airflow succeeded since the watch's last successful run (`gateway.orchestration.uploads`) and,
if so, updates the asset: the report, the budget check and the deliveries then run as after a
sync. Without news the task is skipped and nothing downstream runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Asset, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from gateway.orchestration import START_DATE, task_defaults
from gateway.orchestration.plan import REGISTRY_ASSET, REGISTRY_ASSET_URI
from gateway.orchestration.uploads import WATCH_DAG_ID, WATCH_SCHEDULE


@dag(
    dag_id=WATCH_DAG_ID,
    description="Uploads outside Airflow update the registry asset (every 15 minutes)",
    schedule=WATCH_SCHEDULE,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={**task_defaults(), "retries": 1},
    tags=["jamsos", "watch"],
    doc_md=__doc__,
)
def jamsos_registry_watch() -> None:
    @task(outlets=[Asset(name=REGISTRY_ASSET, uri=REGISTRY_ASSET_URI)], multiple_outputs=False)
    def uploads() -> dict[str, Any]:
        from gateway.orchestration.uploads import registry_changes

        ctx = get_current_context()
        until = ctx["dag_run"].run_after
        # Since the last successful check; an Airflow down for a day catches up here.
        since = ctx.get("prev_data_interval_end_success") or until - timedelta(minutes=15)
        found = registry_changes(since, until)
        if not found["changed"]:
            raise AirflowSkipException(f"no change outside Airflow since {since.isoformat()}")
        print(f"registry changed outside Airflow: runs {found['runs']} ({found['by_trigger']})")
        return found

    uploads()


jamsos_registry_watch()
