"""What a worker process preparing a large roster reads from the registry, on its own
connection: row digests of unchanged rows and the workers already enrolled (`roster/parallel.py`).

Plain DB-API (sqlite3, psycopg) through `bulk.py`'s readers, never SQLAlchemy: the fork server
preloads the roster's worker code, and SQLAlchemy among its imports doubled a worker's start
time and memory (tests/unit/test_speedups.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from gateway.store.bulk import writer_for

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

# {row digest: enrollment id} of the agency's active enrollments last sent as these clean rows.
Probe = Callable[[list[str]], dict[str, int]]
# (nik_index, worker id, *the agency's enrollment or NULLs) of these blind indexes' workers
# (`BulkWriter.lookup`): done by a worker process, it spares the writing process the query.
Lookup = Callable[[list[str]], list[tuple]]


@dataclass(frozen=True)
class WorkerDatabase:
    """Where worker processes look row digests and workers up: a SQLite file (read-only) or
    PostgreSQL. Picklable: it crosses to the workers as their initializer's argument."""

    dialect: str
    target: str  # the SQLite file's path, or a libpq connection string
    agency: str

    @classmethod
    def of(cls, url: URL, agency: str) -> WorkerDatabase | None:
        """For the registry at `url`; None for an in-memory SQLite (private to its process)."""
        if url.get_backend_name() == "sqlite":
            if not url.database or url.database == ":memory:":
                return None
            return cls("sqlite", url.database, agency)
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return cls("postgresql", conninfo, agency)

    def connect(self) -> tuple[Probe, Lookup]:
        if self.dialect == "sqlite":
            conn = sqlite3.connect(f"file:{quote(self.target)}?mode=ro", uri=True)
        else:
            import psycopg

            conn = psycopg.connect(self.target, autocommit=True)
        reader = writer_for(conn, self.dialect)
        # Both read what was committed before this run: the run's own writes are invisible
        # here, and only a NIK's second occurrence (a duplicate, rejected) could need them.
        return (
            lambda digests: reader.known_digests(self.agency, digests),
            lambda indexes: reader.lookup(self.agency, indexes),
        )
