"""How the DAGs share the registry: the writers' pool, the assets, the deadline of a late
feed and the check of a run's params (the spread schedule is gateway/domain/schedules.py:
the feeds' health reads it too). Plain values, no Airflow import: the
files in `dags/` turn them into Airflow objects, and tests read them without Airflow.

Every knob is an environment variable of the DAG processor and the workers (set the same on
both, as the retry policy's): docs/operations.md, "Load control".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The pool every task that writes the registry runs in: syncs, the budget feed, deliveries.
# Airflow does not create pools from DAG files; `deploy/airflow-init.sh` (and `make airflow`)
# run `airflow pools set` with the size below before the scheduler starts.
POOL_ENV = "JAMSOS_AIRFLOW_POOL"
POOL_SLOTS_ENV = "JAMSOS_AIRFLOW_POOL_SLOTS"
DEFAULT_POOL = "jamsos_registry_writers"
# Each writer holds a registry connection or two; four keep a PostgreSQL registry with
# max_connections=100 far from its limit beside the gateway's web processes (sizing:
# docs/operations.md, "Load control"; measured in docs/benchmarks.md).
DEFAULT_POOL_SLOTS = 4

# A scheduled sync still unfinished this long after its scheduled time raises a "late feed"
# alert (Airflow's deadline alert). Three tries with their backoff take up to ~75 minutes.
# 0 turns the deadline off: Airflow 3.3's `dag.test()` / `airflow dags test` fails on a DAG
# with a deadline alert (the scheduler is fine), so set 0 where DAGs are run that way.
DEADLINE_ENV = "JAMSOS_AIRFLOW_DEADLINE_MINUTES"
DEFAULT_DEADLINE_MINUTES = 180

# The assets: a sync or an upload changed the registry's rosters; the SIPD feed changed the
# budgets. The budget check, the report and the deliveries are scheduled on them.
REGISTRY_ASSET = "jamsos_registry"
REGISTRY_ASSET_URI = "jamsos://registry/rosters"
BUDGET_ASSET = "jamsos_budget_feed"
BUDGET_ASSET_URI = "jamsos://registry/budgets"


@dataclass(frozen=True)
class Pool:
    name: str
    slots: int


def _whole(name: str, default: int, minimum: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from exc
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


def registry_pool() -> Pool:
    """The registry writers' pool: its name and size from the environment."""
    name = os.environ.get(POOL_ENV) or DEFAULT_POOL
    return Pool(name, _whole(POOL_SLOTS_ENV, DEFAULT_POOL_SLOTS, 1))


def deadline_minutes() -> int:
    """Minutes after its scheduled time a sync is late; 0: no deadline alert."""
    return _whole(DEADLINE_ENV, DEFAULT_DEADLINE_MINUTES, 0)


def publishes(kind: str) -> str:
    """The asset a source of this kind changes: rosters (the registry asset), the SIPD
    budgets, or for any other kind (BPJS's reconciliation feeds) an asset of its own,
    `jamsos_<kind>`, which nothing in dags/ waits for: a deployment may."""
    if kind == "roster":
        return REGISTRY_ASSET
    if kind == "budget":
        return BUDGET_ASSET
    return f"jamsos_{kind}"


def asset_uri(name: str) -> str:
    """The URI of an asset `publishes` names."""
    known = {REGISTRY_ASSET: REGISTRY_ASSET_URI, BUDGET_ASSET: BUDGET_ASSET_URI}
    return known.get(name) or f"jamsos://registry/{name.removeprefix('jamsos_')}"


def changed_registry(summary: Mapping[str, Any]) -> bool:
    """Whether a sync's summary says the registry changed (an asset event is due)."""
    if summary.get("status") != "succeeded":
        return False
    changes = summary.get("changes")
    if isinstance(changes, Mapping) and changes:
        # new / changed / ended; "unchanged" rows are no change.
        return any(int(v or 0) for k, v in changes.items() if k != "unchanged")
    return bool(summary.get("accepted", 1))


class UnknownParams(ValueError):
    """A run was triggered with a param its DAG does not have: most often a misspelling
    (`fiscal_yaer`), which Airflow itself would accept and ignore."""


def check_params(conf: Mapping[str, Any] | None, known: set[str] | frozenset[str]) -> None:
    """Refuse a run's conf naming params the DAG does not have, before anything is done."""
    unknown = sorted(set(conf or {}) - set(known))
    if unknown:
        expected = ", ".join(sorted(known)) or "-"
        raise UnknownParams(
            f"parameter tidak dikenal / unknown parameter: {', '.join(unknown)}; "
            f"yang dikenal / known: {expected}"
        )
