"""One delivery DAG per configured destination: `jamsos_deliver_<destination id>`.

Generated from the plugins as the sync DAGs are (`gateway.orchestration.delivery.delivery_ids`):
a destination a plugin registers and the destinations file configures (a `[destinations.<id>]`
table) is a DAG at the next parse; a registered one nobody configured gets none. It runs
when the registry changed (the registry asset: a sync, or an upload seen by
`jamsos_registry_watch`; events arriving during a delivery are gathered into the next) and
on the monthly cut-off, the 1st at 08:00 UTC, at the latest. The task writes the registry (what
was sent, the answers), so it runs in the registry writers' pool; a failure after the last
retry raises a gateway alert. No network, key or database is touched while this file is parsed.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    dag,
    get_current_context,
    get_parsing_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException

from gateway.orchestration import START_DATE, task_defaults
from gateway.orchestration.alerting import DeliveryFailureAlert
from gateway.orchestration.delivery import DELIVERY_DAG_PREFIX, DELIVERY_FLOOR, delivery_ids
from gateway.orchestration.plan import REGISTRY_ASSET, REGISTRY_ASSET_URI, registry_pool

REGISTRY = Asset(name=REGISTRY_ASSET, uri=REGISTRY_ASSET_URI)


def build_delivery_dag(destination_id: str, pool: str) -> Any:
    @dag(
        dag_id=f"{DELIVERY_DAG_PREFIX}{destination_id}",
        description=f"Delivery to {destination_id}",
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(DELIVERY_FLOOR, timezone="UTC"), assets=REGISTRY
        ),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # two deliveries to one destination would send the same changes
        default_args=task_defaults(),
        tags=["delivery", "jamsos", destination_id],
        doc_md=__doc__,
    )
    def delivery_dag() -> None:
        @task(
            task_id="deliver",
            multiple_outputs=False,
            pool=pool,
            on_failure_callback=DeliveryFailureAlert(destination_id, "bpjs"),
        )
        def deliver(destination: str) -> dict[str, Any]:
            from gateway.orchestration.delivery import run_delivery
            from gateway.orchestration.plan import UnknownParams, check_params

            ctx = get_current_context()
            try:
                check_params(ctx["dag_run"].conf, set())
            except UnknownParams as exc:
                raise AirflowFailException(str(exc)) from exc
            external_id = f"{ctx['dag'].dag_id}/{ctx['run_id']}"
            # DeliveryFailed (failed, or refused while another delivery held the employers)
            # is recorded already and retried; the failure callback alerts after the last try.
            return run_delivery(destination, external_id=external_id)

        deliver(destination_id)

    return delivery_dag()


_wanted = get_parsing_context().dag_id
_pool = registry_pool().name
for _id in delivery_ids():
    if _wanted is None or _wanted == f"{DELIVERY_DAG_PREFIX}{_id}":
        globals()[f"{DELIVERY_DAG_PREFIX}{_id}"] = build_delivery_dag(_id, _pool)
