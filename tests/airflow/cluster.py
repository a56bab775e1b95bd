"""A real Airflow 3 deployment on one machine, for the real-scheduler test and the burst bench:
PostgreSQL metadata DB (tests/pg.py), LocalExecutor, and the scheduler, DAG processor and API
server as separate processes, as docs/operations.md deploys them. Driven over the REST API.

    with AirflowCluster(root, pg, registry_url=..., sources=...) as af:
        run_id = af.trigger("jamsos_sync_roster-19.71")
        af.wait(dag_id, run_id)  # the run's final state

Every port is a free loopback port; no component listens beyond 127.0.0.1 (the scheduler's
log server is off: LocalExecutor's logs are files the API server reads itself).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.pg import PostgresServer

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FINISHED = {"success", "failed"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(pg: PostgresServer, name: str) -> str:
    import psycopg

    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return pg.url(name)


class AirflowError(RuntimeError):
    pass


class AirflowCluster:
    def __init__(
        self,
        root: Path,
        pg: PostgresServer,
        *,
        registry_url: str,
        sources: Path,
        instance: Path,
        env: dict[str, str] | None = None,
        parallelism: int = 8,
        pool_slots: int | None = 4,
    ) -> None:
        self.root = root
        self.home = root / "airflow"
        self.home.mkdir(parents=True, exist_ok=True)
        self.pg = pg
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.pool_slots = pool_slots
        self.metadata_db = f"airflow_{self.port}"
        metadata = create_database(pg, self.metadata_db)
        # psycopg 3 for both: Airflow derives no async URL from a psycopg one by itself.
        sync_url = metadata.replace("postgresql://", "postgresql+psycopg://", 1)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("JAMSOS_", "AIRFLOW"))}
        self.env = {
            **base,
            "PATH": f"{BIN}:{base.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sync_url,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": sync_url,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API_AUTH__JWT_SECRET": "jamsos-test-only-secret",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            # Seconds, not minutes: a test waits for the scheduler's loops.
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "JAMSOS_DATABASE_URL": registry_url,
            "JAMSOS_INSTANCE_PATH": str(instance),
            "JAMSOS_SOURCES_FILE": str(sources),
            "JAMSOS_CONFIG_FILE": "",
            "JAMSOS_TARGETS_FILE": str(REPO / "config" / "targets.toml"),
            "JAMSOS_RATES_DIR": str(REPO / "config" / "rates"),
            "JAMSOS_AIRFLOW_RETRY_DELAY_SECONDS": "1",
            **(env or {}),
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.timings: dict[str, float] = {}

    # -- processes --------------------------------------------------------------------------
    def airflow(self, *args: str, timeout: float = 300) -> None:
        log = self.root / f"airflow-{args[0]}-{args[1] if len(args) > 1 else ''}.log"
        with open(log, "w") as out:
            done = subprocess.run(
                [str(BIN / "airflow"), *args],
                env=self.env,
                cwd=self.root,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        if done.returncode:
            raise AirflowError(f"airflow {' '.join(args)}: {log.read_text()[-4000:]}")

    def _spawn(self, name: str, *args: str) -> None:
        out = open(self.root / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        self.procs[name] = subprocess.Popen(
            [str(BIN / "airflow"), *args],
            env=self.env,
            cwd=self.root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its task processes die with it (killpg in stop())
        )

    def start(self) -> AirflowCluster:
        started = time.perf_counter()
        self.airflow("db", "migrate")
        self.timings["migrate"] = time.perf_counter() - started
        self._spawn("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.port))
        self._spawn("dag-processor", "dag-processor")
        self._spawn("scheduler", "scheduler", "--skip-serve-logs")
        self._wait_api()
        if self.pool_slots is not None:
            from gateway.orchestration.plan import DEFAULT_POOL

            self.request("POST", "/api/v2/pools", {"name": DEFAULT_POOL, "slots": self.pool_slots})
        self.timings["ready"] = time.perf_counter() - started
        return self

    def _wait_api(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=5):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise AirflowError(f"API server not up after {timeout} s: {self.log('api-server')}")

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AirflowError(f"{name} exited {proc.returncode}: {self.log(name)}")

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            if proc.stdout:
                proc.stdout.close()

    def __enter__(self) -> AirflowCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the REST API -----------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read()
        except urllib.error.HTTPError as exc:
            raise AirflowError(f"{method} {path}: {exc.code} {exc.read()[:2000]!r}") from exc
        return json.loads(text) if text else None

    def wait_dags(self, dag_ids: list[str], timeout: float = 120) -> None:
        """Until the DAG processor has serialized every one of `dag_ids`."""
        deadline = time.monotonic() + timeout
        missing = set(dag_ids)
        while missing and time.monotonic() < deadline:
            self._check_alive()
            for dag_id in sorted(missing):
                try:
                    self.request("GET", f"/api/v2/dags/{dag_id}/details")
                    missing.discard(dag_id)
                except AirflowError:
                    pass
            if missing:
                time.sleep(1)
        if missing:
            errors = self.request("GET", "/api/v2/importErrors")
            raise AirflowError(f"DAGs not parsed in {timeout} s: {sorted(missing)}; {errors}")

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        body = {"logical_date": None, "conf": conf or {}}
        return self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]

    def tasks(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        found = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return {t["task_id"]: t for t in found["task_instances"] if t["map_index"] < 1}

    def wait(self, dag_id: str, run_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            run = self.run(dag_id, run_id)
            if run["state"] in FINISHED:
                return run
            time.sleep(0.5)
        raise AirflowError(
            f"{dag_id} {run_id} not finished in {timeout} s: {self.run(dag_id, run_id)}"
        )

    def set_task_state(self, dag_id: str, run_id: str, task_id: str, state: str) -> None:
        self.request(
            "PATCH",
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}",
            {"new_state": state},
        )
