"""Dashboard page times on a large registry: 1,000,000 enrollments and 10,000 runs.

    .venv/bin/python bench/web_pages.py                      # fill bench/out/web.db once, time
    .venv/bin/python bench/web_pages.py --enrollments 100000 --runs 2000 --fresh

The registry is filled by direct inserts (the apply path is bench/ingest.py's subject, not
this one's): workers with real AES-GCM ciphertexts and blind indexes (the agency page
decrypts the rows it shows), enrollments spread over 300 regional governments plus one big
province of 200,000, runs over two years with their problems (one run with 100,000), and a
budget allocation for most governments. The database file is kept for the next run.

Each page is fetched through the real Flask app (a logged-in test client, no network): once
cold (fresh process caches) and five times warm; the median warm time is printed. It prints
numbers; it never asserts on them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.app import create_app  # noqa: E402
from gateway.domain.budget import ACCOUNT_CODES  # noqa: E402
from gateway.domain.nik import make_nik  # noqa: E402
from gateway.domain.records import Gender  # noqa: E402
from gateway.domain.regions import regencies_and_cities  # noqa: E402
from gateway.store.users import create_user  # noqa: E402

BIG = "31"  # DKI Jakarta: the province government with the big roster
PASSWORD = "bench-password-123"
HEAVY_PROBLEMS = 100_000


def fill(app, n_enrollments: int, n_runs: int) -> dict:  # type: ignore[no-untyped-def]
    gw = app.extensions["jamsos"]
    registry = gw.registry  # migrates
    ring = registry.keyring
    rng = random.Random(7)
    governments = [r.code for r in regencies_and_cities()][:300]
    now = datetime.now(UTC)
    raw = gw.engine.raw_connection()
    cur = raw.cursor()
    cur.execute("PRAGMA synchronous=OFF")
    t0 = time.perf_counter()

    # Runs: every government uploads about monthly; the big one has the heavy run.
    run_rows = []
    agencies = [BIG, *governments]
    for i in range(1, n_runs + 1):
        agency = BIG if i == n_runs else agencies[i % len(agencies)]
        started = now - timedelta(minutes=(n_runs - i) * 100)
        status = rng.choices(("succeeded", "rejected", "failed"), (95, 3, 2))[0]
        rows = HEAVY_PROBLEMS * 2 if i == n_runs else rng.randint(200, 5000)
        rejected = HEAVY_PROBLEMS if i == n_runs else int(rows * rng.random() * 0.05)
        run_rows.append((i, agency, "upload", "api", "snapshot", f"roster_{i}.csv", status,
                         started.isoformat(), (started + timedelta(seconds=40)).isoformat(),
                         rows, rows - rejected, rejected, 0, rng.randint(0, 50),
                         rng.randint(0, 50), rng.randint(0, 20), rows - rejected))
    cur.executemany(
        "INSERT INTO runs (id, agency, source, trigger, mode, filename, status, started_at, "
        "finished_at, rows, accepted, rejected, warnings, new, changed, ended, unchanged) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", run_rows)
    heavy = n_runs

    # Problems: about 20 per run, and the heavy run's 100,000.
    codes = [("nik", "nik_length", "NIK harus 16 digit.", "The NIK must have 16 digits."),
             ("wage", "wage_missing", "Upah wajib diisi.", "The wage is required."),
             ("birth_date", "date_invalid", "Tanggal tidak dikenali.", "Unknown date.")]
    batch = []
    for run_id in range(1, n_runs + 1):
        count = HEAVY_PROBLEMS if run_id == heavy else 20
        for k in range(count):
            field, code, mid, men = codes[k % 3]
            batch.append((run_id, 2 + k, field, code, "error", mid, men))
        if len(batch) > 50_000:
            cur.executemany("INSERT INTO problems (run_id, row, field, code, severity, "
                            "message_id, message_en) VALUES (?,?,?,?,?,?,?)", batch)
            batch.clear()
    cur.executemany("INSERT INTO problems (run_id, row, field, code, severity, message_id, "
                    "message_en) VALUES (?,?,?,?,?,?,?)", batch)
    print(f"  runs and problems: {time.perf_counter() - t0:.0f} s", flush=True)

    # Workers and enrollments: 200,000 for the big province, the rest spread evenly.
    big_n = min(200_000, n_enrollments // 5)
    stamp = now.isoformat()
    workers, enrolls = [], []
    for i in range(1, n_enrollments + 1):
        agency = BIG if i <= big_n else governments[i % len(governments)]
        gender = Gender.FEMALE if i % 2 else Gender.MALE
        born = date(1970 + i % 30, 1 + i % 12, 1 + i % 28)
        nik = make_nik("31.71", born, gender, serial=1 + i % 9999,
                       district=f"{1 + (i // 9999) % 99:02d}")
        # The blind index only has to be unique here: nobody looks these workers up.
        workers.append((i, ring.blind_index(f"bench-{i}"), ring.encrypt(nik, "workers.nik"),
                        ring.encrypt(f"Pekerja Nomor {i}", "workers.name"), born.isoformat(),
                        gender.value, "31.71", stamp, stamp))
        status = "ended" if i % 10 == 0 else "active"
        enrolls.append((i, i, agency, "honorer", "Tenaga Administrasi", "Sekretariat Daerah",
                        rng.randint(2_000_000, 6_000_000), "2024-01-01",
                        "2025-06-30" if status == "ended" else None, status, "h" * 32,
                        1, 1, 1, stamp, stamp))
        if len(workers) >= 50_000:
            _flush(cur, workers, enrolls)
            print(f"  {i:,} enrollments: {time.perf_counter() - t0:.0f} s", flush=True)
    _flush(cur, workers, enrolls)

    year = date.today().year
    allocations = []
    for n, gov in enumerate(governments):
        if n % 4 == 0:
            continue  # a quarter never budgeted
        for program, account in ACCOUNT_CODES.items():
            if program == "jht":
                continue
            allocations.append((gov, year, account, rng.randint(5, 60) * 1_000_000,
                                "apbd", stamp))
    cur.executemany("INSERT INTO budget_allocations (government, fiscal_year, account_code, "
                    "amount, source, received_at) VALUES (?,?,?,?,?,?)", allocations)
    raw.commit()
    cur.execute("ANALYZE")
    raw.close()
    with app.app_context():
        create_user(gw.engine, "bench", PASSWORD)
    print(f"  filled in {time.perf_counter() - t0:.0f} s", flush=True)
    return {"heavy": heavy}


def _flush(cur, workers: list, enrolls: list) -> None:  # type: ignore[no-untyped-def]
    cur.executemany("INSERT INTO workers (id, nik_index, nik_enc, name_enc, birth_date, gender, "
                    "nik_region, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)", workers)
    cur.executemany(
        "INSERT INTO enrollments (id, worker_id, agency, category, position, work_unit, wage, "
        "start_date, end_date, status, record_hash, first_run_id, last_run_id, seen_run_id, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", enrolls)
    workers.clear()
    enrolls.clear()


def timed(client, path: str) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    response = client.get(path)
    size = len(response.get_data())  # a streamed CSV is read to its end
    return (time.perf_counter() - start) * 1000, response.status_code, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--dir", default=str(ROOT / "bench" / "out" / "web"))
    parser.add_argument("--fresh", action="store_true", help="delete and refill the database")
    args = parser.parse_args()
    folder = Path(args.dir)
    db_file = folder / "jamsos.db"
    if args.fresh and folder.exists():
        for f in folder.iterdir():
            f.unlink()
    config = {"INSTANCE_PATH": str(folder), "CONFIG_FILE": None}
    app = create_app(config)
    if not db_file.exists() or db_file.stat().st_size < 1_000_000:
        print(f"filling {db_file} with {args.enrollments:,} enrollments and {args.runs:,} runs")
        fill(app, args.enrollments, args.runs)
    heavy = args.runs
    app = create_app(config)  # a fresh process state: caches empty
    client = app.test_client()
    token_page = client.get("/dashboard/login").text
    token = token_page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/dashboard/login", data={"username": "bench", "password": PASSWORD,
                                          "csrf_token": token})
    with app.app_context():
        last_id = app.extensions["jamsos"].registry.count_active(BIG)
    year = date.today().year
    pages = [
        ("overview", "/dashboard/"),
        ("feeds (all 301)", "/dashboard/feeds"),
        ("runs list", "/dashboard/runs"),
        ("runs of one agency", f"/dashboard/runs?agency={BIG}"),
        ("run detail (100k problems)", f"/dashboard/runs/{heavy}"),
        ("  filtered by code", f"/dashboard/runs/{heavy}?code=wage_missing"),
        ("  deep page (row 90,000)", f"/dashboard/runs/{heavy}?after=90000.0"),
        ("problems CSV (100k lines)", f"/dashboard/runs/{heavy}/problems.csv"),
        ("agency 200k workers, page 1", f"/dashboard/agencies/{BIG}"),
        ("  deep page", f"/dashboard/agencies/{BIG}?after={int(last_id * 0.9)}"),
        ("  ended only", f"/dashboard/agencies/{BIG}?status=ended"),
        ("agency 2.7k workers", "/dashboard/agencies/11.01"),
        ("budget list", f"/dashboard/budget?year={year}"),
        ("budget detail, 200k workers", f"/dashboard/budget/{BIG}?year={year}"),
        ("budget detail, 2.7k workers", f"/dashboard/budget/11.01?year={year}"),
        ("coverage", "/dashboard/coverage"),
        ("/metrics", "/metrics"),
        ("upload form", "/dashboard/upload"),
    ]
    print(f"\n{'page':<32} {'cold ms':>9} {'warm ms':>9}  status  bytes")
    for name, path in pages:
        cold, status, size = timed(client, path)
        warm = statistics.median(timed(client, path)[0] for _ in range(5))
        print(f"{name:<32} {cold:>9.0f} {warm:>9.0f}  {status:>6}  {size:,}", flush=True)
    # Spreadsheet exports (web/export.py: the whole list, written once) and the what-if (a
    # budget check over the registry with other wages): each timed once.
    print(f"\n{'export / what-if':<32} {'ms':>9}  status  bytes")
    for name, path in (
        ("problems xlsx (100k rows)", f"/dashboard/runs/{heavy}/problems.xlsx"),
        ("workers xlsx, big agency", f"/dashboard/agencies/{BIG}/workers.xlsx"),
        ("runs xlsx (every run)", "/dashboard/runs.xlsx"),
        ("budget what-if, big agency", f"/dashboard/budget/{BIG}?year={year}&what_if_raise=10"),
        ("coverage drill-down", "/dashboard/coverage?province=11"),
    ):
        took, status, size = timed(client, path)
        print(f"{name:<32} {took:>9.0f}  {status:>6}  {size:,}", flush=True)
    # Once every government's budget check is in the cache (as after a few views of the
    # budget page), the overview and the budget list are reads of the cache.
    from gateway.web.data import budget_rows

    with app.test_request_context():
        start = time.perf_counter()
        budget_rows(app.extensions["jamsos"].engine, year, auto_seconds=1e9)
        print(f"\n(every government's budget check computed: {time.perf_counter() - start:.1f} s)")
    for name, path in (("overview, budget cached", "/dashboard/"),
                       ("budget list, all cached", f"/dashboard/budget?year={year}")):
        cold, status, size = timed(client, path)
        warm = statistics.median(timed(client, path)[0] for _ in range(5))
        print(f"{name:<32} {cold:>9.0f} {warm:>9.0f}  {status:>6}  {size:,}", flush=True)


if __name__ == "__main__":
    main()
