"""Reconciliation with BPJS's facts: `jamsos_reconcile`.

Runs when BPJS's facts changed (a membership list, bills or payments synced: the assets their
sync DAGs publish) and on the 17th of each month at the latest, after the 15th's due date.
Saves the three coverage figures and each NPP's arrears for /metrics and raises the alerts
(bills overdue, a wadah's lapse coming, registered-but-not-covered rising) through the
gateway's alert hook (docs/reconcile.md). No network, key or database is touched while this
file is parsed.
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
from gateway.orchestration.reconcile import RECONCILE_FLOOR, reconcile_assets

_assets = [Asset(name=name, uri=uri) for name, uri in reconcile_assets()]
INPUTS = _assets[0] | _assets[1] | _assets[2]


@dag(
    dag_id="jamsos_reconcile",
    description="Reconciliation with BPJS: coverage figures, arrears, alerts",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable(RECONCILE_FLOOR, timezone="UTC"),
                                 assets=INPUTS),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(),
    tags=["reconcile", "jamsos"],
    doc_md=__doc__,
)
def jamsos_reconcile() -> None:
    @task(multiple_outputs=False)
    def reconcile() -> dict[str, Any]:
        from gateway.orchestration.plan import UnknownParams, check_params
        from gateway.orchestration.reconcile import run_reconcile

        try:
            check_params(get_current_context()["dag_run"].conf, set())
        except UnknownParams as exc:
            raise AirflowFailException(str(exc)) from exc
        return run_reconcile()

    reconcile()


jamsos_reconcile()
