"""Validating and sealing roster rows, in worker processes when the roster is large.

A row costs ~18 us to validate and ~11 us to seal (blind index, two AES-GCM fields, digests,
history snapshot) but only ~8 us to read and a few to write. So on a large roster the reading
and writing stay in the calling process (one writer, one transaction) while validation and
sealing run in a pool of worker processes, fed batch by batch with a bounded
number in flight: memory stays flat and both cores work.

In-file duplicates are found here, in row order, on the blind index of the NIK each row names.
Agency-specific row checks (`check_row`, a plugin hook) are closures that cannot be sent to
another process: with one, rows are prepared in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date

from gateway.dedupe import DuplicateTracker
from gateway.domain.nik import normalize_nik
from gateway.domain.records import Category, Problem, RawRow, RowResult
from gateway.domain.validation import duplicate_problem, validate_row
from gateway.security.crypto import KeyRing
from gateway.store.apply import Sealed, seal

# Below this many bytes of input, starting worker processes (~0.3 s) costs more than it saves.
PARALLEL_MIN_BYTES = 4_000_000
# JAMSOS_PREPARE_WORKERS: worker processes for large rosters (0: none). Default: one per core
# but one, because the calling process (reading, de-duplicating, writing) needs a core as well;
# a worker more than that only takes CPU from the writer. Read from the environment: it is a
# property of the machine, not of a deployment.
WORKERS_ENV = "JAMSOS_PREPARE_WORKERS"

RowCheck = Callable[[RawRow, RowResult], None]


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


def nik_key(raw: RawRow) -> str | None:
    """The NIK a row names, if it looks like one: used for in-file duplicates and for
    keeping (not ending) a worker whose row was rejected for another reason."""
    value = raw.values.get("nik")
    if not value or "nik" in raw.numeric_fields:
        return None
    nik = normalize_nik(value)
    return nik if len(nik) == 16 and nik.isdigit() else None


def prepare_batch(
    batch: list[RawRow],
    ring: KeyRing,
    *,
    today: date,
    default_category: Category | None,
    check_row: RowCheck | None = None,
) -> list[PreparedRow]:
    out: list[PreparedRow] = []
    for raw in batch:
        res = validate_row(raw, today=today, default_category=default_category)
        if check_row is not None:
            check_row(raw, res)
        nik = nik_key(raw)
        key = ring.blind_index(nik) if nik is not None else None
        rec = res.record
        sealed = None
        if rec is not None:
            sealed = seal(ring, rec, key if rec.nik == nik else None)
        out.append(PreparedRow(raw.row, sealed, res.problems, key))
    return out


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
) -> Iterator[tuple[list[PreparedRow], list[str]]]:
    """Prepared rows in batches, in file order; yields (rows, blind indexes of rejected rows
    that still name a worker). A second occurrence of a NIK is rejected as a duplicate."""
    workers = worker_count() if parallel and check_row is None else 0
    batches = _batched(rows, batch_size)
    with DuplicateTracker() as seen:
        if workers >= 1:
            with _Pool(ring, today, default_category, workers) as pool:
                for prepared in pool.map(batches):
                    yield _mark_duplicates(prepared, seen)
        else:
            for batch in batches:
                prepared = prepare_batch(
                    batch, ring, today=today, default_category=default_category,
                    check_row=check_row,
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


def _mark_duplicates(
    prepared: list[PreparedRow], seen: DuplicateTracker
) -> tuple[list[PreparedRow], list[str]]:
    repeats = seen.check_batch([(p.row, p.key) for p in prepared if p.key is not None])
    kept: list[str] = []
    for p in prepared:
        if p.row in repeats:
            p.problems.append(duplicate_problem(p.row, repeats[p.row]))
            p.record = None
        elif p.record is None and p.key is not None:
            kept.append(p.key)
    return prepared, kept


# -- the worker pool ----------------------------------------------------------------------
_state: dict = {}


def _init_worker(
    data_keys: dict[str, bytes], primary: str, index_key: bytes, today: date, category: str | None
) -> None:
    _state["ring"] = KeyRing(data_keys, primary, index_key)
    _state["today"] = today
    _state["category"] = Category(category) if category else None


def _work(packed: list[tuple]) -> list[PreparedRow]:
    # RawRows travel as plain tuples: pickling slotted dataclasses costs more than validating.
    batch = [RawRow(row, values, frozenset(numeric)) for row, values, numeric in packed]
    return prepare_batch(
        batch, _state["ring"], today=_state["today"], default_category=_state["category"]
    )


class _Pool:
    def __init__(self, ring: KeyRing, today: date, category: Category | None, workers: int) -> None:
        # forkserver: no fork of a process that may hold threads (gunicorn, a DAG runner);
        # the workers fork from a small server that has imported only this module.
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload([__name__])
        self.depth = workers * 2  # batches in flight: bounded memory, workers never idle
        self.executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(
                ring.data_keys, ring.primary, ring.index_key, today,
                category.value if category else None,
            ),
        )  # fmt: skip

    def map(self, batches: Iterator[list[RawRow]]) -> Iterator[list[PreparedRow]]:
        pending: deque[Future[list[PreparedRow]]] = deque()
        for batch in batches:
            packed = [(r.row, r.values, tuple(r.numeric_fields)) for r in batch]
            pending.append(self.executor.submit(_work, packed))
            if len(pending) >= self.depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
