"""Deliver 100,000 new enrollments to the loopback BPJS service (issue 17).

    .venv/bin/python bench/deliver.py                       # 100,000 rows
    .venv/bin/python bench/deliver.py --rows 20000 --batch-size 1000 --latency 0.02

Builds a throwaway SQLite instance, submits a generated roster of `--rows` valid workers for
one regency with `jamsos roster submit`, maps the regency to one NPP served by `bpjs-h2h`,
starts the loopback BPJS service (jamsos_bpjs_h2h.server) in this process, and runs
`jamsos deliver bpjs-h2h --json` as its own process, sampling that process's memory (RSS)
every 0.1 s. Prints: how long the delivery took end to end and by phase (deriving, sending
until BPJS took in the last mutation, reading the answers), mutations per second, the
deliverer's peak RSS, and what BPJS's own log holds. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
JAMSOS = str(Path(sys.executable).with_name("jamsos"))
SECRET = "bench-secret"


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([JAMSOS, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"jamsos {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def watch(proc: subprocess.Popen) -> int:
    """Peak RSS of `proc` (bytes) until it ends."""
    peak = 0
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    return peak


def stamp(text: str | None) -> float | None:
    return datetime.fromisoformat(text).timestamp() if text else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500, help="mutations per request")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds the service adds to each request (a distant BPJS)")
    args = parser.parse_args()

    from jamsos_bpjs_h2h.server import BpjsServer

    from gateway.demo.rosters import generate_roster, write_csv

    with tempfile.TemporaryDirectory(prefix="jamsos-bench-deliver-") as tmp:
        folder = Path(tmp)
        roster, destinations = folder / "roster.csv", folder / "destinations.toml"
        write_csv(roster, generate_roster(args.rows, seed=17, regency="15.05"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
        env.update(JAMSOS_INSTANCE_PATH=str(folder / "instance"), JAMSOS_CONFIG_FILE="",
                   JAMSOS_DESTINATIONS_FILE=str(destinations), BPJS_H2H_SECRET=SECRET)
        started = time.monotonic()
        run(env, "roster", "submit", str(roster), "--agency", "15.05")
        print(f"roster of {args.rows:,} rows submitted in {time.monotonic() - started:.1f} s")
        run(env, "employers", "add", "15.05", "--npp", "15070955", "--division", "001",
            "--destination", "bpjs-h2h")
        with BpjsServer(folder / "bpjs.sqlite", consumers={"jamsos": SECRET},
                        latency=args.latency) as bpjs:
            destinations.write_text(
                f'[destinations.bpjs-h2h]\nurl = "{bpjs.url}"\nconsumer_id = "jamsos"\n'
                f'secret = "$env:BPJS_H2H_SECRET"\nbatch_size = {args.batch_size}\n'
                f"answer_wait = 600\n"
            )
            began = time.time()
            proc = subprocess.Popen([JAMSOS, "deliver", "bpjs-h2h", "--json"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            peak = watch(proc)
            out, err = proc.communicate()
            took = time.time() - began
            if proc.returncode != 0:
                print(f"delivery failed (exit {proc.returncode}):\n{out}\n{err[-2000:]}")
            result = json.loads(out) if out.strip().startswith("{") else {}
            bpjs.settle(timeout=600)
            with sqlite3.connect(folder / "bpjs.sqlite") as db:
                first_in, last_in, n_keys, times = db.execute(
                    "SELECT min(received_at), max(received_at), count(*), sum(times_received)"
                    " FROM received").fetchone()
            with sqlite3.connect(folder / "instance" / "jamsos.db") as db:
                states = dict(db.execute("SELECT state, count(*) FROM mutations GROUP BY state"))
            members = len(bpjs.ledger.members())
    counts = result.get("counts", {})
    sent = counts.get("sent", 0)
    deriving = (stamp(first_in) or began) - began
    sending = (stamp(last_in) or began) - (stamp(first_in) or began)
    print(f"delivery of {sent:,} new enrollments, batches of {args.batch_size}, "
          f"latency {args.latency * 1000:.0f} ms: {took:.1f} s end to end, "
          f"{sent / took:,.0f} mutations/s")
    print(f"  start + derive until the first batch reached BPJS: {deriving:.1f} s")
    print(f"  sending until BPJS took in the last one:           {sending:.1f} s "
          f"({sent / max(sending, 1e-9):,.0f}/s)")
    print(f"  reading the answers, finishing:                    "
          f"{took - deriving - sending:.1f} s")
    print(f"  peak RSS of the jamsos deliver process: {peak / 2**20:,.0f} MiB")
    print(f"  outbox: {states}; counts: {counts}")
    print(f"  BPJS's log: {n_keys:,} keys, received {times:,} times, {members:,} members")


if __name__ == "__main__":
    main()
