"""The real Airflow 3 on the project's dags/, in a process of its own (driver.py), against the
demo agencies' feeds: the demo SOAP service on 127.0.0.1 (a thread of the test process) and
the demo drop folders, as `make airflow` sets them up."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.airflow import EXTRA_SOURCE, AirflowSite


@pytest.fixture(scope="session")
def airflow_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowSite]:
    # Looked up, not imported: importing Airflow reconfigures this process's logging.
    if importlib.util.find_spec("airflow") is None:
        if os.environ.get("CI") == "true":  # make test installs the extra: never skip there
            pytest.fail("apache-airflow is not installed (the `airflow` extra)")
        pytest.skip("the airflow extra is not installed")
    from gateway.demo.feeds import write_demo_sources

    root = tmp_path_factory.mktemp("airflow")
    site = AirflowSite(root, root / "airflow", root / "instance", root / "sources.toml")
    site.home.mkdir()
    # Every plugin's demo: drop folders with sample rosters, the SOAP service on loopback.
    write_demo_sources(site.sources, site.instance)
    # One configured destination (a file one: it needs no counterpart); the other installed
    # destinations are left unconfigured, so they get no DAG.
    (site.root / "destinations.toml").write_text('[destinations."bpjs-sipp"]\n')
    yield site


# The extra source's drop folder holds a roster with no acceptable row, so its run is rejected.
BAD_ROSTER = "NIK;Nama Lengkap;Gaji;TMT\n1505;Tanpa NIK Lengkap;3.500.000;01-01-2024\n"


def plan_for(site: AirflowSite, down_sources: Path) -> dict[str, Any]:
    """Inspect the DAGs as production parses them, then run each once, in this order."""
    fast_retry = {"JAMSOS_AIRFLOW_RETRY_DELAY_SECONDS": "1"}
    return {
        "inspect": True,
        "runs": [
            {"dag_id": "jamsos_sync_kemenkes-ppnpn"},
            {"dag_id": "jamsos_sync_kemendes-pendamping"},
            {"dag_id": "jamsos_sync_roster-19.71"},
            {"dag_id": "jamsos_sync_apbd-sipd"},
            {"dag_id": "jamsos_budget_check", "conf": {"fiscal_year": 2025}},
            # The SOAP service is down: one retry, both tries recorded as failed runs.
            {
                "dag_id": "jamsos_sync_kemenkes-ppnpn",
                "env": {
                    "JAMSOS_SOURCES_FILE": str(down_sources),
                    "JAMSOS_AIRFLOW_RETRIES": "1",
                    **fast_retry,
                },
            },
            # Nothing acceptable: failed at once, retries or not.
            {
                "dag_id": f"jamsos_sync_{EXTRA_SOURCE}",
                "env": {"JAMSOS_AIRFLOW_RETRIES": "2", **fast_retry},
            },
            {"dag_id": "jamsos_daily_report"},
            # Every run above was Airflow's own: no upload to publish.
            {"dag_id": "jamsos_registry_watch"},
            {"dag_id": "jamsos_deliver_bpjs-sipp"},
            {"dag_id": "jamsos_reconcile"},  # issue 18: runs[10]
            {"dag_id": "jamsos_verify"},  # issue 19: runs[11]
        ],
    }


@pytest.fixture(scope="session")
def airflow_result(airflow_site: AirflowSite) -> dict[str, Any]:
    """Every DAG parsed and run once by the real Airflow (one process, ~40 s)."""
    from jamsos_kemenkes.server import SimpegServer

    site = airflow_site
    drop = site.instance / "demo" / "drop_15.05"
    drop.mkdir(parents=True)
    (drop / "honorer_muaro_jambi.csv").write_text(BAD_ROSTER, encoding="utf-8")
    text = site.sources.read_text(encoding="utf-8")
    site.sources.write_text(
        text
        + f'\n[sources."{EXTRA_SOURCE}"]\ntype = "regional-roster"\nagency = "15.05"\n'
        + f"folder = {json.dumps(str(drop))}\n",
        encoding="utf-8",
    )
    # A SIMPEG service that was started and stopped: its port now refuses connections.
    with SimpegServer([]) as gone:
        dead_url = gone.url
    down = site.root / "sources-down.toml"
    lines = []
    for line in text.splitlines():
        if line.startswith('"url"') and "/simpeg/" in line:
            line = f'"url" = {json.dumps(dead_url)}\n"retries" = 1\n"connect_timeout" = 2'
        lines.append(line)
    down.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = site.drive(plan_for(site, down))
    runs = ", ".join(f"{r['dag_id']} {r['seconds']} s" for r in result["runs"])
    print(
        f"\nAirflow driver: {result['wall_seconds']} s wall; Airflow import "
        f"{result['airflow_import_seconds']} s; DagBag {result['dagbag_seconds']} s; "
        f"migrate {result['migrate_seconds']} s; {runs}"
    )
    return result
