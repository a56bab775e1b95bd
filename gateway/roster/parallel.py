"""The worker processes that prepare a large roster, and the batches the writer receives.

A row costs more to prepare (read, validate, encrypt: `prepare.py`) than to write, so on a
large roster worker processes prepare while the calling process de-duplicates and writes, in
file order, with a bounded number of chunks in flight: memory stays flat and both cores work.
For a CSV file the workers read their own byte ranges (`read/chunks.py`); the writing
process prepares a chunk itself whenever it would otherwise wait.

In-file duplicates are found in the calling process, in row order, on the blind index of the
NIK each row names (`dedupe.mark_duplicates`), on whichever path the rows were prepared.
Agency-specific row checks (`check_row`, a plugin hook) are closures that cannot be sent to
another process: with one, rows are prepared in this process.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from gateway.domain.records import Category, RawRow
from gateway.roster.dedupe import DuplicateTracker, mark_duplicates
from gateway.roster.prepare import (
    PreparedBatch,
    PreparedRow,
    RowCheck,
    batched,
    prepare_batch,
    prepare_chunk,
)
from gateway.roster.read.chunks import CsvChunk
from gateway.security.crypto import KeyRing
from gateway.store.sealed import Sealed
from gateway.store.worker_reads import Probe, WorkerDatabase

# Below this many bytes of input, starting worker processes (~0.15 s) costs more than it saves.
PARALLEL_MIN_BYTES = 4_000_000
# Chunks this process may prepare ahead of the workers' results (each ~4,000 rows held).
LOCAL_AHEAD = 2
# JAMSOS_PREPARE_WORKERS: worker processes for large rosters (0: none). Default: one per core
# but one. The calling process de-duplicates and writes, a core's work on a first load; one
# more worker was faster on a first load but took the whole process tree past the 300 MB
# memory budget (each worker holds its chunk and parse caches; docs/benchmarks.md).
# Read from the environment: it is a property of the machine, not of a deployment.
WORKERS_ENV = "JAMSOS_PREPARE_WORKERS"


@dataclass
class ChunkedRead:
    """A CSV file the workers read themselves, chunk by chunk (read/chunks.py): what
    the reader of the whole file would otherwise tell its caller."""

    chunks: Iterator[CsvChunk]
    total_bytes: int
    skipped_totals: list[int]  # the reader's own list: its notices() report them
    bytes_done: int = 0

    @property
    def progress(self) -> float | None:
        return min(1.0, self.bytes_done / self.total_bytes) if self.total_bytes else None


# The cyclic garbage collector runs every 700 new container objects and, now and then, walks
# everything alive: on a batch of thousands of rows that was nearly half the time of
# validating them (docs/benchmarks.md). The rows hold no reference cycles (tuples, dicts,
# strings), so while preparing, collections are made rare rather than switched off (an
# exception's traceback is a cycle, and a roster full of bad dates raises many).
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
    seal: bool = True,
    probe: Probe | None = None,
    chunked: ChunkedRead | None = None,
    database: WorkerDatabase | None = None,
) -> Iterator[PreparedBatch]:
    """Prepared rows in batches, in file order. A second occurrence of a NIK is rejected as
    a duplicate; `kept` lists the blind indexes of rejected rows that still name a worker.

    `probe` looks enrollments up in this process; worker processes use `database` for that
    (their own read-only connection). With `chunked` the workers read the file themselves
    (`rows` is not read). Without `seal` (a check) rows are only validated, in this process.
    """
    workers = worker_count() if parallel and seal and check_row is None else 0
    with DuplicateTracker() as seen, rare_collections():
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
                        yield mark_duplicates(prepared, seen)
                else:
                    for prepared in pool.map(batched(rows, batch_size)):
                        yield mark_duplicates(prepared, seen)
        else:
            for batch in batched(rows, batch_size):
                prepared = prepare_batch(
                    batch, ring, today=today, default_category=default_category,
                    check_row=check_row, probe=probe, seal=seal,
                )  # fmt: skip
                yield mark_duplicates(prepared, seen)


# -- the worker pool ----------------------------------------------------------------------
_state: dict = {}


def _init_worker(
    data_keys: dict[str, bytes],
    primary: str,
    index_key: bytes,
    today: date,
    category: str | None,
    database: WorkerDatabase | None,
    owner: int | None = None,
) -> None:
    _die_with_parent(owner)
    gc.freeze()  # what the worker imported is never garbage: keep it out of every collection
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    _state["ring"] = KeyRing(data_keys, primary, index_key)
    _state["today"] = today
    _state["category"] = Category(category) if category else None
    _state["probe"], _state["lookup"] = database.connect() if database else (None, None)


# -- no orphans -----------------------------------------------------------------------------
# A SIGKILLed submit left its workers running (26 of 40 kills; one, 229 MB, for 7 minutes):
# nothing tells a worker its parent is gone while it prepares a chunk or waits for the next.
# The worker's parent is the fork server, itself the submitting process's child, which exits
# when that process dies; so a worker dies with its parent: at once on Linux
# (PR_SET_PDEATHSIG), and anywhere by noticing that its parent changed (between batches, and
# from a watchdog thread while it waits for work).
_PR_SET_PDEATHSIG = 1
ORPHAN_POLL_SECONDS = 0.5


def _die_with_parent(owner: int | None) -> None:
    parent = os.getppid()
    _state["parent"], _state["owner"] = parent, owner
    # PR_SET_PDEATHSIG fires when the parent *thread* ends: safe under the fork server (one
    # thread), not when forked by a thread of the submitting process that may end first.
    if sys.platform.startswith("linux") and parent != owner:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the checks below still end the worker
    # The parent may have died before prctl took effect; the submitting process (`owner`),
    # whose fork server is the parent, may have died before the fork server noticed.
    if os.getppid() != parent or (owner is not None and not _alive(owner)):
        os._exit(1)
    threading.Thread(target=_watch_parent, name="jamsos-orphan-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _orphaned() -> bool:
    # The owner too, not only the parent: each child of the fork server holds the pipe whose
    # end tells the fork server its client is gone, so the fork server (the parent) outlives
    # a killed owner for as long as a worker lives. Seen under gunicorn: a SIGKILLed worker
    # process left the fork server and a preparation worker running.
    if os.getppid() != _state.get("parent", os.getppid()):
        return True
    owner = _state.get("owner")
    return owner is not None and not _alive(owner)


def _watch_parent() -> None:
    while not _orphaned():
        time.sleep(ORPHAN_POLL_SECONDS)
    os._exit(1)


def _prepare(batch: list[RawRow]) -> PreparedBatch:
    if _orphaned():
        os._exit(1)  # nobody will write what this worker prepares
    return prepare_batch(
        batch, _state["ring"], today=_state["today"], default_category=_state["category"],
        probe=_state["probe"], lookup=_state["lookup"],
    )  # fmt: skip


def _work(packed: list[tuple]) -> tuple:
    # RawRows travel as plain tuples: pickling slotted dataclasses costs more than validating.
    batch = [RawRow(row, values, frozenset(numeric)) for row, values, numeric in packed]
    return _pack(_prepare(batch))


def _work_chunk(chunk: CsvChunk) -> tuple[tuple, list[int], int]:
    whole, skipped = prepare_chunk(chunk, _prepare)
    return _pack(whole), skipped, chunk.end


# Back from a worker as plain tuples and arrays: unpickling a NamedTuple or a dataclass calls
# Python code per row, which cost the writing process more than its inserts.
def _pack(batch: PreparedBatch) -> tuple:
    rows = [
        (p.row, tuple(p.record) if p.record else None, p.problems, p.nik_index) for p in batch.rows
    ]
    return rows, batch.known_rows, batch.known_ids, batch.known_prefixes, batch.found


def _unpack(packed: tuple) -> PreparedBatch:
    rows, known_rows, known_ids, known_prefixes, found = packed
    make = Sealed._make
    prepared = [
        PreparedRow(row, make(record) if record else None, problems, nik_index)
        for row, record, problems, nik_index in rows
    ]
    return PreparedBatch(prepared, known_rows, known_ids, known_prefixes, found=found)


class _Pool:
    def __init__(
        self,
        ring: KeyRing,
        today: date,
        category: Category | None,
        workers: int,
        database: WorkerDatabase | None,
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
                category.value if category else None, database, os.getpid(),
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
        # Starting the worker processes blocks for ~0.15 s (the fork server imports `prepare`):
        # it happens in a thread while this process prepares the first chunks itself.
        started = self._start_workers() if local is not None else None
        in_flight = 0  # futures in `pending`: the workers' queue is kept `depth` deep even
        # while chunks this process prepared wait their turn, or a worker idles while this
        # process writes (it did: the worker idled half of a first load; docs/benchmarks.md)

        def fill() -> None:
            nonlocal in_flight
            while (started is None or started.is_set()) and in_flight < self.depth:
                chunk = next(upcoming, None)
                if chunk is None:
                    return
                pending.append(self.executor.submit(_work_chunk, chunk))
                in_flight += 1

        fill()
        while True:
            head = pending[0] if pending else None
            waiting = head is None or (isinstance(head, Future) and not head.done())
            if local is not None and waiting and len(pending) < self.depth + LOCAL_AHEAD:
                chunk = next(upcoming, None)
                if chunk is not None:
                    whole, skipped = prepare_chunk(chunk, local)
                    pending.append((whole, skipped, chunk.end))
                    fill()
                    continue
            if not pending:
                return
            item = pending.popleft()
            if isinstance(item, Future):
                in_flight -= 1
                fill()  # before the wait and the writing: the worker starts its next chunk now
                packed, skipped, end = item.result()
                yield _unpack(packed), skipped, end
            else:
                fill()
                yield item

    def _start_workers(self) -> threading.Event:
        started = threading.Event()

        def start() -> None:
            try:
                self.executor.submit(int).result()  # any task: the pool spawns its workers
            finally:
                started.set()

        threading.Thread(target=start, name="jamsos-prepare-start", daemon=True).start()
        return started

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
