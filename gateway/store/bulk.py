"""The hot write path of an apply, on the driver's own connection (inside the apply's transaction).

SQLAlchemy Core's parameter processing costs more per row than validating the row
(docs/benchmarks.md): a national roster's inserts and lookups go straight to the DB-API
instead. Two backends:

* SQLite: `executemany`; ids are pre-allocated from max(id) (the apply holds SQLite's only
  write lock from BEGIN IMMEDIATE on, so nobody else can take them).
* PostgreSQL: COPY for every bulk insert; ids come from the tables' sequences. Workers go
  through a staging table and `INSERT ... ON CONFLICT DO NOTHING`, because a concurrent apply of
  another agency may be enrolling the same person at the same moment.

Every value handed in is already text, an integer or None (dates as ISO text, timestamps in the
backend's format from `timestamp()`): the same row tuple works for executemany and COPY.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

# Columns of the lookup: one worker, and their enrollment with this agency if any.
LOOKUP_COLUMNS = (
    "id",
    "status",
    "record_hash",
    "category",
    "position",
    "work_unit",
    "wage",
    "start_date",
    "end_date",
)
WORKER_COLUMNS = ("nik_index", "nik_enc", "name_enc", "birth_date", "gender", "nik_region")
# What differs between the new enrollments of one apply (the rest is the same for all).
NEW_ENROLLMENT_COLUMNS = (
    "id",
    "worker_id",
    "category",
    "position",
    "work_unit",
    "wage",
    "start_date",
    "record_hash",
    "row_digest",
)
HISTORY_COLUMNS = ("enrollment_id", "run_id", "change", "before", "after", "at")
PROBLEM_COLUMNS = ("run_id", "row", "field", "code", "severity", "message_id", "message_en")
TRACKED = ("category", "position", "work_unit", "wage", "start_date", "end_date", "status")

_CHUNK = 8192  # ids or indexes per IN (...) list: under SQLite's 32,766 bound parameters


def _cols(columns: Iterable[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)  # quoted: "row", "position" are keywords


def _literal(value: str | int | None) -> str:
    """An SQL literal of one of our own values (run ids, agency codes, timestamps)."""
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class BulkWriter:
    """Backend-neutral statements; subclasses supply placeholders, ids and bulk inserts."""

    mark = "?"

    def __init__(self, dbapi: Any) -> None:
        self.dbapi = dbapi
        self.cur = dbapi.cursor()
        self._known = False  # jamsos_known exists in this transaction

    def sql(self, text: str) -> str:
        return text if self.mark == "?" else text.replace("?", self.mark)

    def timestamp(self, at: datetime) -> str:
        raise NotImplementedError

    def lock_agency(self, agency: str) -> None:
        """Serialize applies of one agency (SQLite: BEGIN IMMEDIATE already did)."""

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
        raise NotImplementedError

    def insert_with(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple],
        same: dict[str, str | int | None],
    ) -> None:
        """Insert `rows` of `columns`, each also getting the values of `same` (column: value).
        Here: the values appended to every row. SQLite writes them into the statement."""
        extra = tuple(same.values())
        self.insert(table, (*columns, *same), [row + extra for row in rows])

    def new_ids(self, table: str, n: int) -> list[int]:
        raise NotImplementedError

    def insert_workers(self, rows: Sequence[tuple], now: str) -> dict[str, int]:
        """Insert new workers (WORKER_COLUMNS); {nik_index: id} of all of them."""
        raise NotImplementedError

    def _in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        # Padded with NULLs (which match nothing) to a power of two: one statement text per
        # list length filled the driver's statement cache with huge prepared statements, and
        # memory grew with the roster. (A JSON list in one parameter probes 1.6x slower.)
        size = max(16, 1 << (len(values) - 1).bit_length())
        params = [*values, *([None] * (size - len(values)))]
        return f"{column} IN ({','.join('?' * size)})", params

    def lookup(self, agency: str, indexes: Sequence[str]) -> list[tuple]:
        """(nik_index, worker_id, *LOOKUP_COLUMNS of the agency's enrollment or NULLs)."""
        found: list[tuple] = []
        for chunk in _chunks(indexes):
            where, params = self._in("w.nik_index", chunk)
            cols = ", ".join(f'e."{c}"' for c in LOOKUP_COLUMNS)
            self.cur.execute(
                self.sql(
                    f"SELECT w.nik_index, w.id, {cols} FROM workers w LEFT JOIN enrollments e "
                    f"ON e.worker_id = w.id AND e.agency = ? WHERE {where}"
                ),
                [agency, *params],
            )
            found.extend(self.cur.fetchall())
        return found

    def remember_known(self, enrollment_ids: Sequence[int]) -> None:
        """Enrollments named again by rows exactly as last time: kept in a temporary table
        that `end_absent` reads, not marked row by row. Marking would rewrite every enrollment
        of a re-sent national roster (on SQLite a WAL the size of the table; on PostgreSQL a
        dead tuple each, for VACUUM to clean up) to record that nothing changed."""
        if not self._known:
            self._create_known()
            self._known = True
        self.insert("jamsos_known", ("id",), [(i,) for i in enrollment_ids])

    def _create_known(self) -> None:
        raise NotImplementedError

    def _analyze_known(self) -> None:
        """Statistics for the planner, where it needs them to pick a hash anti-join."""

    def touch(self, run_id: int, enrollment_ids: Sequence[int]) -> None:
        """Mark enrollments as named by this run (unchanged rows): the snapshot keeps them."""
        for chunk in _chunks(enrollment_ids):
            where, params = self._in("id", chunk)
            self.cur.execute(
                self.sql(f"UPDATE enrollments SET seen_run_id = ? WHERE {where}"),
                [run_id, *params],
            )

    def known_digests(self, agency: str, digests: Sequence[str]) -> dict[str, int]:
        """{row_digest: enrollment id} of the agency's enrollments whose last clean row had one
        of these digests. Only an active enrollment has a digest (`end_absent` clears it), so
        the (agency, row_digest) index answers alone: one probe a row, no table read."""
        found: dict[str, int] = {}
        for chunk in _chunks(digests):
            where, params = self._in("row_digest", chunk)
            self.cur.execute(
                self.sql(f"SELECT row_digest, id FROM enrollments WHERE agency = ? AND {where}"),
                [agency, *params],
            )
            found.update(self.cur.fetchall())
        return found

    def set_row_digests(self, rows: Sequence[tuple]) -> None:
        """rows: (row_digest, enrollment id): unchanged facts, newly written row texts."""
        self.cur.executemany(self.sql("UPDATE enrollments SET row_digest = ? WHERE id = ?"), rows)

    def update_enrollments(self, rows: Sequence[tuple]) -> None:
        """rows: (*TRACKED, record_hash, row_digest, last_run_id, seen_run_id, updated_at, id)."""
        sets = ", ".join(
            f'"{c}" = ?'
            for c in (
                *TRACKED,
                "record_hash",
                "row_digest",
                "last_run_id",
                "seen_run_id",
                "updated_at",
            )
        )
        self.cur.executemany(self.sql(f"UPDATE enrollments SET {sets} WHERE id = ?"), rows)

    def rename_workers(self, rows: Sequence[tuple]) -> None:
        """rows: (name_enc, birth_date, gender, updated_at, worker id)."""
        self.cur.executemany(
            self.sql(
                "UPDATE workers SET name_enc = ?, birth_date = ?, gender = ?, updated_at = ? "
                "WHERE id = ?"
            ),
            rows,
        )

    def _json_object(self) -> str:
        raise NotImplementedError

    def _param(self, sql_type: str) -> str:
        """A bound parameter in a SELECT list, typed where the backend cannot infer it."""
        return "?"

    def end_absent(self, agency: str, run_id: int, today: str, now: str) -> int:
        """End the agency's active enrollments this run did not name; history first.

        Set-based: a roster that drops a million workers ends them in two statements.
        """
        obj = self._json_object()
        pairs = {c: f"'{c}', \"{c}\"" for c in TRACKED}
        before = f"{obj}({', '.join(pairs.values())})"
        after_fields = [pairs[c] for c in TRACKED if c not in ("end_date", "status")]
        after = (
            f"{obj}({', '.join(after_fields)}, 'end_date', {self._param('text')}, "
            "'status', 'ended')"
        )
        absent = "agency = ? AND status = 'active' AND seen_run_id <> ?"
        if self._known:
            self._analyze_known()
            # NOT EXISTS, not NOT IN: PostgreSQL runs a NOT IN subquery too big for work_mem
            # once per row (a million known rows took minutes); this is an anti-join.
            absent += " AND NOT EXISTS (SELECT 1 FROM jamsos_known k WHERE k.id = enrollments.id)"
        self.cur.execute(
            self.sql(
                f"INSERT INTO enrollment_history ({_cols(HISTORY_COLUMNS)}) "
                f"SELECT id, ?, 'ended', {before}, {after}, {self._param('timestamptz')} "
                f"FROM enrollments WHERE {absent}"
            ),
            [run_id, today, now, agency, run_id],
        )
        ended = self.cur.rowcount
        self.cur.execute(
            self.sql(
                "UPDATE enrollments SET status = 'ended', end_date = ?, last_run_id = ?, "
                "row_digest = NULL, "
                f"updated_at = ? WHERE {absent}"
            ),
            [today, run_id, now, agency, run_id],
        )
        return ended


class SqliteWriter(BulkWriter):
    def __init__(self, dbapi: Any) -> None:
        super().__init__(dbapi)
        self._next: dict[str, int] = {}

    def _create_known(self) -> None:
        # A connection's TEMP tables outlive its transactions (and pooled connections are
        # reused): start empty.
        self.cur.execute("DROP TABLE IF EXISTS temp.jamsos_known")
        self.cur.execute("CREATE TEMP TABLE jamsos_known (id INTEGER PRIMARY KEY)")

    def timestamp(self, at: datetime) -> str:
        # SQLAlchemy's SQLite DateTime storage format (naive text), so reads parse it back.
        return at.strftime("%Y-%m-%d %H:%M:%S.%f")

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
        marks = ",".join("?" * len(columns))
        self.cur.executemany(f"INSERT INTO {table} ({_cols(columns)}) VALUES ({marks})", rows)

    def insert_with(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple],
        same: dict[str, str | int | None],
    ) -> None:
        # Values shared by every row go into the statement as literals: binding them once per
        # row made a national roster's inserts ~25 % slower (executemany binds every value).
        marks = ",".join(["?"] * len(columns) + [_literal(v) for v in same.values()])
        self.cur.executemany(
            f"INSERT INTO {table} ({_cols((*columns, *same))}) VALUES ({marks})", rows
        )

    def new_ids(self, table: str, n: int) -> list[int]:
        if table not in self._next:
            self.cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
            self._next[table] = self.cur.fetchone()[0]
        start = self._next[table]
        self._next[table] = start + n
        return list(range(start, start + n))

    def insert_workers(self, rows: Sequence[tuple], now: str) -> dict[str, int]:
        ids = self.new_ids("workers", len(rows))
        self.insert_with(
            "workers",
            ("id", *WORKER_COLUMNS),
            [(wid, *row) for wid, row in zip(ids, rows, strict=True)],
            {"created_at": now, "updated_at": now},
        )
        return {row[0]: wid for wid, row in zip(ids, rows, strict=True)}

    def _json_object(self) -> str:
        return "json_object"


class PostgresWriter(BulkWriter):
    mark = "%s"

    def __init__(self, dbapi: Any) -> None:
        super().__init__(dbapi)
        self._staged = False

    def _create_known(self) -> None:
        self.cur.execute("CREATE TEMP TABLE jamsos_known (id bigint PRIMARY KEY) ON COMMIT DROP")

    def _analyze_known(self) -> None:
        # Autovacuum never analyzes a temporary table: without statistics the planner guesses
        # its size and may run the anti-join as a probe per enrollment.
        self.cur.execute("ANALYZE jamsos_known")

    def timestamp(self, at: datetime) -> str:
        return at.isoformat()

    def lock_agency(self, agency: str) -> None:
        # Two applies of one agency would each end the other's workers: the second waits
        # for the first to commit. Held until the transaction ends.
        key = int.from_bytes(
            hashlib.blake2b(f"jamsos-apply:{agency}".encode(), digest_size=8).digest(),
            "big",
            signed=True,
        )
        self.cur.execute("SELECT pg_advisory_xact_lock(%s)", [key])

    def _in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(%s)", [list(values)]

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
        with self.cur.copy(f"COPY {table} ({_cols(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def new_ids(self, table: str, n: int) -> list[int]:
        self.cur.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",
            [n],
        )
        return [r[0] for r in self.cur.fetchall()]

    def insert_workers(self, rows: Sequence[tuple], now: str) -> dict[str, int]:
        if not self._staged:
            self.cur.execute(
                "CREATE TEMP TABLE jamsos_stage_workers (nik_index text, nik_enc text, "
                "name_enc text, birth_date date, gender text, nik_region text) ON COMMIT DROP"
            )
            self._staged = True
        else:
            self.cur.execute("TRUNCATE jamsos_stage_workers")
        self.insert("jamsos_stage_workers", WORKER_COLUMNS, rows)
        cols = _cols(WORKER_COLUMNS)
        self.cur.execute(
            f"INSERT INTO workers ({cols}, created_at, updated_at) "
            f"SELECT {cols}, %s::timestamptz, %s::timestamptz FROM jamsos_stage_workers "
            "ON CONFLICT (nik_index) DO NOTHING RETURNING nik_index, id",
            [now, now],
        )
        ids = dict(self.cur.fetchall())
        if len(ids) < len(rows):  # enrolled meanwhile by another agency's apply: use theirs
            missing = [row[0] for row in rows if row[0] not in ids]
            self.cur.execute(
                "SELECT nik_index, id FROM workers WHERE nik_index = ANY(%s)", [missing]
            )
            ids.update(self.cur.fetchall())
        return ids

    def _json_object(self) -> str:
        return "json_build_object"

    def _param(self, sql_type: str) -> str:
        return f"CAST(%s AS {sql_type})"


def writer_for(dbapi: Any, dialect: str) -> BulkWriter:
    return SqliteWriter(dbapi) if dialect == "sqlite" else PostgresWriter(dbapi)
