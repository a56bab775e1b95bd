"""Budget check over a large registry: how long `check_budget` takes for one government.

    .venv/bin/python bench/budget_check.py                 # 1,000,000 enrollments
    .venv/bin/python bench/budget_check.py --enrollments 200000

Fills a fresh SQLite registry directly (placeholder ciphertexts: the check never decrypts),
then times the check. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    args = parser.parse_args()

    from sqlalchemy import insert

    from gateway.app import create_app
    from gateway.budget.allocation import declare_allocation
    from gateway.budget.check import check_budget
    from gateway.budget.rates import load_packages, load_schedule
    from gateway.store.tables import enrollments, runs, workers

    with tempfile.TemporaryDirectory(prefix="jamsos-budget-") as tmp:
        app = create_app({"INSTANCE_PATH": tmp, "CONFIG_FILE": None})
        gw = app.extensions["jamsos"]
        engine = gw.registry.engine
        now = datetime.now(UTC)
        rng = random.Random(1)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            run_id = conn.execute(insert(runs).values(
                agency="31", source="bench", trigger="bench", status="succeeded",
                started_at=now).returning(runs.c.id)).scalar_one()
            for start in range(0, args.enrollments, 50_000):
                ids = range(start + 1, min(start + 50_000, args.enrollments) + 1)
                conn.execute(insert(workers), [
                    {"id": i, "nik_index": f"{i:064d}", "nik_enc": "x", "name_enc": "x",
                     "birth_date": date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
                     "gender": "L", "nik_region": "31.74", "created_at": now,
                     "updated_at": now} for i in ids])
                conn.execute(insert(enrollments), [
                    {"worker_id": i, "agency": "31",
                     "category": "honorer" if i % 5 else "ppnpn",
                     "position": "Sopir" if i % 17 == 0 else "Tenaga Administrasi",
                     "wage": rng.randrange(2_500_000, 6_000_000, 1000),
                     "start_date": date(2020 + i % 6, 1 + i % 12, 1),
                     "end_date": date(2025, 6, 30) if i % 23 == 0 else None,
                     "status": "active", "record_hash": "x", "first_run_id": run_id,
                     "last_run_id": run_id, "seen_run_id": run_id, "created_at": now,
                     "updated_at": now} for i in ids])
        print(f"filled {args.enrollments:,} enrollments in {time.perf_counter() - t0:.1f}s")
        declare_allocation(engine, "31", 2025, {"jkk": 10**11, "jkm": 10**11}, None)
        schedule, packages = load_schedule(), load_packages()
        t0 = time.perf_counter()
        result = check_budget(engine, "31", 2025, schedule=schedule, packages=packages)
        elapsed = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"budget check: {elapsed:.2f}s for {result.workers:,} enrollments "
              f"({result.workers / elapsed:,.0f}/s), status {result.status}, obligation "
              f"Rp {result.obligation:,}, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
