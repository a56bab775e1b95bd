"""What a signed audit checkpoint costs (store/audit.py), on a real SQLite registry.

    .venv/bin/python bench/audit_checkpoints.py [--runs 20000] [--history 1000000]

Builds a fresh instance with one real roster applied, then pads the registry with synthetic
finished runs and history rows (plain INSERTs: what is timed reads them, it does not care
where they came from), and times the checkpoint written after every run (chain head, the
new runs' digest, the new history rows' count), the full one of `jamsos audit checkpoint`
(also a digest of every history row) and `audit verify_all`. Prints seconds; asserts
nothing.
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

from sqlalchemy import text  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.domain.agencies import resolve_agency  # noqa: E402
from gateway.roster.submit import submit_roster  # noqa: E402
from gateway.store import audit  # noqa: E402
from gateway.store.db import writing  # noqa: E402
from tests.helpers.roster import worker_row, write_roster  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"INSTANCE_PATH": tmp, "CONFIG_FILE": None})
        with app.app_context():
            gw = app.extensions["jamsos"]
            roster = write_roster(Path(tmp) / "r.csv", [worker_row(i) for i in range(5000)])
            submit_roster(gw.registry, roster, agency=resolve_agency("15.05"),
                          today=date(2026, 1, 5), trigger="bench")
            with writing(gw.engine) as conn:
                conn.execute(text(
                    "INSERT INTO runs (agency, source, trigger, mode, input_sha256, status, "
                    "started_at, finished_at, rows, accepted) SELECT agency, source, trigger, "
                    "mode, input_sha256, 'succeeded', started_at, finished_at, rows, accepted "
                    "FROM runs, (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM "
                    f"n WHERE i < {args.runs}) SELECT i FROM n) LIMIT {args.runs}"))
                have = conn.execute(text("SELECT count(*) FROM enrollment_history")).scalar()
                while have < args.history:
                    conn.execute(text(
                        "INSERT INTO enrollment_history (enrollment_id, run_id, change, "
                        "before, after, at) SELECT enrollment_id, run_id, change, before, "
                        f"after, at FROM enrollment_history LIMIT {args.history - have}"))
                    have = conn.execute(text("SELECT count(*) FROM enrollment_history")).scalar()
            print(f"registry: {args.runs + 1:,} runs, {have:,} history rows")
            steps = (("first ever (covers every run: once, after the upgrade)", False),
                     ("after the next run (what each run pays)", False),
                     ("jamsos audit checkpoint (full: every history row)", True))
            for label, full in steps:
                started = time.perf_counter()
                with writing(gw.engine) as conn:
                    audit.checkpoint(conn, gw.signer, full=full)
                print(f"checkpoint {label}: {time.perf_counter() - started:.3f} s")
            started = time.perf_counter()
            verdict = audit.verify_all(gw.engine, [gw.signer.public])
            print(f"audit verify (chain, checkpoints, runs, history digest): "
                  f"{time.perf_counter() - started:.3f} s ({len(verdict.problems):,} findings: the "
                  "padded runs have no audit entry, as it should say)")
            gw.engine.dispose()


if __name__ == "__main__":
    main()
