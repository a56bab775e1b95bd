"""Identity verification against the population registry (Dukcapil): `jamsos_verify`.

Runs when the registry changed (a sync, or an upload seen by `jamsos_registry_watch`: the
registry asset) and daily at 00:10 WIB, when a pass the daily quota or the access hours
paused resumes where it stopped (docs/verification.md). Verification not configured is a
pass that does nothing. No network, key or database is touched while this file is parsed.
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
from gateway.orchestration.verify import VERIFY_FLOOR


@dag(
    dag_id="jamsos_verify",
    description="Identity verification against Dukcapil (registry changes, daily resume)",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable(VERIFY_FLOOR, timezone="UTC"),
                                 assets=Asset(name=REGISTRY_ASSET, uri=REGISTRY_ASSET_URI)),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,  # a pass of its own at a time (the gateway's lease holds it anyway)
    default_args=task_defaults(),
    tags=["verify", "jamsos"],
    doc_md=__doc__,
)
def jamsos_verify() -> None:
    @task(multiple_outputs=False)
    def verify() -> dict[str, Any]:
        from gateway.orchestration.plan import UnknownParams, check_params
        from gateway.orchestration.verify import run_verify

        try:
            check_params(get_current_context()["dag_run"].conf, set())
        except UnknownParams as exc:
            raise AirflowFailException(str(exc)) from exc
        return run_verify()

    verify()


jamsos_verify()
