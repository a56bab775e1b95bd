"""API load benchmark: roster submissions and status reads against gunicorn on loopback.

    .venv/bin/python bench/api.py                        # SQLite, 2 gunicorn workers
    .venv/bin/python bench/api.py --backend postgresql   # a throwaway server, or --pg-url

Starts `jamsos serve` on 127.0.0.1 (a free port) with a fresh instance, creates one API key per
agency, then runs a bounded load: `--concurrency` client threads send `--submissions` roster
uploads (each `--roster-rows` rows, a different roster each time, agencies in turn) mixed
with `--reads` status reads (a run's report, the run list). The load stops after
`--max-seconds` whatever is left. Prints requests per second, p50/p99 latency and errors per
kind; asserts nothing. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENCIES = ["31", "31.71", "31.72", "31.73", "31.74", "31.75", "15", "15.05"]
HOST = "127.0.0.1"  # loopback only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def roster_bytes(rows: int, seed: int, agency: str) -> bytes:
    from gateway.demo.rosters import generate_roster

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    province = agency.split(".")[0]
    for i, row in enumerate(generate_roster(rows, seed=seed, province=province)):
        if i == 0:
            writer.writerow(list(row))
        writer.writerow(list(row.values()))
    return out.getvalue().encode()


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Load:
    def __init__(self, port: int, keys: dict[str, str], deadline: float) -> None:
        self.port = port
        self.keys = keys
        self.deadline = deadline
        self.local = threading.local()
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {"submit": [], "read": []}
        self.errors: dict[str, list[str]] = {"submit": [], "read": []}
        self.run_ids: list[tuple[str, int]] = []

    def _conn(self) -> http.client.HTTPConnection:
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
        return self.local.conn

    def _request(self, kind: str, method: str, path: str, key: str, body=None, ctype=None):
        if time.monotonic() > self.deadline:
            return None
        headers = {"Authorization": f"Bearer {key}"}
        if ctype:
            headers["Content-Type"] = ctype
        started = time.perf_counter()
        try:
            conn = self._conn()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            self.local.conn = None
            with self.lock:
                self.errors[kind].append(type(exc).__name__)
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency[kind].append(elapsed)
            if status not in (200, 201):
                self.errors[kind].append(str(status))
        return json.loads(data) if status in (200, 201) else None

    def submit(self, agency: str, content: bytes) -> None:
        body, ctype = multipart("roster.csv", content)
        report = self._request(
            "submit", "POST", f"/api/v1/agencies/{agency}/rosters", self.keys[agency], body, ctype
        )
        if report and report.get("run_id"):
            with self.lock:
                self.run_ids.append((agency, report["run_id"]))

    def read(self, n: int) -> None:
        with self.lock:
            known = list(self.run_ids)
        agency = AGENCIES[n % len(AGENCIES)]
        if known and n % 2:
            agency, run_id = random.Random(n).choice(known)
            self._request("read", "GET", f"/api/v1/runs/{run_id}", self.keys[agency])
        else:
            self._request("read", "GET", "/api/v1/runs?limit=20", self.keys[agency])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--submissions", type=int, default=80)
    parser.add_argument("--roster-rows", type=int, default=200)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--pg-url", help="PostgreSQL server to serve from (a database is made)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    servers: list = []
    try:
        if args.backend == "postgresql" or args.pg_url:
            from bench.ingest import _fresh_pg_database, _postgres

            base = _postgres(args.pg_url, servers)
            if base is None:
                return
            args.pg_url = _fresh_pg_database(base, "jamsos_bench_api")
        run(args)
    finally:
        for server in servers:
            server.stop()


def run(args: argparse.Namespace) -> None:

    with tempfile.TemporaryDirectory(prefix="jamsos-bench-api-") as tmp:
        env = {**os.environ, "JAMSOS_INSTANCE_PATH": str(Path(tmp) / "instance")}
        env.pop("JAMSOS_CONFIG_FILE", None)
        if args.pg_url:
            env["JAMSOS_DATABASE_URL"] = args.pg_url
        jamsos = str(Path(sys.executable).parent / "jamsos")
        subprocess.run([jamsos, "db", "upgrade"], env=env, check=True, capture_output=True)
        keys = {
            agency: subprocess.run(
                [jamsos, "apikeys", "create", "--agency", agency], env=env, check=True,
                capture_output=True, text=True,
            ).stdout.split()[0]
            for agency in AGENCIES
        }  # fmt: skip
        rosters = [
            (AGENCIES[i % len(AGENCIES)], roster_bytes(args.roster_rows, i, AGENCIES[i % 8]))
            for i in range(args.submissions)
        ]
        port = free_port()
        server = subprocess.Popen(
            [jamsos, "serve", "--host", HOST, "--port", str(port), "--workers", str(args.workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_for(port, server)
            backend = "postgresql" if args.pg_url else "sqlite"
            print(f"gunicorn: {args.workers} workers, {backend}; {args.concurrency} clients; "
                  f"{args.submissions} submissions of {args.roster_rows} rows, "
                  f"{args.reads} reads; machine: {os.cpu_count()} cores, "
                  f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
            load = Load(port, keys, time.monotonic() + args.max_seconds)
            started = time.perf_counter()
            # Submissions and reads interleaved at random (fixed seed): both kinds under load.
            tasks = [(load.submit, a, c) for a, c in rosters]
            tasks += [(load.read, n) for n in range(args.reads)]
            random.Random(1).shuffle(tasks)
            with ThreadPoolExecutor(args.concurrency) as pool:
                for job in [pool.submit(*task) for task in tasks]:
                    job.result()
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    total = sum(len(v) for v in load.latency.values())
    print(f"total     {total:6d} requests in {elapsed:6.1f}s  {total / elapsed:8.1f} req/s")
    for kind in ("submit", "read"):
        lat = load.latency[kind]
        print(
            f"{kind:<8} {len(lat):6d} requests  {len(lat) / elapsed:8.1f} req/s  "
            f"p50 {pct(lat, 0.50):7.1f} ms  p99 {pct(lat, 0.99):7.1f} ms  "
            f"errors {len(load.errors[kind])} {sorted(set(load.errors[kind]))}"
        )


def _wait_for(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited before serving")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not start within 30 s")


if __name__ == "__main__":
    main()
