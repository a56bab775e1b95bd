"""Budget-allocation check of every regional government: `jamsos_budget_check`.

Runs when its inputs changed: the SIPD budget feed (the budgets asset) or the rosters (the
registry asset: a sync or an upload changed it); and on the 2nd of each month at the latest.
Events that arrive while a check runs are gathered into the next one, so a night of 514
regional syncs ends with a check that saw them all. The fiscal year's obligation of every
government with enrolled workers or an allocation is compared with its allocation, one
mapped task per government so one failure is retried alone. A shortfall is a finding shown
in the summary and on the dashboard, not a task failure. Trigger with `{"fiscal_year": 2026}`
to check another year; a param it does not know (`fiscal_yaer`) fails the run at once.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException

from gateway.orchestration import START_DATE, task_defaults
from gateway.orchestration.plan import (
    BUDGET_ASSET,
    BUDGET_ASSET_URI,
    REGISTRY_ASSET,
    REGISTRY_ASSET_URI,
)

PARAMS = {"fiscal_year": Param(None, type=["null", "integer"], description="default: now")}
# The monthly floor: the 2nd, after the SIPD budget feed of the 1st.
FLOOR = CronTriggerTimetable("0 6 2 * *", timezone="UTC")
INPUTS = Asset(name=BUDGET_ASSET, uri=BUDGET_ASSET_URI) | Asset(
    name=REGISTRY_ASSET, uri=REGISTRY_ASSET_URI
)


def _fiscal_year() -> int:
    ctx = get_current_context()
    chosen = ctx["params"].get("fiscal_year")
    if chosen:
        return int(chosen)
    # The year the run happens in (logical_date is None for a manually triggered run).
    when = ctx.get("logical_date") or ctx["dag_run"].run_after
    return int(when.year)


@dag(
    dag_id="jamsos_budget_check",
    description="Budget-allocation check of every regional government (monthly)",
    schedule=AssetOrTimeSchedule(timetable=FLOOR, assets=INPUTS),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(),
    tags=["budget", "jamsos"],
    params=PARAMS,
    doc_md=__doc__,
)
def jamsos_budget_check() -> None:
    @task
    def governments() -> list[str]:
        from gateway.orchestration import budget_governments
        from gateway.orchestration.plan import UnknownParams, check_params

        try:
            check_params(get_current_context()["dag_run"].conf, set(PARAMS))
        except UnknownParams as exc:
            raise AirflowFailException(str(exc)) from exc
        return budget_governments(_fiscal_year())

    @task(map_index_template="{{ government }}", multiple_outputs=False)
    def check(government: str) -> dict[str, Any]:
        from gateway.orchestration import NotRetryable, run_budget_check

        try:
            return run_budget_check(government, _fiscal_year())
        except NotRetryable as exc:
            # The rate tables do not cover the year: no retry can change that, and retrying
            # held back the corrected run behind it (max_active_runs=1) for half an hour.
            raise AirflowFailException(str(exc)) from exc

    @task(multiple_outputs=False)
    def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
        from gateway.orchestration import summarize_budget

        summary = summarize_budget(list(results))
        for item in summary["attention"]:
            gap = f"{item['gap']:,}".replace(",", ".")
            print(f"{item['status']:<10} {item['government']:<6} {item['name']}: gap Rp {gap}")
        return summary

    summarize(check.expand(government=governments()))


jamsos_budget_check()
