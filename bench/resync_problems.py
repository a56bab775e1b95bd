"""Rows in `problems` after daily re-syncs of an unchanged feed (issue 21), kept once or not.

    .venv/bin/python bench/resync_problems.py [--workers 20000] [--error-rate 0.5] [--syncs 7]

The Kemenkes SIMPEG stand-in (plugins/kemenkes, a real SOAP server on 127.0.0.1) serves
`--workers` staff, a share of them with a typo; the source is synced `--syncs` times in full
with nothing changed, on a fresh SQLite registry, twice: as the gateway does now (a run whose
problems equal the source's previous run's stores none of its own, store/problem_sets.py),
and with that switched off (every run stores its problems again: the behaviour before).
Prints, per sync, the rows in `problems`, the sync's seconds and the seconds spent comparing
its problems with the previous run's (inside the sync); asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jamsos_kemenkes.server import SimpegServer, demo_employees  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.roster.sync import sync_source  # noqa: E402
from gateway.sources.loader import make_plugin_manager, source_catalog  # noqa: E402
from gateway.store.registry import Registry  # noqa: E402
from gateway.store.tables import problems  # noqa: E402

TODAY = date(2025, 6, 2)
COMPARING: list[float] = []  # seconds of each Registry.share_problems call
_share = Registry.share_problems


def _timed_share(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        return _share(self, *args, **kwargs)
    finally:
        COMPARING.append(time.perf_counter() - started)


Registry.share_problems = _timed_share  # type: ignore[method-assign]


def run(label: str, employees: list[dict], syncs: int) -> None:
    os.environ["BENCH_SIMPEG_PASSWORD"] = "rahasia-demo"
    with tempfile.TemporaryDirectory() as tmp, SimpegServer(employees) as server:
        app = create_app({"INSTANCE_PATH": str(Path(tmp) / "instance"), "CONFIG_FILE": None})
        with app.app_context():
            gw = app.extensions["jamsos"]
            pm = make_plugin_manager(allow=["kemenkes"])
            settings = {"url": server.url, "username": "jamsos", "timeout": 120,
                        "password": "$env:BENCH_SIMPEG_PASSWORD"}  # fmt: skip
            print(f"{label}:")
            for n in range(1, syncs + 1):
                source = source_catalog(pm, {"kemenkes-ppnpn": settings})["kemenkes-ppnpn"]
                COMPARING.clear()
                started = time.perf_counter()
                result = sync_source(gw.registry, pm, source.create(), today=TODAY,
                                     trigger="bench", full=True)  # fmt: skip
                seconds = time.perf_counter() - started
                with gw.engine.connect() as conn:
                    stored = conn.execute(select(func.count()).select_from(problems)).scalar()
                print(f"  sync {n}: {result.status:<9} warnings+rejections "
                      f"{result.report.warnings + result.report.rejected:>6}  "
                      f"rows in problems {stored:>7}  {seconds:6.2f} s  comparing "
                      f"{sum(COMPARING):5.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=20_000)
    parser.add_argument("--error-rate", type=float, default=0.5)
    parser.add_argument("--syncs", type=int, default=7)
    args = parser.parse_args()
    employees = demo_employees(args.workers, seed=21, error_rate=args.error_rate)
    run("kept once (now)", employees, args.syncs)
    global _share
    _share = lambda *a, **k: None  # noqa: E731 - the behaviour before: nothing shared
    run("stored again each sync (before)", employees, args.syncs)


if __name__ == "__main__":
    main()
