"""Identity verification benchmark: a pass against the loopback Dukcapil service, and the
queries that decide who is asked and what people see, on a registry of `--rows` workers.

    .venv/bin/python bench/verify.py                      # 20,000 workers, 2,000 asked
    .venv/bin/python bench/verify.py --rows 100000 --asked 5000 --batch 100

Applies a generated roster (SQLite file, a temporary instance), starts the loopback service
holding the same people (one in 50 deceased, one in 40 with another name), then measures:

  pass        `--asked` workers verified over real HTTP on 127.0.0.1 (people/s, and the
              gateway's own share: the pass minus the service's time is not separable here,
              so both are printed with the request count)
  pending     one batch of pending workers (what every batch of a pass reads), with most of
              the registry still pending and again with `--asked` answered
  run page    a run's counts and problems (what the run page and the API read)
  agency      an agency's counts and first page of problems
  counts      compliance counts for every agency

Prints numbers; asserts nothing. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENCY = "15.05"


def timed(what: str, fn, repeat: int = 5) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    print(f"  {what:<44} {best * 1000:9.1f} ms (best of {repeat})")


def population_of(roster: Path) -> list:
    """The residents the roster names, as the registry would hold them."""
    import csv

    from jamsos_dukcapil.server import Resident, _date, _gender

    with open(roster, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    return [Resident(r["NIK"], r["Nama Lengkap"], _date(r["Tanggal Lahir"]),
                     _gender(r["Jenis Kelamin"])) for r in rows]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--asked", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()

    from jamsos_dukcapil.server import DukcapilServer

    from gateway.app import create_app
    from gateway.demo.rosters import generate_roster, write_csv
    from gateway.domain.agencies import resolve_agency
    from gateway.roster.submit import submit_roster
    from gateway.store import verification as store
    from gateway.verify.run import verify_pending
    from gateway.verify.settings import verification_settings

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        roster = folder / "roster.csv"
        write_csv(roster, generate_roster(args.rows, seed=19, regency=AGENCY, province="15"))
        app = create_app({"INSTANCE_PATH": str(folder / "instance"), "CONFIG_FILE": None})
        with app.app_context():
            gw = app.extensions["jamsos"]
            start = time.perf_counter()
            report = submit_roster(gw.registry, roster, agency=resolve_agency(AGENCY),
                                   today=date(2026, 1, 15), trigger="bench")  # fmt: skip
            print(f"registry: {args.rows:,} workers applied in "
                  f"{time.perf_counter() - start:.1f} s (run {report.run_id})")
            people = population_of(roster)
            for i, person in enumerate(people):
                if i % 50 == 7:
                    person.status = "deceased"
                elif i % 40 == 3:
                    person.name = "Nama Lain Sekali"
            engine = gw.engine
            stale = datetime.now(UTC) - timedelta(days=365)

            def pending() -> None:
                with engine.connect() as conn:
                    store.pending_workers(conn, stale_before=stale, limit=args.batch)

            print(f"queries before any answer (batch {args.batch}):")
            timed("pending: one batch", pending)
            with DukcapilServer(people) as server:
                os.environ["JAMSOS_BENCH_DUKCAPIL"] = "rahasia-demo"
                settings = verification_settings({"VERIFICATION": {
                    "provider": "dukcapil", "batch_size": args.batch,
                    "dukcapil": {"url": server.url, "user_id": "jamsos",
                                 "password": "$env:JAMSOS_BENCH_DUKCAPIL",
                                 "caller_ip": "127.0.0.1"}}})  # fmt: skip
                start = time.perf_counter()
                result = verify_pending(engine, gw.keyring, gw.plugins, settings,
                                        limit=args.asked)  # fmt: skip
                took = time.perf_counter() - start
            print(f"pass: {result.asked:,} people in {took:.1f} s = {result.asked / took:,.0f}/s "
                  f"({len(server.requests):,} HTTP requests; {dict(result.answers)})")
            print(f"queries with {result.asked:,} answered:")
            timed("pending: one batch", pending)
            timed("run page: counts", lambda: store.run_counts(engine, report.run_id))
            timed("run page: problems (up to 500)",
                  lambda: store.run_problems(engine, report.run_id))
            timed("agency page: counts", lambda: store.agency_counts(engine, AGENCY))
            timed("agency page: first 50 problems",
                  lambda: store.agency_problems(engine, AGENCY, limit=50))
            timed("compliance: counts for every agency", lambda: store.agency_counts(engine))
            engine.dispose()


if __name__ == "__main__":
    main()
