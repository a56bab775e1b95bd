"""A 5,000-mutation delivery to the loopback BPJS service, its `jamsos deliver` process killed
with SIGKILL at 20 random points (starting, deriving, sending, reading answers), then run
again: BPJS's own log holds every mutation exactly once, applied once, and the outbox
converges to it (docs/bpjs-h2h.md, docs/design.md §6 "exactly once at the far end")."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from jamsos_bpjs_h2h.server import BpjsServer

from tests.helpers.roster import worker_row, write_roster

JAMSOS = str(Path(sys.executable).with_name("jamsos"))
WORKERS = 5000
KILLS = int(os.environ.get("JAMSOS_DELIVERY_KILLS", "20"))
SECRET = "kill-test-secret"


@pytest.fixture(scope="module")
def bpjs(tmp_path_factory):
    log = tmp_path_factory.mktemp("bpjs") / "bpjs.sqlite"
    # A little latency per request, so a delivery's sending lasts long enough to be hit.
    with BpjsServer(log, consumers={"jamsos": SECRET}, latency=0.03) as server:
        yield server


def env_for(instance: Path, destinations: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(instance), JAMSOS_CONFIG_FILE="",
               JAMSOS_DESTINATIONS_FILE=str(destinations), BPJS_H2H_SECRET=SECRET)  # fmt: skip
    return env


def outbox(instance: Path) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(instance / "jamsos.db") as db:
        return {k: (s, kpj) for k, s, kpj in db.execute("SELECT key, state, kpj FROM mutations")}


def test_a_delivery_killed_at_20_random_points_reaches_bpjs_exactly_once(tmp_path, bpjs):
    instance, destinations = tmp_path / "instance", tmp_path / "destinations.toml"
    destinations.write_text(
        f'[destinations.bpjs-h2h]\nurl = "{bpjs.url}"\nconsumer_id = "jamsos"\n'
        f'secret = "$env:BPJS_H2H_SECRET"\nbatch_size = 100\nanswer_wait = 30\n'
    )
    env = env_for(instance, destinations)

    def jamsos(*args: str) -> subprocess.Popen:
        return subprocess.Popen([JAMSOS, *args], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip

    roster = write_roster(tmp_path / "roster.csv", [worker_row(i) for i in range(WORKERS)])
    assert jamsos("roster", "submit", str(roster), "--agency", "15.05").wait() == 0
    add = jamsos("employers", "add", "15.05", "--npp", "15070955", "--division", "001",
                 "--destination", "bpjs-h2h")  # fmt: skip
    assert add.wait() == 0, add.stderr.read()

    # Where the kills land: a few while the command starts and derives, most at random points
    # of the sending (right after BPJS took a batch in, before the outbox heard the 202),
    # a few while it reads BPJS's answers.
    rng = random.Random(20261202)
    early, late = KILLS // 6, KILLS // 6
    targets = sorted(rng.sample(range(1, WORKERS), KILLS - early - late))
    plan = [("time", rng.uniform(0.2, 1.5)) for _ in range(early)]
    plan += [("progress", t) for t in targets]
    plan += [("answers", rng.uniform(0.0, 1.0)) for _ in range(late)]
    landed = Counter()
    for how, value in plan:
        before = bpjs.ledger.count()
        proc = jamsos("deliver", "bpjs-h2h")
        deadline = time.monotonic() + 30
        if how == "time":
            time.sleep(value)
        else:
            goal = value if how == "progress" else WORKERS
            while bpjs.ledger.count() < goal and proc.poll() is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.08) if how == "progress" else value)
        proc.kill()
        proc.wait()
        after = bpjs.ledger.count()
        landed["finished" if proc.returncode == 0 else
               "mid-sending" if before < after < WORKERS else
               "before sending" if after == before < WORKERS else "after sending"] += 1  # fmt: skip
    print(f"\n{KILLS} kills landed: {dict(landed)}")

    # Run again until the outbox has nothing left to send or to hear about.
    for _ in range(3):
        again = jamsos("deliver", "bpjs-h2h")
        assert again.wait(timeout=120) == 0, again.stderr.read()
        if all(state == "accepted" for state, _ in outbox(instance).values()):
            break
    bpjs.settle()

    seen = bpjs.ledger.received()
    assert len(seen) == WORKERS  # every mutation reached BPJS ...
    assert all(r["payload_mismatches"] == 0 for r in seen.values())  # ... the same each time
    first_acks = [a for a in bpjs.ledger.acks(0, 10 * WORKERS) if not a["repeat"]]
    assert len(first_acks) == WORKERS  # ... and was applied exactly once
    members = bpjs.ledger.members()
    assert len(members) == WORKERS and len({m["kpj"] for m in members.values()}) == WORKERS

    mine = outbox(instance)
    assert set(mine) == set(seen)  # the outbox converged to what BPJS saw
    assert {key: kpj for key, (_, kpj) in mine.items()} == {k: r["kpj"] for k, r in seen.items()}
    assert Counter(state for state, _ in mine.values()) == {"accepted": WORKERS}
    resent = sum(1 for r in seen.values() if r["times_received"] > 1)
    print(f"sent again after a kill (acknowledged again, applied once): {resent}")
    assert landed["mid-sending"] > 0, "no kill landed while sending: the test proved little"
