"""Ingest benchmark: rows per second and peak memory of checking and applying rosters.

    .venv/bin/python bench/ingest.py                 # 100,000 rows, SQLite
    .venv/bin/python bench/ingest.py --rows 1000000

Each phase runs in its own process so its peak RSS is its own:
  check       validate only (no database)
  first       first load into an empty registry
  unchanged   the same workers again (a re-exported file: different bytes, same content)
  churn       1 % of the workers changed and 1 % removed
Prints one line per phase; numbers, never assertions.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_files(folder: Path, rows: int) -> dict[str, Path]:
    from gateway.demo import generate_roster

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


def run_phase(phase: str, path: Path, instance: Path) -> dict:
    """Runs in the child process."""
    from gateway.agencies import resolve_agency
    from gateway.app import create_app
    from gateway.pipeline import check_roster, submit_roster

    app = create_app({"INSTANCE_PATH": str(instance), "CONFIG_FILE": None})
    gw = app.extensions["jamsos"]
    agency = resolve_agency("31")
    started = time.perf_counter()
    if phase == "check":
        report = check_roster(path, agency=agency, today=date(2026, 1, 15))
    else:
        report = submit_roster(gw.registry, path, agency=agency, today=date(2026, 1, 15),
                               trigger="bench")
    elapsed = time.perf_counter() - started
    return {"rows": report.rows, "accepted": report.accepted, "seconds": elapsed,
            "changes": report.changes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(run_phase(args.phase, Path(args.file), Path(args.instance))))
        return

    with tempfile.TemporaryDirectory(prefix="jamsos-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        files = make_files(folder, args.rows)
        size = files["first"].stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({size:.1f} MB) in {time.perf_counter() - t0:.1f}s")
        for phase, name in (("check", "first"), ("first", "first"), ("unchanged", "unchanged"),
                            ("churn", "churn")):
            proc = subprocess.Popen(
                [sys.executable, __file__, "--phase", phase, "--file", str(files[name]),
                 "--instance", str(folder / "instance")],
                stdout=subprocess.PIPE, text=True,
            )
            out = proc.stdout.read()  # type: ignore[union-attr]
            _, status, usage = os.wait4(proc.pid, 0)
            if status != 0:
                sys.exit(f"phase {phase} failed")
            result = json.loads(out)
            rate = result["rows"] / result["seconds"]
            print(f"{phase:<10} {result['rows']:>9,} rows  {result['seconds']:7.2f}s  "
                  f"{rate:>9,.0f} rows/s  peak RSS {usage.ru_maxrss / 1024:6.1f} MB  "
                  f"{result['changes'] or ''}")


if __name__ == "__main__":
    main()
