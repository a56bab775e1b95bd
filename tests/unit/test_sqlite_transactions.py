"""SQLite transactions: writers queue, readers never wait for them (`store/db.py`).

A writer (`writing(engine)`) begins with BEGIN IMMEDIATE: it takes the write lock before it
reads, so a writer that reads first and writes later waits for another writer instead of
failing with "database is locked" when the other committed in between. A reader
(`engine.connect()`) begins a deferred transaction and, in WAL mode, reads the last committed
state while a writer holds the lock (a roster apply can hold it for a minute).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gateway.store.db import make_engine, writing

ROOT = Path(__file__).resolve().parents[2]
CEILING = 30.0  # seconds: the most a step that should happen may take before the test fails
QUIET = 1.0  # seconds the first writer gives the second to (wrongly) read before it


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'jamsos.db'}")
    with writing(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    yield engine
    engine.dispose()


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM t")).scalar_one()


def test_a_reader_reads_the_committed_state_while_a_writer_holds_the_lock(engine):
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with writing(engine) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            held.set()
            release.wait(CEILING)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert held.wait(CEILING)
        # Answered while the writer still holds the lock: its row is not committed yet.
        assert count(engine) == 0
        assert thread.is_alive()
    finally:
        release.set()
        thread.join(CEILING)
    assert count(engine) == 1


def test_writers_that_read_first_queue_instead_of_failing(engine):
    """Each writer reads the count, then writes the next number: with the write lock taken at
    BEGIN the second waits for the first and sees its row; with a deferred BEGIN it would read
    first, then fail to write ("database is locked": its snapshot went stale)."""
    first_read, second_read = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with writing(engine) as conn:
                n = conn.execute(text("SELECT count(*) FROM t")).scalar_one()
                first_read.set()
                second_read.wait(QUIET)  # the second cannot read now: it waits at BEGIN
                conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    def second() -> None:
        try:
            assert first_read.wait(CEILING)
            with writing(engine) as conn:
                n = conn.execute(text("SELECT count(*) FROM t")).scalar_one()
                second_read.set()
                conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CEILING)
    assert errors == []
    with engine.connect() as conn:
        assert [n for (n,) in conn.execute(text("SELECT n FROM t ORDER BY n"))] == [1, 2]


def test_the_gateway_writes_only_through_writing():
    """`engine.begin()` would begin a deferred transaction on SQLite: a writer that reads
    first could then fail under contention. Every write goes through `writing(engine)`."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "gateway").rglob("*.py"))
        if path.name != "db.py" or path.parent.name != "store"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bengine\.begin\(\)", line)
    ]
    assert offenders == []
