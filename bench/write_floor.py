"""The floor of an apply on SQLite: writing rows that are already validated and encrypted.

    .venv/bin/python bench/write_floor.py               # 100,000 rows
    .venv/bin/python bench/write_floor.py --rows 1000000

Creates a fresh registry (the real migrations, so the real indexes), then inserts `--rows`
synthetic new workers, their enrollments and history rows, the way an apply does (one
transaction, `executemany` in batches, values shared by all rows written into the statement),
and again with no Python per row at all (`INSERT ... SELECT` from an attached SQLite file
holding the same rows). Prints microseconds per row for each table and the commit: what no
amount of work on reading, validating or encrypting can go below. Asserts nothing.
"""

from __future__ import annotations

import argparse
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SNAPSHOT = (
    '{"category": "honorer", "position": "Operator Komputer", "work_unit": "Dinas Kesehatan", '
    '"wage": 5100000, "start_date": "2016-01-01", "end_date": null, "status": "active"}'
)
WORKERS = "id, nik_index, nik_enc, name_enc, birth_date, gender, nik_region"
ENROLLMENTS = (
    "id, worker_id, category, position, work_unit, wage, start_date, record_hash, row_digest"
)
HISTORY = "enrollment_id, after"


def rows(n: int) -> tuple[list, list, list]:
    workers = [
        (i, secrets.token_hex(32), "k1:" + secrets.token_urlsafe(52),
         "k1:" + secrets.token_urlsafe(40), "1980-01-01", "L", "31.74")
        for i in range(1, n + 1)
    ]  # fmt: skip
    enrollments = [
        (i, i, "honorer", "Operator Komputer", "Dinas Kesehatan", 5_100_000, "2016-01-01",
         secrets.token_hex(16), secrets.token_hex(16))
        for i in range(1, n + 1)
    ]  # fmt: skip
    history = [(i, SNAPSHOT) for i in range(1, n + 1)]
    return workers, enrollments, history


def registry(folder: Path) -> sqlite3.Connection:
    from gateway.app import create_app

    app = create_app({"INSTANCE_PATH": str(folder), "CONFIG_FILE": None, "AUTO_MIGRATE": True})
    app.extensions["jamsos"].registry  # noqa: B018 - migrate
    conn = sqlite3.connect(folder / "jamsos.db", isolation_level=None)
    # The gateway's own settings (store/db.py).
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-32768"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(
        "INSERT INTO runs (id, agency, source, trigger, mode, status, started_at) "
        "VALUES (1, '31', 'bench', 'bench', 'snapshot', 'running', '2026-01-01')"
    )
    return conn


def with_executemany(conn: sqlite3.Connection, data: tuple[list, list, list]) -> dict[str, float]:
    workers = data[0]
    statements = (
        f"INSERT INTO workers ({WORKERS}, created_at, updated_at) VALUES (?,?,?,?,?,?,?,'t','t')",
        f"INSERT INTO enrollments ({ENROLLMENTS}, agency, end_date, status, first_run_id, "
        "last_run_id, seen_run_id, created_at, updated_at) VALUES "
        "(?,?,?,?,?,?,?,?,?,'31',NULL,'active',1,1,1,'t','t')",
        f"INSERT INTO enrollment_history ({HISTORY}, run_id, change, before, at) VALUES "
        "(?,?,1,'new',NULL,'t')",
    )
    spent = dict.fromkeys(("workers", "enrollments", "history", "commit"), 0.0)
    conn.execute("BEGIN IMMEDIATE")
    for start in range(0, len(workers), 4000):
        for name, sql, table in zip(spent, statements, data, strict=False):
            began = time.perf_counter()
            conn.executemany(sql, table[start : start + 4000])
            spent[name] += time.perf_counter() - began
    began = time.perf_counter()
    conn.execute("COMMIT")
    spent["commit"] = time.perf_counter() - began
    return spent


def with_insert_select(
    conn: sqlite3.Connection, data: tuple[list, list, list], folder: Path
) -> dict[str, float]:
    staged = sqlite3.connect(folder / "staged.db")
    staged.execute("PRAGMA journal_mode=OFF")
    for name, columns, table in zip("weh", (WORKERS, ENROLLMENTS, HISTORY), data, strict=True):
        count = len(columns.split(","))
        staged.execute(f"CREATE TABLE {name} ({columns})")
        staged.executemany(f"INSERT INTO {name} VALUES ({','.join('?' * count)})", table)
    staged.commit()
    staged.close()
    conn.execute("ATTACH ? AS staged", (str(folder / "staged.db"),))
    spent: dict[str, float] = {}
    conn.execute("BEGIN IMMEDIATE")
    for name, sql in (
        ("workers", f"INSERT INTO workers ({WORKERS}, created_at, updated_at) "
                    f"SELECT {WORKERS}, 't', 't' FROM staged.w"),
        ("enrollments", f"INSERT INTO enrollments ({ENROLLMENTS}, agency, status, "
                        "first_run_id, last_run_id, seen_run_id, created_at, updated_at) "
                        f"SELECT {ENROLLMENTS}, '31', 'active', 1, 1, 1, 't', 't' FROM staged.e"),
        ("history", f"INSERT INTO enrollment_history ({HISTORY}, run_id, change, at) "
                    f"SELECT {HISTORY}, 1, 'new', 't' FROM staged.h"),
    ):  # fmt: skip
        began = time.perf_counter()
        conn.execute(sql)
        spent[name] = time.perf_counter() - began
    began = time.perf_counter()
    conn.execute("COMMIT")
    spent["commit"] = time.perf_counter() - began
    return spent


def report(label: str, spent: dict[str, float], n: int) -> None:
    parts = "  ".join(f"{k} {v / n * 1e6:5.1f}" for k, v in spent.items())
    total = sum(spent.values()) / n * 1e6
    print(f"{label:<22} {total:5.1f} us/row ({1e6 / total:>9,.0f} rows/s)   {parts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    data = rows(args.rows)
    print(
        f"{args.rows:,} new workers, enrollments and history rows; SQLite {sqlite3.sqlite_version}"
    )
    with tempfile.TemporaryDirectory(prefix="jamsos-floor-") as tmp:
        conn = registry(Path(tmp) / "a")
        report("executemany (gateway)", with_executemany(conn, data), args.rows)
        conn.close()
        conn = registry(Path(tmp) / "b")
        report("INSERT ... SELECT", with_insert_select(conn, data, Path(tmp) / "b"), args.rows)
        conn.close()


if __name__ == "__main__":
    main()
