"""What the identity check (store/identity.py) costs on rosters that share workers.

    .venv/bin/python bench/identity.py [--rows 50000] [--backend sqlite|postgresql]

On a fresh registry: agency 31 enrols `--rows` workers (no worker is shared: nothing to
check), then agency 15.05 sends the same workers (each new to it and enrolled elsewhere: one
lookup of the other agencies per batch, the two names decrypted and compared), a tenth of
them under another name (identity conflicts recorded, rows warned), then sends them all
again with a raise (every row changed and shared: checked again; the conflicts refreshed).
Prints seconds and rows per second per step; asserts nothing. Compare with a checkout
before the identity check to see its share.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.app import create_app  # noqa: E402
from gateway.demo.rosters import generate_roster, write_csv  # noqa: E402
from gateway.domain.agencies import resolve_agency  # noqa: E402
from gateway.roster.submit import submit_roster  # noqa: E402

TODAY = date(2026, 11, 21)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = {"INSTANCE_PATH": str(folder / "instance"), "CONFIG_FILE": None}
        server = None
        if args.backend == "postgresql":
            from tests.pg import PostgresServer, find_bindir

            bindir = find_bindir()
            if bindir is None:
                sys.exit("PostgreSQL binaries (initdb, pg_ctl) not found")
            server = PostgresServer(bindir)
            server.start()
            config["DATABASE_URL"] = server.url("postgres")
        app = create_app(config)
        try:
            with app.app_context():
                gw = app.extensions["jamsos"]
                if args.backend == "postgresql":
                    from gateway.store.db import upgrade

                    upgrade(gw.engine)
                n = args.rows
                held = list(generate_roster(n, seed=7, province="31"))
                renamed = [{**r, "Nama Lengkap": f"Nama Lain {i}"} if i % 10 == 0 else r
                           for i, r in enumerate(held)]  # fmt: skip
                raised = [{**r, "Gaji": "4.000.000"} for r in renamed]
                steps = [
                    ("31 enrols (nothing shared)", "31", held),
                    ("15.05 sends them, 10 % renamed", "15.05", renamed),
                    ("15.05 again, all with a raise", "15.05", raised),
                ]
                for number, (label, code, rows) in enumerate(steps):
                    path = folder / f"step{number}.csv"
                    write_csv(path, rows)
                    began = time.perf_counter()
                    report = submit_roster(gw.registry, path, agency=resolve_agency(code),
                                           today=TODAY, trigger="bench")  # fmt: skip
                    took = time.perf_counter() - began
                    warned = sum(1 for p in report.problems if p["code"] == "identity_conflict")
                    print(f"{label:34s} {took:7.2f} s  {n / took:9,.0f} rows/s  "
                          f"{report.changes}  identity warnings {warned:,}")
        finally:
            app.extensions["jamsos"].engine.dispose()
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
