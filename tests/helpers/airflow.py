"""The Airflow site the DAG tests drive: an AIRFLOW_HOME and a gateway instance, and the
driver process (tests/airflow/driver.py) that runs the real Airflow 3 on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.app import Gateway
from gateway.config import load_config

REPO = Path(__file__).resolve().parents[2]
DRIVER = REPO / "tests" / "airflow" / "driver.py"
DRIVER_TIMEOUT = 600

# A regency configured only in the sources file: its DAG must appear without editing dags/.
EXTRA_SOURCE = "roster-15.05"


@dataclass
class AirflowSite:
    """An AIRFLOW_HOME with its SQLite metadata DB, and a gateway instance the DAGs write to."""

    root: Path
    home: Path
    instance: Path
    sources: Path

    def env(self) -> dict[str, str]:
        # Nothing of the test process's own JAMSOS_/AIRFLOW_ settings leaks into the workers.
        base = {k: v for k, v in os.environ.items() if not k.startswith(("JAMSOS_", "AIRFLOW"))}
        return {
            **base,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "JAMSOS_INSTANCE_PATH": str(self.instance),
            "JAMSOS_SOURCES_FILE": str(self.sources),
            # Written by the Airflow tests' conftest: the destinations that get delivery DAGs.
            "JAMSOS_DESTINATIONS_FILE": str(self.root / "destinations.toml"),
            "JAMSOS_TARGETS_FILE": str(REPO / "config" / "targets.toml"),
            "JAMSOS_CONFIG_FILE": "",
        }

    def drive(self, plan: dict[str, Any]) -> dict[str, Any]:
        """Run driver.py with `plan`; its result, with the wall time it took."""
        plan_file = self.root / f"plan-{time.monotonic_ns()}.json"
        result_file = plan_file.with_suffix(".result.json")
        plan_file.write_text(json.dumps(plan))
        log = plan_file.with_suffix(".log")
        started = time.perf_counter()
        with open(log, "w") as out:
            # cwd outside the checkout: a worker's working directory is not the project's.
            done = subprocess.run(
                [sys.executable, str(DRIVER), str(plan_file), str(result_file)],
                cwd=self.root,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=DRIVER_TIMEOUT,
            )
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-6000:]
            pytest.fail(f"Airflow driver failed ({done.returncode}):\n{tail}")
        result = json.loads(result_file.read_text())
        result["wall_seconds"] = round(time.perf_counter() - started, 1)
        result["log"] = str(log)
        return result

    def gateway(self) -> Gateway:
        return Gateway(load_config({"INSTANCE_PATH": str(self.instance), "CONFIG_FILE": None}))
