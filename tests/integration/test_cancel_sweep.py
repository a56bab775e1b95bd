"""A SIGKILLed sync is failed by the gateway's own periodic sweep, within the sweep period
(issue 20, item 1).

SIGKILL cannot be caught: the killed process records nothing. Before, its run stayed `running`
until another run started (every run start sweeps) or, for a run the sweeping process cannot
judge, 6 hours. Now every gateway process (server worker, command, scheduler task) sweeps
every SWEEP_SECONDS. Here a real `jamsos sync` is SIGKILLed mid-apply while this process holds
a gateway runtime sweeping every second; no other run starts, and the run is failed as
"interrupted: its process ended ..." (audited once), with nothing applied.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from gateway.app import create_app
from gateway.store import audit
from gateway.store.liveness import interrupted_error
from gateway.store.tables import enrollments, runs
from tests.helpers.roster import worker_row, write_roster

JAMSOS = str(Path(sys.executable).with_name("jamsos"))


def test_a_sigkilled_sync_is_failed_by_the_periodic_sweep(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": str(instance), "CONFIG_FILE": None, "SWEEP_SECONDS": 1})
    gw = app.extensions["jamsos"]
    with app.app_context():
        gw.ensure_ready()  # starts this process's sweeper
    roster = write_roster(tmp_path / "honorer.csv", (worker_row(i) for i in range(9_000)))
    (tmp_path / "sources.toml").write_text(
        f'[sources.roster-15-05]\ntype = "regional-roster"\nagency = "15.05"\npath = "{roster}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(instance), JAMSOS_CONFIG_FILE="",
               JAMSOS_SOURCES_FILE=str(tmp_path / "sources.toml"), JAMSOS_BATCH_SIZE="200",
               JAMSOS_SWEEP_SECONDS="0")  # fmt: skip
    proc = subprocess.Popen([JAMSOS, "sync", "roster-15-05"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        while "baris / rows" not in proc.stderr.readline():  # inside the apply
            assert proc.poll() is None and time.monotonic() < deadline, "no progress seen"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()

    deadline = time.monotonic() + 30  # the sweep runs every second; generous for a busy host
    while True:
        with gw.engine.connect() as conn:
            found = conn.execute(select(runs.c.id, runs.c.status, runs.c.error)).all()
        if found and found[0].status != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(found) == 1, found  # no other run started: the sweep alone found it
    assert found[0].status == "failed", found
    assert found[0].error == interrupted_error("its process ended")
    assert found[0].error.startswith("interrupted: its process ended")
    with gw.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(enrollments)).scalar_one() == 0
    actions = [e["action"] for e in audit.recent(gw.engine, 10)]
    assert actions.count("run_interrupted") == 1
    gw.engine.dispose()
