"""What one periodic sweep pass costs (issue 20): every gateway process runs it every
SWEEP_SECONDS (heartbeat, stale-run sweep, upload spools, the alert check over the feeds).

    .venv/bin/python bench/sweep_pass.py                         # SQLite, 20,000 runs
    .venv/bin/python bench/sweep_pass.py --runs 100000 --backend postgresql

Fills a fresh registry with `--runs` finished runs spread over `--sources` sources (inserted
directly: the sweep only reads them), one run left `running` by a live process, then times
`--passes` calls of `Gateway.sweep()`. Prints the median and worst pass; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.store.db import writing  # noqa: E402
from gateway.store.tables import runs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = {"INSTANCE_PATH": str(Path(tmp) / "instance"), "CONFIG_FILE": None,
                  "SWEEP_SECONDS": 0}  # fmt: skip
        server = None
        if args.backend == "postgresql":
            from tests.pg import PostgresServer, find_bindir

            server = PostgresServer(find_bindir())
            server.start()
            config["DATABASE_URL"] = server.url("postgres")
            config["AUTO_MIGRATE"] = True
        try:
            app = create_app(config)
            gw = app.extensions["jamsos"]
            with app.app_context():
                gw.ensure_ready()
                started = datetime.now(UTC) - timedelta(days=30)
                rows = [{"agency": f"{11 + i % args.sources // 100}.{i % 99 + 1:02d}",
                         "source": "upload", "trigger": "bench", "actor": "bench",
                         "mode": "snapshot", "status": ("succeeded", "failed", "rejected")[i % 3],
                         "started_at": started + timedelta(minutes=i),
                         "finished_at": started + timedelta(minutes=i, seconds=30),
                         "rows": 100, "accepted": 99, "rejected": 1, "warnings": 0}
                        for i in range(args.runs)]  # fmt: skip
                with writing(gw.engine) as conn:
                    for at in range(0, len(rows), 5000):
                        conn.execute(insert(runs), rows[at:at + 5000])
                gw.registry.start_run(agency="15.05", source="upload", trigger="bench")
                times = []
                for _ in range(args.passes):
                    t0 = time.perf_counter()
                    gw.sweep()
                    times.append(time.perf_counter() - t0)
            print(f"backend {args.backend}, {args.runs:,} runs, {args.sources} feeds: "
                  f"sweep pass median {statistics.median(times) * 1000:.1f} ms, "
                  f"worst {max(times) * 1000:.1f} ms over {args.passes} passes")
            gw.engine.dispose()
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
