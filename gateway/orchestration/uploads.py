"""Uploads reach the Airflow assets: the watch DAG's question to the registry.

An upload (API or dashboard) happens outside Airflow, so no task publishes its change. The
`jamsos_registry_watch` DAG asks every few minutes whether a run outside Airflow changed the
registry since its last successful check, and if so updates the registry asset for everything
scheduled on it (the report, the budget check, the deliveries). No Airflow URL or credential
is needed on the gateway's side, and an Airflow that was down catches up on its next check.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

WATCH_DAG_ID = "jamsos_registry_watch"
WATCH_SCHEDULE = "*/15 * * * *"
# A run that started this long before the window cannot end inside it (the stale-run sweep
# has ended it already): how far back the pages of runs are read.
_LONGEST_RUN = timedelta(hours=6)
_PAGE = 200


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value


def registry_changes(
    since: datetime, until: datetime, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Runs outside Airflow that succeeded and finished in [since, until): their ids, by trigger.

    Runs started by Airflow are left out: their own DAGs updated the assets already.
    """
    from gateway.orchestration import open_gateway

    found: list[dict[str, Any]] = []
    with open_gateway(overrides) as gw:
        before: int | None = None
        while True:
            page = gw.registry.list_runs(limit=_PAGE, before_id=before)
            for run in page:
                finished = _aware(run.get("finished_at"))
                if (
                    run["trigger"] != "airflow"
                    and run["status"] == "succeeded"
                    and finished is not None
                    and since <= finished < until
                ):
                    found.append(run)
            started = _aware(page[-1].get("started_at")) if page else None
            if len(page) < _PAGE or started is None or started < since - _LONGEST_RUN:
                break
            before = page[-1]["id"]
    by_trigger: dict[str, int] = {}
    for run in found:
        by_trigger[run["trigger"]] = by_trigger.get(run["trigger"], 0) + 1
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "changed": bool(found),
        "runs": sorted(r["id"] for r in found),
        "by_trigger": by_trigger,
    }
