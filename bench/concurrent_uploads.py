"""Two large roster uploads at once through a real `jamsos serve` (issue 16, finding 3).

    .venv/bin/python bench/concurrent_uploads.py                  # 2 x 500,000 rows, PostgreSQL
    .venv/bin/python bench/concurrent_uploads.py --rows 100000 --pg-url postgresql://...

Before: a 500,000-row upload (61 MB) on PostgreSQL beside another got an HTML 500 after
30.5 s (gunicorn's WORKER TIMEOUT). Now an upload is answered 202 and applied in the
background. This starts a throwaway PostgreSQL (tests/pg.py) unless given --pg-url, serves
the gateway with gunicorn on 127.0.0.1, sends two rosters of `--rows` rows for two agencies at
the same moment, follows both runs to their end, and prints for each: the answer's status and
time, the run's outcome and time, and the peak memory (RSS) of the server's process tree
(gunicorn, its workers, their preparation processes), sampled every 0.2 s. It also says
whether any process of the tree outlived the server. Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"  # loopback only
AGENCIES = {"15.05": {"regency": "15.05"}, "31": {"province": "31"}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def write_roster(path: Path, rows: int, seed: int, where: dict[str, str]) -> None:
    from gateway.demo.rosters import generate_roster, write_csv

    write_csv(path, generate_roster(rows, seed=seed, **where))


def tree_rss(root: psutil.Process) -> tuple[int, int]:
    """(RSS of the whole tree, processes in it)."""
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total, len(procs)


def upload(port: int, key: str, path: Path, out: dict) -> None:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{path.name}\"\r\nContent-Type: text/csv\r\n\r\n").encode()  # fmt: skip
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = len(head) + path.stat().st_size + len(tail)
    started = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    conn.putrequest("POST", f"/api/v1/agencies/{out['agency']}/rosters")
    conn.putheader("Authorization", f"Bearer {key}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    conn.send(head)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            conn.send(chunk)
    conn.send(tail)
    answer = conn.getresponse()
    body = answer.read()
    out["answer"] = answer.status
    out["answered_s"] = time.monotonic() - started
    try:
        out["run_id"] = json.loads(body)["run_id"]
    except (ValueError, KeyError):
        out["body"] = body[:200]
        return
    while True:
        conn.request("GET", f"/api/v1/runs/{out['run_id']}",
                     headers={"Authorization": f"Bearer {key}"})  # fmt: skip
        run = json.loads(conn.getresponse().read())
        if run["status"] != "running":
            break
        time.sleep(1)
    out["finished_s"] = time.monotonic() - started
    out["status"], out["rows"], out["accepted"] = run["status"], run["rows"], run["accepted"]
    out["error"] = run.get("error")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--pg-url", help="PostgreSQL server to serve from (a database is made)")
    args = parser.parse_args()
    from bench.ingest import _fresh_pg_database, _postgres

    servers: list = []
    try:
        base = _postgres(args.pg_url, servers)
        if base is None:
            return
        run(args, _fresh_pg_database(base, "jamsos_bench_concurrent"))
    finally:
        for server in servers:
            server.stop()


def run(args: argparse.Namespace, pg_url: str) -> None:
    with tempfile.TemporaryDirectory(prefix="jamsos-bench-concurrent-") as tmp:
        env = {**os.environ, "JAMSOS_INSTANCE_PATH": str(Path(tmp) / "instance"),
               "JAMSOS_DATABASE_URL": pg_url}  # fmt: skip
        env.pop("JAMSOS_CONFIG_FILE", None)
        jamsos = str(Path(sys.executable).parent / "jamsos")
        subprocess.run([jamsos, "db", "upgrade"], env=env, check=True, capture_output=True)
        keys, files = {}, {}
        for n, (agency, where) in enumerate(AGENCIES.items()):
            keys[agency] = subprocess.run(
                [jamsos, "apikeys", "create", "--agency", agency], env=env, check=True,
                capture_output=True, text=True,
            ).stdout.split()[0]  # fmt: skip
            files[agency] = Path(tmp) / f"roster_{agency}.csv"
            t0 = time.monotonic()
            write_roster(files[agency], args.rows, 500 + n, where)
            print(f"roster {agency}: {args.rows:,} rows, "
                  f"{files[agency].stat().st_size / 1e6:.1f} MB "
                  f"(generated in {time.monotonic() - t0:.0f} s)", flush=True)  # fmt: skip
        port = free_port()
        server = subprocess.Popen(
            [jamsos, "serve", "--host", HOST, "--port", str(port), "--workers", str(args.workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        try:
            for _ in range(300):
                try:
                    socket.create_connection((HOST, port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            root = psutil.Process(server.pid)
            results = {agency: {"agency": agency} for agency in AGENCIES}
            threads = [threading.Thread(target=upload, args=(port, keys[a], files[a], results[a]))
                       for a in AGENCIES]  # fmt: skip
            peak, peak_procs = 0, 0
            started = time.monotonic()
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                rss, procs = tree_rss(root)
                if rss > peak:
                    peak, peak_procs = rss, procs
                time.sleep(0.2)
            wall = time.monotonic() - started
            tree = root.children(recursive=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=120)
        time.sleep(5)
        left = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        print(f"\ntwo {args.rows:,}-row uploads at once, PostgreSQL, gunicorn x{args.workers}:")
        for agency, r in results.items():
            print(f"  {agency}: answer {r.get('answer')} in {r.get('answered_s', 0):.1f} s, "
                  f"run {r.get('run_id')} {r.get('status')} after {r.get('finished_s', 0):.1f} s "
                  f"({r.get('accepted', 0):,} of {r.get('rows', 0):,} rows accepted)"
                  + (f" error: {r['error']}" if r.get("error") else "")
                  + (f" body: {r['body']!r}" if r.get("body") else ""))  # fmt: skip
        print(f"  wall {wall:.1f} s; peak RSS of the server's tree {peak / 2**20:.0f} MiB "
              f"({peak_procs} processes)")  # fmt: skip
        print(f"  processes of the server's tree alive 5 s after it stopped: {len(left)}")
        for p in left:
            with contextlib.suppress(psutil.NoSuchProcess):
                print(f"    {p.pid} {' '.join(p.cmdline())[:120]}")


if __name__ == "__main__":
    main()
