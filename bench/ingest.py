"""Ingest benchmark: end-to-end rows per second and peak memory of applying rosters.

    .venv/bin/python bench/ingest.py                          # 100,000 and 1,000,000 rows
    .venv/bin/python bench/ingest.py --rows 20000 --backend sqlite
    .venv/bin/python bench/ingest.py --pg-url postgresql://user@host/db   # else a throwaway one

For each size and backend (SQLite file; PostgreSQL: the URL given, else a throwaway server
started like the test suite's when initdb/pg_ctl are installed) it measures, each in its own
process so memory is its own:

  csv        baseline: parse-only with the standard csv module (the floor for Python)
  pandas     baseline: pandas.read_csv + DataFrame.to_sql into the same database, no validation,
             no encryption (what an analyst would do ad hoc); skipped if pandas is missing
  first      the gateway: read, validate, encrypt, apply into an empty registry
  unchanged  the same workers again (a re-exported file: other bytes, same content)
  churn      1 % of the workers changed and 1 % removed

Memory: "peak RSS" is the phase process's own maximum resident set (getrusage); "tree PSS" is
the peak, sampled every 20 ms, of the proportional set size of that process plus its worker
processes (PSS splits pages shared between them, where summing RSS would count them twice).
It prints numbers and ratios; it never asserts on them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 1, 15)
AGENCY = "31"


def make_files(folder: Path, rows: int) -> dict[str, Path]:
    from gateway.demo.rosters import generate_roster

    first = folder / "first.csv"
    unchanged = folder / "unchanged.csv"
    churn = folder / "churn.csv"
    with (
        open(first, "w", newline="", encoding="utf-8") as f1,
        open(unchanged, "w", newline="", encoding="utf-8") as f2,
        open(churn, "w", newline="", encoding="utf-8") as f3,
    ):
        w1 = csv.writer(f1, delimiter=";")
        w2 = csv.writer(f2, delimiter=",")  # same content, other bytes: not an idempotent replay
        w3 = csv.writer(f3, delimiter=";")
        for i, row in enumerate(generate_roster(rows, seed=7, province="31")):
            if i == 0:
                for w in (w1, w2, w3):
                    w.writerow(list(row))
            values = list(row.values())
            w1.writerow(values)
            w2.writerow(values)
            if i % 100 == 1:
                continue  # removed
            if i % 100 == 2:
                row = dict(row)
                row["Jabatan"] = "Jabatan Baru"  # changed
                values = list(row.values())
            w3.writerow(values)
    return {"first": first, "unchanged": unchanged, "churn": churn}


# -- memory ---------------------------------------------------------------------------------
def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for tid in os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else []:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                for child in fh.read().split():
                    pids.extend(_tree(int(child)))
        except OSError:
            pass
    return pids


class PeakRss:
    """Samples the PSS of this process and its descendants; `.peak_mb` when stopped, and
    `.own_mb`, this process's maximum RSS."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in _tree(os.getpid())))
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, _pss_kb(os.getpid()))

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024

    @property
    def own_mb(self) -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- phases (each runs in a child process) ----------------------------------------------------
def run_phase(phase: str, path: Path, instance: Path, url: str | None) -> dict:
    if phase == "csv":
        return _csv_baseline(path)
    if phase == "pandas":
        return _pandas_baseline(path, url or f"sqlite:///{instance / 'jamsos.db'}")
    from gateway.app import create_app
    from gateway.domain.agencies import resolve_agency
    from gateway.roster.submit import submit_roster

    config = {"INSTANCE_PATH": str(instance), "CONFIG_FILE": None, "AUTO_MIGRATE": True}
    if url:
        config["DATABASE_URL"] = url
    gw = create_app(config).extensions["jamsos"]
    gw.registry  # migrate and load keys before the clock starts  # noqa: B018
    with PeakRss() as rss:
        started = time.perf_counter()
        report = submit_roster(
            gw.registry, path, agency=resolve_agency(AGENCY), today=TODAY, trigger="bench"
        )
        elapsed = time.perf_counter() - started
    return {
        "rows": report.rows,
        "seconds": elapsed,
        "rss": rss.own_mb,
        "pss": rss.peak_mb,
        "changes": report.changes,
    }


def _csv_baseline(path: Path) -> dict:
    with PeakRss() as rss:
        started = time.perf_counter()
        rows = 0
        with open(path, newline="", encoding="utf-8") as fh:
            for _ in csv.reader(fh, delimiter=";"):
                rows += 1
        elapsed = time.perf_counter() - started
    return {"rows": rows - 1, "seconds": elapsed, "rss": rss.own_mb, "pss": rss.peak_mb}


def _pandas_baseline(path: Path, url: str) -> dict:
    import pandas as pd

    from gateway.store.db import make_engine

    engine = make_engine(url)
    with PeakRss() as rss:
        started = time.perf_counter()
        frame = pd.read_csv(path, sep=";", dtype=str)
        frame.to_sql("bench_pandas", engine, if_exists="replace", index=False, chunksize=10_000)
        elapsed = time.perf_counter() - started
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_pandas")
    engine.dispose()
    return {"rows": len(frame), "seconds": elapsed, "rss": rss.own_mb, "pss": rss.peak_mb}


# -- the driver -----------------------------------------------------------------------------
def _child(phase: str, path: Path, instance: Path, url: str | None) -> dict | None:
    cmd = [sys.executable, __file__, "--phase", phase, "--file", str(path),
           "--instance", str(instance)]  # fmt: skip
    if url:
        cmd += ["--url", url]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        print(f"  {phase}: failed (exit {proc.returncode})")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _line(phase: str, results: list[dict]) -> float:
    """The best of the repetitions (the machine's noise only ever slows a run down)."""
    rates = [r["rows"] / r["seconds"] for r in results]
    best = results[rates.index(max(rates))]
    spread = f" (of {len(rates)}: {min(rates):,.0f}-{max(rates):,.0f})" if len(rates) > 1 else ""
    print(
        f"  {phase:<10} {best['rows']:>10,} rows {best['seconds']:8.2f}s "
        f"{max(rates):>10,.0f} rows/s  peak RSS {max(r['rss'] for r in results):5.0f} MB  "
        f"tree PSS {max(r['pss'] for r in results):5.0f} MB  {best.get('changes') or ''}{spread}",
        flush=True,
    )
    return max(rates)


def bench_backend(
    name: str, files: dict[str, Path], folder: Path, urls: list[str | None], repeat: int
) -> None:
    """Every phase `repeat` times, each time into a fresh registry (`urls[i]`, or a fresh
    SQLite file); prints the best rate of each phase with the spread, and the ratios."""
    print(f"{name}:", flush=True)
    phases = [("csv", "first"), ("pandas", "first"), ("first", "first"),
              ("unchanged", "unchanged"), ("churn", "churn")]  # fmt: skip
    runs: dict[str, list[dict]] = {}
    for i in range(repeat):
        instance = folder / f"instance-{name}-{i}"
        for phase, file in phases:
            if phase == "pandas" and not _has_pandas():
                continue
            result = _child(phase, files[file], instance, urls[i])
            if result is not None:
                runs.setdefault(phase, []).append(result)
    if not _has_pandas():
        print("  pandas     skipped: pandas is not installed (make bench installs it)")
    rates: dict[str, float] = {}
    for phase, _ in phases:
        if phase in runs:
            rates[phase] = _line(phase, runs[phase])
    if "first" in rates:
        first = rates["first"]
        ratios = []
        for phase in ("unchanged", "churn"):
            if phase in rates:
                ratios.append(f"{phase}/first {rates[phase] / first:.2f}x")
        if "pandas" in rates:
            ratios.append(f"first/pandas {first / rates['pandas']:.2f}x")
        if "csv" in rates:
            ratios.append(f"first/csv {first / rates['csv']:.3f}x")
        print("  ratios:    " + "   ".join(ratios), flush=True)


def _has_pandas() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def _postgres(url: str | None, keep: list) -> str | None:
    """The PostgreSQL URL to use: the one given, or a throwaway server's fresh database."""
    if url:
        return url
    from tests.pg import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        print("postgresql: skipped (no initdb/pg_ctl found; give --pg-url)")
        return None
    server = PostgresServer(bindir)
    server.start()
    keep.append(server)
    return server.url()


def _fresh_pg_database(base_url: str, name: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(base_url)
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")  # type: ignore[arg-type]
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return parsed.set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", help="a PostgreSQL server to use (databases are created)")
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="run every phase N times into fresh registries and report the best (default 1)",
    )  # fmt: skip
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(run_phase(args.phase, Path(args.file), Path(args.instance), args.url)))
        return

    # Stopped (Ctrl-C, kill): still stop a throwaway PostgreSQL in the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.2f}, prepare workers: "
          f"{os.environ.get('JAMSOS_PREPARE_WORKERS') or 'default (cores - 1)'}")  # fmt: skip
    servers: list = []
    try:
        pg_url = None
        if args.backend in ("postgresql", "both"):
            pg_url = _postgres(args.pg_url, servers)
        for rows in args.rows:
            with tempfile.TemporaryDirectory(prefix="jamsos-bench-") as tmp:
                folder = Path(tmp)
                t0 = time.perf_counter()
                files = make_files(folder, rows)
                size = files["first"].stat().st_size / 1e6
                print(f"\n{rows:,} rows ({size:.1f} MB), generated in "
                      f"{time.perf_counter() - t0:.1f}s")  # fmt: skip
                if args.backend in ("sqlite", "both"):
                    bench_backend("sqlite", files, folder, [None] * args.repeat, args.repeat)
                if pg_url:
                    urls: list[str | None] = [
                        _fresh_pg_database(pg_url, f"jamsos_bench_{rows}_{i}")
                        for i in range(args.repeat)
                    ]
                    bench_backend("postgresql", files, folder, urls, args.repeat)
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
