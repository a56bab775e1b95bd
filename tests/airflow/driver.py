"""Runs the real Airflow 3 on the project's dags/ in a process of its own, for the tests.

    python tests/airflow/driver.py PLAN.json RESULT.json

Airflow configures logging, its ORM and its settings at import time from the environment
(AIRFLOW_HOME, AIRFLOW__CORE__DAGS_FOLDER): a process of its own keeps that away from the
rest of the suite. One process for every DAG of a test module, because building Airflow's
in-process execution API costs ~12 s of CPU once per process.

The plan: {"inspect": true, "runs": [{"dag_id": ..., "conf": {...}, "env": {...}}, ...]}.
`inspect` describes every DAG as parsed with the environment as given (and times the parse);
each run sets its `env`, parses the folder again and runs the DAG once with `dag.test()`.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _text(state: Any) -> str | None:
    """A state as text (Airflow's state enums are str subclasses; None stays None)."""
    return None if state is None else str(getattr(state, "value", state))


def asset_names(condition: Any) -> list[str]:
    """The names of the assets in a condition (`a | b`, `a & b`, or one asset)."""
    parts = getattr(condition, "objects", None)
    if parts is None:
        return [condition.name]
    return sorted(name for part in parts for name in asset_names(part))


def describe(dag: Any) -> dict[str, Any]:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    timetable = dag.timetable
    # An asset-or-time schedule: the clock floor is its inner timetable.
    clock = getattr(timetable, "timetable", timetable)
    assets = getattr(timetable, "asset_condition", None)
    deadlines = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
    return {
        "dag_id": dag.dag_id,
        "timetable": type(timetable).__name__,
        "schedule": getattr(clock, "expression", None),
        "timezone": str(getattr(clock, "timezone", "")),
        "assets": asset_names(assets) if assets else [],
        "deadlines": [
            {
                "interval": _seconds(d.interval),
                "callback": d.callback.path,
                "kwargs": d.callback.kwargs,
            }
            for d in deadlines
            if d is not None
        ],
        "tags": sorted(dag.tags),
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "params": sorted(dag.params.keys()),
        "tasks": {
            t.task_id: {
                "upstream": sorted(t.upstream_task_ids),
                "downstream": sorted(t.downstream_task_ids),
                "retries": t.retries,
                "retry_delay": _seconds(t.retry_delay),
                "retry_exponential_backoff": t.retry_exponential_backoff,
                "max_retry_delay": _seconds(t.max_retry_delay),
                "execution_timeout": _seconds(t.execution_timeout),
                "mapped": isinstance(t, MappedOperator),
                "pool": t.pool,
                "outlets": sorted(a.name for a in t.outlets),
                "on_failure": [type(c).__name__ for c in (t.on_failure_callback or [])],
            }
            for t in dag.tasks
        },
    }


@contextmanager
def no_network() -> Iterator[list[str]]:
    """Parsing the DAGs must not touch the network: record (and refuse) any connect."""
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(repr(address))
        raise OSError("network access while parsing DAGs")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        yield attempts
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]


def load_bag(dags_folder: str) -> tuple[Any, float]:
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dags_folder)
    return bag, time.perf_counter() - started


def run_dag(dag: Any, conf: dict[str, Any] | None) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    started = time.perf_counter()
    dr = dag.test(run_conf=conf or None)
    seconds = time.perf_counter() - started
    with create_session() as session:
        tis = dr.get_task_instances(session=session)
        tasks = [
            {
                "task_id": ti.task_id,
                "map_index": ti.map_index,
                "state": _text(ti.state),
                "try_number": ti.try_number,
            }
            for ti in tis
        ]
        xcoms: dict[str, Any] = {}
        for x in session.query(XComModel).filter(
            XComModel.dag_id == dr.dag_id,
            XComModel.run_id == dr.run_id,
            XComModel.key == "return_value",
        ):
            value = x.value
            key = x.task_id if x.map_index < 0 else f"{x.task_id}[{x.map_index}]"
            xcoms[key] = json.loads(value) if isinstance(value, str) else value
    return {
        "dag_id": dr.dag_id,
        "run_id": dr.run_id,
        "state": _text(dr.state),
        "seconds": round(seconds, 2),
        "tasks": tasks,
        "xcoms": xcoms,
    }


def main() -> None:
    plan_path, result_path = sys.argv[1], sys.argv[2]
    with open(plan_path, encoding="utf-8") as fh:
        plan = json.load(fh)
    dags_folder = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    result: dict[str, Any] = {}

    started = time.perf_counter()
    import airflow.sdk  # noqa: F401  (the DAG processor has Airflow imported already)

    result["airflow_import_seconds"] = round(time.perf_counter() - started, 2)
    if plan.get("inspect"):
        with no_network() as attempts:
            bag, seconds = load_bag(dags_folder)
        result["dagbag_seconds"] = round(seconds, 4)
        result["file_seconds"] = {
            os.path.basename(str(s.file)): _seconds(s.duration) for s in bag.dagbag_stats
        }
        result["network_attempts"] = attempts
        instance = os.environ.get("JAMSOS_INSTANCE_PATH", "")
        result["instance_files_after_parse"] = (
            sorted(os.listdir(instance)) if os.path.isdir(instance) else []
        )
        result["import_errors"] = {str(k): str(v) for k, v in bag.import_errors.items()}
        result["dags"] = {dag_id: describe(dag) for dag_id, dag in bag.dags.items()}
    if plan.get("runs"):
        from airflow.utils import db

        started = time.perf_counter()
        db.upgradedb()
        result["migrate_seconds"] = round(time.perf_counter() - started, 2)
        result["runs"] = []
        for step in plan["runs"]:
            saved = dict(os.environ)
            # dag.test() of Airflow 3.3 fails on a DAG with a deadline alert (the scheduler
            # does not): the runs go without; `inspect` above saw the deadlines.
            os.environ.update({"JAMSOS_AIRFLOW_DEADLINE_MINUTES": "0", **step.get("env", {})})
            try:
                bag, _ = load_bag(dags_folder)
                if step["dag_id"] not in bag.dags:
                    raise SystemExit(f"DAG {step['dag_id']} not found: {bag.import_errors}")
                result["runs"].append(run_dag(bag.dags[step["dag_id"]], step.get("conf")))
            finally:
                os.environ.clear()
                os.environ.update(saved)
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
