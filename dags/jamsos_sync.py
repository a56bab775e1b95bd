"""One sync DAG per configured source: `jamsos_sync_<source id>`.

Generated from the plugin registry (entry points and class attributes, see
`gateway.orchestration.sync_specs`): installing a plugin or adding a `[sources.<id>]` table
to the sources file makes a new DAG appear, with the source's own cron schedule (regional
rosters: a minute of their government's own within a window, `plan.spread_schedule`), without
editing this folder. `sync` calls `gateway.orchestration.run_sync`, the same path as
`jamsos sync SOURCE`, in the registry writers' pool; `publish` updates the source's asset
(rosters or budgets) when the sync changed the registry, and is skipped when it did not. A
sync failed after its last retry, or still unfinished long after its schedule, raises a
gateway alert. No network, key or database is touched while this file is parsed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import (
    Asset,
    DeadlineAlert,
    DeadlineReference,
    Param,
    SyncCallback,
    dag,
    get_current_context,
    get_parsing_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from gateway.orchestration import START_DATE, SyncSpec, sync_specs, task_defaults
from gateway.orchestration.alerting import FEED_LATE, SyncFailureAlert
from gateway.orchestration.plan import asset_uri, deadline_minutes, registry_pool

PARAMS = {"full": Param(False, type="boolean", description="sync everything, not since the cursor")}


def late_feed(spec: SyncSpec, minutes: int) -> DeadlineAlert | None:
    """Late feed: the scheduled run still queued, retrying or hung `minutes` after its
    scheduled time (a manual run has its trigger time as logical date). 0: none."""
    if not minutes:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=timedelta(minutes=minutes),
        callback=SyncCallback(
            FEED_LATE,
            kwargs={"source_id": spec.source_id, "agency": spec.agency, "minutes": minutes},
        ),
    )


def build_sync_dag(spec: SyncSpec, pool: str, late_after: int) -> Any:
    @dag(
        dag_id=spec.dag_id,
        description=f"{spec.title} ({spec.agency})",
        schedule=spec.schedule,
        start_date=START_DATE,
        catchup=False,  # a missed night is made up by the next run, not by replaying it
        max_active_runs=1,  # two syncs of one source would race for its cursor
        default_args=task_defaults(),
        tags=[spec.agency, "jamsos", "sync"],
        params=PARAMS,
        deadline=late_feed(spec, late_after),
        doc_md=__doc__,
    )
    def sync_dag() -> None:
        # One XCom: a dict return would otherwise be pushed once per key as well.
        @task(
            task_id="sync",
            multiple_outputs=False,
            pool=pool,
            on_failure_callback=SyncFailureAlert(spec.source_id, spec.agency),
        )
        def sync(source_id: str) -> dict[str, Any]:
            from gateway.orchestration import SyncRejected, run_sync
            from gateway.orchestration.plan import UnknownParams, check_params

            ctx = get_current_context()
            external_id = f"{ctx['dag'].dag_id}/{ctx['run_id']}"
            try:
                check_params(ctx["dag_run"].conf, set(PARAMS))
                full = bool(ctx["params"].get("full"))
                return run_sync(source_id, trigger="airflow", external_id=external_id, full=full)
            except (SyncRejected, UnknownParams) as exc:
                # Bad data or a misspelt param stay bad on a retry: fail now.
                raise AirflowFailException(str(exc)) from exc

        @task(
            task_id="publish", outlets=[Asset(name=spec.publishes, uri=asset_uri(spec.publishes))]
        )
        def publish(summary: dict[str, Any]) -> None:
            if not summary.get("changed"):
                # Skipped: no asset event, so nothing downstream runs for a night of no news.
                raise AirflowSkipException(f"{summary['source']}: {summary['status']}")
            print(f"{summary['source']}: registry changed (gateway run {summary['run_id']})")

        publish(sync(spec.source_id))

    return sync_dag()


# A worker running one task asks for one DAG: build only that one (Airflow's parsing context).
_wanted = get_parsing_context().dag_id
_pool = registry_pool().name
_late = deadline_minutes()
for _spec in sync_specs():
    if _wanted is None or _wanted == _spec.dag_id:
        globals()[_spec.dag_id] = build_sync_dag(_spec, _pool, _late)
