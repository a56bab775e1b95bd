"""Validating and sealing roster rows, in worker processes when the roster is large.

A row costs ~18 us to validate and ~11 us to seal (blind index, two AES-GCM fields, digests,
history snapshot) but only ~8 us to read and a few to write. So on a large roster the reading
and writing stay in the calling process (one writer, one transaction) while validation and
sealing run in a pool of worker processes, fed batch by batch with a bounded
number in flight: memory stays flat and both cores work.

In-file duplicates are found here, in row order, on the blind index of the NIK each row names.
Agency-specific row checks (`check_row`, a plugin hook) are closures that cannot be sent to
another process: with one, rows are prepared in this process.

Unchanged rows: a clean row (no problem at all, birth date given) leaves a keyed digest of its
cell texts on its enrollment (`row_digest`, cleared when the enrollment ends). Before
validating a batch, its digests are looked up: a row whose digest an enrollment of the agency
holds is exactly what the registry holds, so it is neither validated nor encrypted, only
counted unchanged (`PreparedBatch.known_*`, see `RosterApply.add_batch`): re-sending a
national roster costs little more than reading it. Nothing else in the row's outcome can have
changed: the rules that depend on the day (a birth date or start date "in the future") only
ever turn a problem into no problem, the NIK's century is settled by the row's own birth date,
and a plugin's agency-specific check turns the shortcut off. Changing what validation accepts
means bumping `ROW_RULES`, which retires every stored digest.

Large CSV files are not even read here: worker processes read their own byte ranges of the
file (`feeds/csv_chunks.py`) and this process only de-duplicates and writes.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import multiprocessing
import os
import sqlite3
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from gateway.dedupe import DuplicateTracker, key_of
from gateway.domain.nik import normalize_nik
from gateway.domain.records import Category, EnrollmentRecord, Problem, RawRow, RowResult
from gateway.domain.validation import _present, duplicate_problem, validate_row
from gateway.feeds.csv_chunks import CsvChunk, chunk_rows
from gateway.security.crypto import KeyRing
from gateway.store.apply import Sealed, seal_many
from gateway.store.bulk import writer_for

# Below this many bytes of input, starting worker processes (~0.3 s) costs more than it saves.
PARALLEL_MIN_BYTES = 4_000_000
# JAMSOS_PREPARE_WORKERS: worker processes for large rosters (0: none). Default: one per core
# but one. The calling process de-duplicates and writes, a core's work on a first load; one
# more worker (2 cores, 100,000 rows) was ~15 % faster on a first load but took the whole
# process tree past the 300 MB memory budget (each worker holds its chunk and parse caches).
# Read from the environment: it is a property of the machine, not of a deployment.
WORKERS_ENV = "JAMSOS_PREPARE_WORKERS"

RowCheck = Callable[[RawRow, RowResult], None]
# {row digest: enrollment id} of the agency's active enrollments last sent as these clean rows.
Probe = Callable[[list[str]], dict[str, int]]
# What validation accepts as a clean row, by version: bump to retire every stored row digest.
ROW_RULES = "1"


@dataclass(slots=True)
class PreparedRow:
    """A validated row; `record` is sealed and ready to write (None: rejected).

    Quacks like a RowResult for the report and the store. `key` is the blind index of the NIK
    the row names when that NIK is well-formed (also for a rejected row: its worker is kept).
    """

    row: int
    record: Sealed | None
    problems: list[Problem]
    key: str | None


@dataclass(slots=True)
class PreparedBatch:
    """Prepared rows of one batch: validated `rows` in file order, and the rows known
    unchanged, kept as three parallel arrays (a re-sent national roster is mostly these, and
    arrays of ints cross processes and the writer nearly for free)."""

    rows: list[PreparedRow] = field(default_factory=list)
    known_rows: array = field(default_factory=lambda: array("q"))  # spreadsheet rows
    known_ids: array = field(default_factory=lambda: array("q"))  # their enrollments
    known_keys: array = field(default_factory=lambda: array("q"))  # dedupe.key_of(index)
    kept: list[str] = field(default_factory=list)  # blind indexes of rejected rows: kept


def nik_key(raw: RawRow) -> str | None:
    """The NIK a row names, if it looks like one: used for in-file duplicates and for
    keeping (not ending) a worker whose row was rejected for another reason."""
    value = raw.values.get("nik")
    if not value or (raw.numeric_fields and "nik" in raw.numeric_fields):
        return None
    if len(value) == 16 and value.isdigit() and value.isascii():
        return value  # the usual case: nothing to normalise
    nik = normalize_nik(value)
    return nik if len(nik) == 16 and nik.isdigit() else None


def digest_key(ring: KeyRing) -> bytes:
    """The key of row digests, derived from the index key (not stored anywhere)."""
    return hashlib.blake2b(b"jamsos-row-digest", key=ring.index_key[:64]).digest()


def row_digest(raw: RawRow, key: bytes, default_category: Category | None) -> str:
    """A keyed digest of what a row says, in any column order, under the current rules."""
    values = raw.values
    parts = [ROW_RULES, default_category.value if default_category else ""]
    parts += [f"{k}\x1e{values[k]}" for k in sorted(values) if values[k]]
    if raw.numeric_fields:
        parts += sorted(raw.numeric_fields)
    return hashlib.blake2b("\x1f".join(parts).encode(), key=key, digest_size=16).hexdigest()


def prepare_batch(
    batch: list[RawRow],
    ring: KeyRing,
    *,
    today: date,
    default_category: Category | None,
    check_row: RowCheck | None = None,
    probe: Probe | None = None,
) -> PreparedBatch:
    keys = [_blind_index(ring, raw) for raw in batch]
    digests: list[str | None] = [None] * len(batch)
    known: dict[str, int] = {}
    if check_row is None:  # a plugin's own check may say something new about any row
        dkey = digest_key(ring)
        digests = [row_digest(raw, dkey, default_category) for raw in batch]
        if probe is not None:
            known = probe(digests)  # type: ignore[arg-type]
    out = PreparedBatch()
    accepted: list[tuple[EnrollmentRecord, str | None, str | None]] = []
    for raw, key, digest in zip(batch, keys, digests, strict=True):
        if known and digest in known and key is not None:
            out.known_rows.append(raw.row)
            out.known_ids.append(known[digest])  # type: ignore[index]
            out.known_keys.append(key_of(key))
            continue
        res = validate_row(raw, today=today, default_category=default_category)
        if check_row is not None:
            check_row(raw, res)
        rec = res.record
        if rec is not None:
            # Only a clean row's digest is kept: a row with a warning must be warned about
            # again, and without its own birth date the NIK's century depends on the day.
            clean = not res.problems and _present(raw.values.get("birth_date")) is not None
            # `key` is the blind index of this very NIK: both are the row's NIK text, normalised.
            accepted.append((rec, key, digest if clean else None))
        out.rows.append(PreparedRow(raw.row, rec, res.problems, key))  # type: ignore[arg-type]
    sealed = iter(seal_many(ring, accepted))
    for p in out.rows:
        if isinstance(p.record, EnrollmentRecord):
            p.record = next(sealed)
    return out


def _blind_index(ring: KeyRing, raw: RawRow) -> str | None:
    nik = nik_key(raw)
    return ring.blind_index(nik) if nik is not None else None


@dataclass
class ChunkedRead:
    """A CSV file the workers read themselves, chunk by chunk (feeds/csv_chunks.py): what
    the reader of the whole file would otherwise tell its caller."""

    chunks: Iterator[CsvChunk]
    total_bytes: int
    skipped_totals: list[int]  # the reader's own list: its notices() report them
    bytes_done: int = 0

    @property
    def progress(self) -> float | None:
        return min(1.0, self.bytes_done / self.total_bytes) if self.total_bytes else None


# The cyclic garbage collector runs every 700 new container objects and, now and then, walks
# everything alive: on a batch of thousands of rows that was ~40 % of validating them (6 vs
# 11 us a row, measured). The rows hold no reference cycles (tuples, dicts, strings), so while
# preparing, collections are made rare rather than switched off (an exception's traceback is
# a cycle, and a roster full of bad dates raises many).
GC_THRESHOLD = 100_000


@contextmanager
def rare_collections() -> Iterator[None]:
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], GC_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def worker_count() -> int:
    configured = os.environ.get(WORKERS_ENV)
    if configured is not None and configured.strip():
        return max(0, int(configured))
    return max(1, (os.cpu_count() or 1) - 1)


def prepared_batches(
    rows: Iterator[RawRow],
    ring: KeyRing,
    *,
    today: date,
    default_category: Category | None,
    batch_size: int,
    check_row: RowCheck | None = None,
    parallel: bool = False,
    probe: Probe | None = None,
    chunked: ChunkedRead | None = None,
    database: Database | None = None,
) -> Iterator[PreparedBatch]:
    """Prepared rows in batches, in file order. A second occurrence of a NIK is rejected as
    a duplicate; `kept` lists the blind indexes of rejected rows that still name a worker.

    `probe` looks enrollments up in this process; worker processes use `database` for that
    (their own read-only connection). With `chunked` the workers read the file themselves
    (`rows` is not read).
    """
    workers = worker_count() if parallel and check_row is None else 0
    with DuplicateTracker(keyed=True) as seen, rare_collections():
        if workers >= 1:
            with _Pool(ring, today, default_category, workers, database) as pool:
                if chunked is not None:
                    local = functools.partial(
                        prepare_batch, ring=ring, today=today,
                        default_category=default_category, probe=probe,
                    )  # fmt: skip
                    for prepared, skipped, end in pool.map_chunks(chunked.chunks, local):
                        chunked.skipped_totals.extend(skipped)
                        chunked.bytes_done = end
                        yield _mark_duplicates(prepared, seen)
                else:
                    for prepared in pool.map(_batched(rows, batch_size)):
                        yield _mark_duplicates(prepared, seen)
        else:
            for batch in _batched(rows, batch_size):
                prepared = prepare_batch(
                    batch, ring, today=today, default_category=default_category,
                    check_row=check_row, probe=probe,
                )  # fmt: skip
                yield _mark_duplicates(prepared, seen)


def _batched(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for raw in rows:
        batch.append(raw)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _mark_duplicates(batch: PreparedBatch, seen: DuplicateTracker) -> PreparedBatch:
    items = [(p.row, key_of(p.key)) for p in batch.rows if p.key is not None]
    if batch.known_rows:
        items += zip(batch.known_rows, batch.known_keys, strict=True)
        items.sort()
    repeats = seen.check_keys(items)
    if repeats and batch.known_rows:  # a known row sent twice: its second time is rejected
        known = list(zip(batch.known_rows, batch.known_ids, batch.known_keys, strict=True))
        batch.known_rows, batch.known_ids, batch.known_keys = array("q"), array("q"), array("q")
        for row, enrollment, key in known:
            if row in repeats:
                batch.rows.append(PreparedRow(row, None, [], None))
            else:
                batch.known_rows.append(row)
                batch.known_ids.append(enrollment)
                batch.known_keys.append(key)
        batch.rows.sort(key=_row_of)
    for p in batch.rows:
        if p.row in repeats:
            p.problems.append(duplicate_problem(p.row, repeats[p.row]))
            p.record = None
        elif p.record is None and p.key is not None:
            batch.kept.append(p.key)
    return batch


def _row_of(p: PreparedRow) -> int:
    return p.row


# -- the worker pool ----------------------------------------------------------------------
@dataclass(frozen=True)
class Database:
    """Where worker processes look row digests up: a SQLite file (read-only) or PostgreSQL."""

    dialect: str
    target: str  # the SQLite file's path, or a libpq connection string
    agency: str

    @classmethod
    def of(cls, url: object, agency: str) -> Database | None:
        from sqlalchemy.engine import URL

        assert isinstance(url, URL)
        if url.get_backend_name() == "sqlite":
            if not url.database or url.database == ":memory:":
                return None  # private to the process that opened it
            return cls("sqlite", url.database, agency)
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return cls("postgresql", conninfo, agency)

    def connect(self) -> Probe:
        if self.dialect == "sqlite":
            conn = sqlite3.connect(f"file:{quote(self.target)}?mode=ro", uri=True)
        else:
            import psycopg

            conn = psycopg.connect(self.target, autocommit=True)
        reader = writer_for(conn, self.dialect)
        return lambda digests: reader.known_digests(self.agency, digests)


_state: dict = {}


def _init_worker(
    data_keys: dict[str, bytes],
    primary: str,
    index_key: bytes,
    today: date,
    category: str | None,
    database: Database | None,
) -> None:
    gc.freeze()  # what the worker imported is never garbage: keep it out of every collection
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    _state["ring"] = KeyRing(data_keys, primary, index_key)
    _state["today"] = today
    _state["category"] = Category(category) if category else None
    _state["probe"] = database.connect() if database is not None else None


def _prepare(batch: list[RawRow]) -> PreparedBatch:
    return prepare_batch(
        batch, _state["ring"], today=_state["today"], default_category=_state["category"],
        probe=_state["probe"],
    )  # fmt: skip


def _work(packed: list[tuple]) -> tuple:
    # RawRows travel as plain tuples: pickling slotted dataclasses costs more than validating.
    batch = [RawRow(row, values, frozenset(numeric)) for row, values, numeric in packed]
    return _pack(_prepare(batch))


def _work_chunk(chunk: CsvChunk) -> tuple[tuple, list[int], int]:
    whole, skipped = prepare_chunk(chunk, _prepare)
    return _pack(whole), skipped, chunk.end


def prepare_chunk(
    chunk: CsvChunk, prepare: Callable[[list[RawRow]], PreparedBatch]
) -> tuple[PreparedBatch, list[int]]:
    """Read and prepare one chunk of a CSV file; also its skipped totals rows."""
    skipped: list[int] = []
    whole = PreparedBatch()
    for batch in _batched(chunk_rows(chunk, skipped), 2000):
        prepared = prepare(batch)
        whole.rows += prepared.rows
        whole.known_rows += prepared.known_rows
        whole.known_ids += prepared.known_ids
        whole.known_keys += prepared.known_keys
    return whole, skipped


# Back from a worker as plain tuples and arrays: unpickling a NamedTuple or a dataclass calls
# Python code per row, which cost the writing process more than its inserts.
def _pack(batch: PreparedBatch) -> tuple:
    rows = [(p.row, tuple(p.record) if p.record else None, p.problems, p.key) for p in batch.rows]
    return rows, batch.known_rows, batch.known_ids, batch.known_keys


def _unpack(packed: tuple) -> PreparedBatch:
    rows, known_rows, known_ids, known_keys = packed
    make = Sealed._make
    prepared = [
        PreparedRow(row, make(record) if record else None, problems, key)
        for row, record, problems, key in rows
    ]
    return PreparedBatch(prepared, known_rows, known_ids, known_keys)


class _Pool:
    def __init__(
        self,
        ring: KeyRing,
        today: date,
        category: Category | None,
        workers: int,
        database: Database | None,
    ) -> None:
        # forkserver: no fork of a process that may hold threads (gunicorn, a DAG runner);
        # the workers fork from a small server that has imported only this module.
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload([__name__])
        self.depth = workers + 1  # tasks in flight: bounded memory, workers never idle
        self.executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(
                ring.data_keys, ring.primary, ring.index_key, today,
                category.value if category else None, database,
            ),
        )  # fmt: skip

    def _results(self, tasks: Iterator[Future]) -> Iterator:
        pending: deque[Future] = deque()
        for task in tasks:
            pending.append(task)
            if len(pending) >= self.depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def map(self, batches: Iterator[list[RawRow]]) -> Iterator[PreparedBatch]:
        tasks = (
            self.executor.submit(_work, [(r.row, r.values, tuple(r.numeric_fields)) for r in b])
            for b in batches
        )
        for packed in self._results(tasks):
            yield _unpack(packed)

    def map_chunks(
        self,
        chunks: Iterator[CsvChunk],
        local: Callable[[list[RawRow]], PreparedBatch] | None = None,
    ) -> Iterator[tuple[PreparedBatch, list[int], int]]:
        """Prepared chunks in file order. With `local`, this process prepares the next chunk
        itself whenever it would otherwise wait for a worker (a re-send of unchanged rows is
        mostly waiting here: the writing is light), so no core sits idle."""
        pending: deque[Future | tuple] = deque()
        upcoming = iter(chunks)

        def submit() -> bool:
            chunk = next(upcoming, None)
            if chunk is not None:
                pending.append(self.executor.submit(_work_chunk, chunk))
            return chunk is not None

        while len(pending) < self.depth and submit():
            pass
        while pending:
            head = pending[0]
            if (
                local is not None
                and isinstance(head, Future)
                and not head.done()
                and len(pending) <= self.depth
                and (chunk := next(upcoming, None))
            ):
                whole, skipped = prepare_chunk(chunk, local)
                pending.append((whole, skipped, chunk.end))
                continue
            item = pending.popleft()
            if isinstance(item, Future):
                packed, skipped, end = item.result()
                yield _unpack(packed), skipped, end
            else:
                yield item
            while len(pending) < self.depth and submit():
                pass

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
