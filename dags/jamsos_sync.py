"""One sync DAG per configured source: `jamsos_sync_<source id>`.

Generated from the plugin registry (entry points and class attributes, see
`gateway.orchestration.sync_specs`): installing a plugin or adding a `[sources.<id>]` table
to the sources file makes a new DAG appear, with the source's own cron schedule, without
editing this folder. The task calls `gateway.orchestration.run_sync`, the same path as
`jamsos sync SOURCE`; no network, key or database is touched while this file is parsed.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, get_current_context, get_parsing_context, task
from airflow.sdk.exceptions import AirflowFailException

from gateway.orchestration import START_DATE, SyncSpec, sync_specs, task_defaults


def build_sync_dag(spec: SyncSpec) -> Any:
    @dag(
        dag_id=spec.dag_id,
        description=f"{spec.title} ({spec.agency})",
        schedule=spec.schedule,
        start_date=START_DATE,
        catchup=False,  # a missed night is made up by the next run, not by replaying it
        max_active_runs=1,  # two syncs of one source would race for its cursor
        default_args=task_defaults(),
        tags=[spec.agency, "jamsos", "sync"],
        doc_md=__doc__,
    )
    def sync_dag() -> None:
        # One XCom: a dict return would otherwise be pushed once per key as well.
        @task(task_id="sync", multiple_outputs=False)
        def sync(source_id: str) -> dict[str, Any]:
            from gateway.orchestration import SyncRejected, run_sync

            ctx = get_current_context()
            external_id = f"{ctx['dag'].dag_id}/{ctx['run_id']}"
            try:
                return run_sync(source_id, trigger="airflow", external_id=external_id)
            except SyncRejected as exc:
                # Bad data stays bad on a retry: fail now, the agency has to correct it.
                raise AirflowFailException(str(exc)) from exc

        sync(spec.source_id)

    return sync_dag()


# A worker running one task asks for one DAG: build only that one (Airflow's parsing context).
_wanted = get_parsing_context().dag_id
for _spec in sync_specs():
    if _wanted is None or _wanted == _spec.dag_id:
        globals()[_spec.dag_id] = build_sync_dag(_spec)
