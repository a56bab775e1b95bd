"""A burst of regional sync DAGs and the budget check at once on a real Airflow (issue 20).

    .venv/bin/python bench/airflow_burst.py                      # 50 governments, 3 scenarios
    .venv/bin/python bench/airflow_burst.py --governments 20 --rows 100 --scenarios pool

Each scenario starts a fresh throwaway PostgreSQL database pair (Airflow's metadata, the
gateway's registry) and a real Airflow (API server, scheduler, DAG processor; LocalExecutor,
tests/airflow/cluster.py), gives each of `--governments` regencies a drop folder with a
roster of `--rows` workers, triggers every regional sync DAG and the budget check over the
REST API, and follows them to their end. Scenarios:

* `burst`: every sync at once, the registry writers' pool as large as the burst (no cap),
  as `0 4 * * *` for every regency did;
* `pool`: every sync at once, the pool at `--slots` (default 4);
* `spread`: the pool at `--slots`, each sync triggered at its government's minute of the
  spread window (gateway/domain/schedules.py), the 180-minute window compressed to
  `--window` seconds.

Printed per scenario: seconds from the first trigger until every run ended, runs failed,
the peak number of connections to PostgreSQL (pg_stat_activity: in all, to Airflow's
metadata DB, to the registry; sampled every 0.5 s), the peak number of gateway runs
`running` at once and the peak memory (PSS: shared pages counted once) of Airflow's
process tree (API server, scheduler and its task processes, DAG processor). Asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.demo.rosters import generate_roster, write_csv  # noqa: E402
from gateway.domain.regions import regencies_and_cities  # noqa: E402
from gateway.domain.schedules import spread_schedule  # noqa: E402
from tests.airflow.cluster import AirflowCluster  # noqa: E402
from tests.pg import PostgresServer, find_bindir  # noqa: E402

ROSTER = (
    '[sources."roster-{code}"]\ntype = "regional-roster"\nagency = "{code}"\nfolder = "{folder}"\n'
)


class Sampler(threading.Thread):
    """Peaks while the burst runs: PostgreSQL connections (all, Airflow's metadata DB, the
    registry), gateway runs `running` at once, and the PSS of Airflow's process tree."""

    def __init__(self, pg: PostgresServer, af: AirflowCluster, registry: str) -> None:
        super().__init__(daemon=True)
        self.pg, self.af, self.registry = pg, af, registry
        self.peak = {"connections": 0, "metadata": 0, "registry": 0, "running": 0}
        self.peak_rss = 0
        self.stop = threading.Event()

    def rss(self) -> int:
        total = 0
        for proc in self.af.procs.values():
            try:
                root = psutil.Process(proc.pid)
                for p in [root, *root.children(recursive=True)]:
                    # PSS: forked LocalExecutor workers share most of their pages, and
                    # summing RSS would count those once per process.
                    total += p.memory_full_info().pss
            except psutil.Error:
                continue
        return total

    def run(self) -> None:
        import psycopg

        with (
            psycopg.connect(self.pg.url(), autocommit=True) as conn,
            psycopg.connect(self.pg.url(self.registry), autocommit=True) as reg,
        ):
            while not self.stop.is_set():
                by_db = dict(
                    conn.execute(
                        "SELECT datname, count(*) FROM pg_stat_activity"
                        " WHERE backend_type = 'client backend' GROUP BY datname"
                    ).fetchall()
                )
                (running,) = reg.execute(
                    "SELECT count(*) FROM runs WHERE status = 'running'"
                ).fetchone()
                now = {
                    "connections": sum(by_db.values()) - 2,  # not the sampler's own two
                    "metadata": by_db.get(self.af.metadata_db, 0),
                    "registry": by_db.get(self.registry, 0) - 1,
                    "running": running,
                }
                for key, value in now.items():
                    self.peak[key] = max(self.peak[key], int(value))
                self.peak_rss = max(self.peak_rss, self.rss())
                time.sleep(0.5)


def scenario(name: str, pg: PostgresServer, template: str, args: argparse.Namespace) -> dict:
    import psycopg

    root = Path(tempfile.mkdtemp(prefix=f"jamsos-burst-{name}-"))
    codes = [r.code for r in regencies_and_cities()][: args.governments]
    text = ""
    for code in codes:
        folder = root / f"drop_{code}"
        folder.mkdir()  # empty until the burst: the runs on startup find nothing to do
        text += ROSTER.format(code=code, folder=folder) + "\n"
    sources = root / "sources.toml"
    sources.write_text(text, encoding="utf-8")
    registry = f"jamsos_burst_{name}"
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {registry} TEMPLATE {template}")  # type: ignore[arg-type]
    slots = len(codes) + 1 if name == "burst" else args.slots
    af = AirflowCluster(
        root, pg, registry_url=pg.url(registry), sources=sources, instance=root / "instance",
        parallelism=args.parallelism, pool_slots=slots,
        env={"JAMSOS_AIRFLOW_RETRIES": "0", "JAMSOS_AIRFLOW_DEADLINE_MINUTES": "0"},
    )  # fmt: skip
    dag_ids = [f"jamsos_sync_roster-{c}" for c in codes]
    with af:
        af.wait_dags([*dag_ids, "jamsos_budget_check"], timeout=300)
        # Unpaused at creation, each DAG ran once for its last missed time, on an empty
        # folder: let those end, then put the rosters in place for the burst.
        settle = time.monotonic() + 600
        while time.monotonic() < settle:
            runs = [r for d in dag_ids for r in af.runs(d)]
            if len(runs) >= len(dag_ids) and all(r["state"] in ("success", "failed") for r in runs):
                break
            time.sleep(2)
        for i, code in enumerate(codes):
            rows = generate_roster(args.rows, seed=i, regency=code)
            write_csv(root / f"drop_{code}" / "roster.csv", rows)
        for d in ("jamsos_budget_check", "jamsos_daily_report"):
            for r in af.runs(d):
                af.wait(d, r["dag_run_id"], timeout=600)
        sampler = Sampler(pg, af, registry)
        sampler.start()
        started = time.monotonic()
        triggered: list[tuple[str, str]] = []
        if name == "spread":
            offsets = sorted(
                (_minute(spread_schedule("0 4 * * *", c, 180)) * args.window / 180, d)
                for c, d in zip(codes, dag_ids, strict=True)
            )
            for offset, dag_id in offsets:
                time.sleep(max(0.0, started + offset - time.monotonic()))
                triggered.append((dag_id, af.trigger(dag_id)))
        else:
            triggered = [(d, af.trigger(d)) for d in dag_ids]
        triggered.append(("jamsos_budget_check", af.trigger("jamsos_budget_check")))
        states = [af.wait(d, r, timeout=1800)["state"] for d, r in triggered]
        seconds = time.monotonic() - started
        sampler.stop.set()
        sampler.join()
    return {
        "scenario": name,
        "governments": len(codes),
        "pool_slots": slots,
        "seconds": round(seconds, 1),
        "failed": states.count("failed"),
        "peak_db_connections": sampler.peak["connections"],
        "peak_metadata_connections": sampler.peak["metadata"],
        "peak_registry_connections": sampler.peak["registry"],
        "peak_running_syncs": sampler.peak["running"],
        "peak_rss_mb": round(sampler.peak_rss / 2**20),
        "startup_seconds": round(af.timings["ready"], 1),
    }


def _minute(cron: str | None) -> int:
    minute, hour = (cron or "0 4").split()[:2]
    return int(hour) * 60 + int(minute) - 240


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--governments", type=int, default=50)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--window", type=float, default=120.0, help="seconds for 180 minutes")
    parser.add_argument("--scenarios", default="burst,pool,spread")
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL binaries (initdb, pg_ctl) not found")
    pg = PostgresServer(bindir)
    pg.start()
    try:
        import psycopg

        from gateway.store import db

        with psycopg.connect(pg.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE jamsos_template")
        engine = db.make_engine(pg.url("jamsos_template"))
        db.upgrade(engine)
        engine.dispose()
        print(f"{psutil.cpu_count()} CPUs; PostgreSQL max_connections=200; "
              f"parallelism {args.parallelism}; {args.rows} rows per roster")  # fmt: skip
        for name in args.scenarios.split(","):
            result = scenario(name, pg, "jamsos_template", args)
            print(
                f"{name:<7} {result['governments']} syncs + budget check, pool "
                f"{result['pool_slots']}: {result['seconds']} s, {result['failed']} failed, "
                f"peak DB connections {result['peak_db_connections']} (Airflow "
                f"{result['peak_metadata_connections']}, registry "
                f"{result['peak_registry_connections']}), peak {result['peak_running_syncs']} "
                f"syncs running at once, peak {result['peak_rss_mb']} MB PSS "
                f"(Airflow up in {result['startup_seconds']} s)",
                flush=True,
            )
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
