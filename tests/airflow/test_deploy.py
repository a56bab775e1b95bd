"""The deployments in deploy/, as far as they can be checked without Docker or a cluster: the
files parse, name every component, use the connection strings that work (psycopg 3 for both
of Airflow's URLs), publish ports on loopback only and carry the same load-control settings;
the executors' extras install and load their executor."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPONENTS = {
    "postgres", "redis", "gateway", "airflow-init", "airflow-api-server", "airflow-scheduler",
    "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
}  # fmt: skip


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_names_every_component() -> None:
    services = compose()["services"]
    assert set(services) == COMPONENTS
    airflow = services["airflow-scheduler"]["environment"]
    assert airflow["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert services["airflow-worker"]["command"] == ["airflow", "celery", "worker"]
    assert services["gateway"]["command"][:2] == ["jamsos", "serve"]
    for name in COMPONENTS - {"postgres", "redis"}:
        assert services[name]["image"] == services["gateway"]["image"]  # one image for all
        # Load control, the same on every component that parses or runs the DAGs.
        env = services[name]["environment"]
        assert env["JAMSOS_AIRFLOW_POOL_SLOTS"] == "${JAMSOS_AIRFLOW_POOL_SLOTS:-4}"
        assert env["JAMSOS_SCHEDULE_SPREAD_MINUTES"] == "${JAMSOS_SCHEDULE_SPREAD_MINUTES:-180}"
    # The pool exists before the scheduler starts: airflow-init, which everything waits for.
    assert services["airflow-init"]["command"] == ["airflow-init.sh"]
    assert (
        "deploy/airflow-init.sh /usr/local/bin/airflow-init.sh"
        in (DEPLOY / "Dockerfile").read_text()
    )
    for name in COMPONENTS - {"postgres", "redis", "airflow-init"}:
        assert services[name]["depends_on"] == {
            "airflow-init": {"condition": "service_completed_successfully"}
        }


def test_compose_connection_strings() -> None:
    env = compose()["services"]["airflow-scheduler"]["environment"]
    sync_url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    # psycopg2 is not installed: psycopg 3 for the sync URL and, since Airflow derives none
    # from it, the async URL too.
    assert sync_url.startswith("postgresql+psycopg://airflow:")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == sync_url
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg://")
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    # Secrets are references resolved in the container, never values in the file.
    assert env["JAMSOS_DATABASE_URL"] == "$$file:/run/secrets/jamsos_db_url"


def test_compose_publishes_on_loopback_only() -> None:
    services = compose()["services"]
    published = {name: s.get("ports", []) for name, s in services.items() if s.get("ports")}
    assert set(published) == {"gateway", "airflow-api-server"}  # not the DB, broker, workers
    for ports in published.values():
        for port in ports:
            assert re.fullmatch(r"\$\{[A-Z]+_BIND:-127\.0\.0\.1\}:\$\{[A-Z]+_PORT:-\d+\}:\d+", port)


def test_compose_environment_example_names_every_variable() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    used = set(re.findall(r"\$\{([A-Z_]+)", text))
    example = (DEPLOY / "env.example").read_text()
    given = set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE))
    assert used - {"JAMSOS_IMAGE"} <= given, used - given


def test_kubernetes_manifests_and_helm_values_parse() -> None:
    kinds = [
        d["kind"] for d in yaml.safe_load_all((DEPLOY / "kubernetes/gateway.yaml").read_text())
    ]
    assert kinds == ["ConfigMap", "PersistentVolumeClaim", "Job", "Deployment", "Service"]
    pod = yaml.safe_load((DEPLOY / "kubernetes/pod-template.yaml").read_text())
    assert pod["kind"] == "Pod"
    (base,) = pod["spec"]["containers"]
    assert base["name"] == "base"  # the container name the KubernetesExecutor runs the task in
    pod_env = {e["name"]: e["value"] for e in base["env"]}
    values = yaml.safe_load((DEPLOY / "helm/values.yaml").read_text())
    assert values["executor"] == "KubernetesExecutor"
    assert values["apiServer"]["service"]["type"] == "ClusterIP"
    chart_env = {e["name"]: e.get("value") for e in values["env"]}
    # Load control is the same on the DAG processor (the chart) and the task pods.
    for name in ("JAMSOS_AIRFLOW_POOL_SLOTS", "JAMSOS_SCHEDULE_SPREAD_MINUTES"):
        assert chart_env[name] == pod_env[name]
    assert "pools set" in " ".join(values["migrateDatabaseJob"]["args"])
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes/gateway.yaml").read_text()))
    job = docs[2]["spec"]["template"]["spec"]["containers"][0]
    web = docs[3]["spec"]["template"]["spec"]["containers"][0]
    assert job["env"] == web["env"]
    assert docs[4]["spec"]["type"] == "ClusterIP"


def test_init_script_sizes_the_pool_from_configuration() -> None:
    text = (DEPLOY / "airflow-init.sh").read_text()
    assert 'airflow pools set "$pool" "$slots"' in text
    assert "JAMSOS_AIRFLOW_POOL_SLOTS:-4" in text
    assert os.access(DEPLOY / "airflow-init.sh", os.X_OK)


def test_makefile_airflow_port_is_configurable() -> None:
    text = (REPO / "Makefile").read_text()
    assert "AIRFLOW_PORT ?= 8080" in text and "AIRFLOW_HOST ?= 127.0.0.1" in text
    assert "AIRFLOW__API__PORT=$(AIRFLOW_PORT)" in text
    demo = (REPO / "scripts/airflow-demo.sh").read_text()
    assert "scheduler --skip-serve-logs" in demo and "standalone" not in demo.split("set -u")[1]


EXECUTORS = {
    "celery": "airflow.providers.celery.executors.celery_executor.CeleryExecutor",
    "kubernetes": (
        "airflow.providers.cncf.kubernetes.executors.kubernetes_executor.KubernetesExecutor"
    ),
}


@pytest.mark.parametrize("extra", sorted(EXECUTORS))
def test_executor_extra_installs_and_loads(extra: str, tmp_path: Path) -> None:
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for requirement in map(Requirement, pins[extra]):
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{requirement.name} not installed (pip install -e '.[{extra}]')")
            pytest.skip(f"the {extra} extra is not installed")
        assert requirement.specifier.contains(installed, prereleases=True), (requirement, installed)
    module, name = EXECUTORS[extra].rsplit(".", 1)
    # A process of its own: Airflow configures itself from the environment at import.
    code = (
        f"from {module} import {name}\n"
        "from airflow.executors.executor_loader import ExecutorLoader\n"
        "print(type(ExecutorLoader.get_default_executor()).__name__)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__EXECUTOR=name,
               AIRFLOW__CELERY__BROKER_URL="redis://127.0.0.1:1/0")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=180, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == name
