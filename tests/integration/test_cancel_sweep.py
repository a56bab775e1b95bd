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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from gateway.app import create_app
from gateway.store import audit
from gateway.store.db import writing
from gateway.store.liveness import (
    beat,
    interrupted_error,
    process_owner,
    stop_sweepers,
    sweep_runs,
)
from gateway.store.tables import enrollments, process_heartbeats, runs
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
        if (found and found[0].status != "running") or time.monotonic() > deadline:
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
    stop_sweepers()  # not on, every second, for the rest of the test session
    gw.engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_run_of_another_machine_is_failed_once_its_heartbeat_stops(gw) -> None:
    """A run owned by a process on another machine or container cannot be checked by pid:
    its owner's heartbeat (PostgreSQL, every SWEEP_SECONDS) decides, within minutes; with no
    heartbeat at all the run's age (STALE_RUN_HOURS) still does."""
    now = datetime.now(UTC)
    elsewhere = {name: f"worker-7|boot|pid:[4026532{i}]|{100 + i}|5551" for i, name in
                 enumerate(("beating", "silent", "unknown"))}  # fmt: skip
    run_ids = {}
    for name, owner in elsewhere.items():
        run_ids[name] = gw.registry.start_run(agency="15.05", source="upload", trigger="test")
        with writing(gw.engine) as conn:
            conn.execute(update(runs).where(runs.c.id == run_ids[name])
                         .values(owner=owner, started_at=now - timedelta(hours=1)))
    with writing(gw.engine) as conn:
        conn.execute(insert(process_heartbeats), [
            {"owner": elsewhere["beating"], "beat_at": now - timedelta(seconds=50),
             "every_seconds": 60},
            # Beating every 2 minutes: silent for 5 is not yet dead (3 beats: 6 minutes).
            {"owner": elsewhere["silent"], "beat_at": now - timedelta(minutes=5),
             "every_seconds": 120},
        ])  # fmt: skip
    assert sweep_runs(gw.engine, timedelta(hours=6), now=now) == 0
    assert sweep_runs(gw.engine, timedelta(hours=6), now=now + timedelta(minutes=2)) == 1
    status = {name: gw.registry.get_run(i) for name, i in run_ids.items()}
    assert status["silent"]["status"] == "failed"
    assert status["silent"]["error"] == interrupted_error(
        "its process stopped its heartbeat over 0:06:00 ago")
    assert status["beating"]["status"] == status["unknown"]["status"] == "running"
    # Six hours on: the beating one fell silent too, and the one with no heartbeat is old.
    assert sweep_runs(gw.engine, timedelta(hours=6), now=now + timedelta(hours=6)) == 2

    beat(gw.engine, 60, now=now)  # this process's own row, as its sweeper writes it
    with gw.engine.connect() as conn:
        mine = conn.execute(select(process_heartbeats)
                            .where(process_heartbeats.c.owner == process_owner())).one()
    assert mine.every_seconds == 60
