"""Finding the same NIK twice in one roster, with memory that stays flat.

A set of every NIK in a ten-million-row roster would not fit the memory budget, so seen NIKs
are kept in a dict only up to `_MEMORY_KEYS` of them (a regional roster never gets further),
then in sorted arrays (12 bytes a key) up to `_RUN_KEYS`, and beyond that in a private
temporary SQLite database (on disk, deleted on close). Only the first 64 bits of the NIK's
blind index are stored (`prepare.index_prefix`), never the NIK; a check takes blind indexes
under a throwaway index key.

This is the one place in-file duplicates are found, for a check and for a run alike, whether
rows were prepared in this process or in worker processes (`mark_duplicates`).
"""

from __future__ import annotations

import bisect
import sqlite3
from array import array
from collections.abc import Sequence

from gateway.domain.validation import duplicate_problem
from gateway.roster.prepare import PreparedBatch, PreparedRow, index_prefix


def mark_duplicates(batch: PreparedBatch, seen: DuplicateTracker) -> PreparedBatch:
    """Reject a NIK's second and later occurrences (in row order, across batches) and list
    in `batch.kept` the blind indexes of rejected rows that still name a worker."""
    items = [(p.row, index_prefix(p.nik_index)) for p in batch.rows if p.nik_index is not None]
    if batch.known_rows:
        items += zip(batch.known_rows, batch.known_prefixes, strict=True)
        items.sort()
    repeats = seen.check_keys(items)
    if repeats and batch.known_rows:  # a known row sent twice: its second time is rejected
        known = list(zip(batch.known_rows, batch.known_ids, batch.known_prefixes, strict=True))
        batch.known_rows, batch.known_ids = array("q"), array("q")
        batch.known_prefixes = array("q")
        for row, enrollment, prefix in known:
            if row in repeats:
                batch.rows.append(PreparedRow(row, None, [], None))
            else:
                batch.known_rows.append(row)
                batch.known_ids.append(enrollment)
                batch.known_prefixes.append(prefix)
        batch.rows.sort(key=_row_of)
    for p in batch.rows:
        if p.row in repeats:
            p.problems.append(duplicate_problem(p.row, repeats[p.row]))
            p.record = None
        elif p.record is None and p.nik_index is not None:
            batch.kept.append(p.nik_index)
    return batch


def _row_of(p: PreparedRow) -> int:
    return p.row


_BLOOM_BITS = 1 << 26  # 8 MiB: 1.5 % false hits (a lookup each) at a million NIKs, 14 % at ten
# Seen keys held in a dict before they move on, sorted: ~230 bytes each (the dict's slots
# and two int objects), so ~15 MB at most; a larger dict takes a 1,000,000-row load's process
# tree too near the 300 MB budget. Writing every key to SQLite as it came was a large part of
# an unchanged re-send; moved in sorted runs it costs less (docs/benchmarks.md).
_MEMORY_KEYS = 1 << 16
# Keys then kept as sorted runs of arrays (8-byte key, 4-byte row): 12 MB for a million.
# Moving a key into the SQLite table is slow whatever its page cache (a sixth of the writer's
# time on an unchanged re-send of 1,000,000 rows); into a run, sorting included, well under
# half of that (docs/benchmarks.md).
_RUN_KEYS = 1 << 20


class DuplicateTracker:
    """Seen keys live in memory (a dict, then sorted arrays), then in a temporary SQLite
    table (exact, on disk), behind an 8 MiB Bloom filter: a key the filter has never seen
    is new without asking any of them, which is nearly every key of a roster. Keys are
    digests already (`prepare.index_prefix` of a blind index)."""

    def __init__(self) -> None:
        self._bloom = bytearray(_BLOOM_BITS // 8)
        self._recent: dict[int, int] = {}  # key -> first row, the latest keys
        self._runs: list[tuple[array, array]] = []  # (sorted keys, their rows), older keys
        self._run_keys = 0
        self._db: sqlite3.Connection | None = None  # opened when the runs are full

    def check_keys(self, items: Sequence[tuple[int, int]]) -> dict[int, int]:
        """Record (row, key) pairs in row order; return {row: first_row} for repeats."""
        bloom, mask, recent = self._bloom, _BLOOM_BITS - 1, self._recent
        repeats: dict[int, int] = {}
        maybe: list[int] = []  # keys the filter says may be stored (in a run or in SQLite)
        for row, key in items:
            bit = key & mask
            byte, flag = bit >> 3, 1 << (bit & 7)
            if bloom[byte] & flag:
                first = recent.get(key)
                if first is not None:
                    repeats[row] = first
                    continue
                if self._run_keys or self._db is not None:
                    maybe.append(key)
            else:
                bloom[byte] |= flag
            recent[key] = row
        if maybe:
            earlier = self._stored(maybe)
            for key in earlier:  # stored already: every occurrence here repeats its row
                del recent[key]
            if earlier:
                for row, key in items:
                    if key in earlier:
                        repeats[row] = earlier[key]
        if len(recent) >= _MEMORY_KEYS:
            self._spill()
        return repeats

    def _stored(self, keys: list[int]) -> dict[int, int]:
        """{key: first row} of those of `keys` in the runs or in SQLite."""
        found: dict[int, int] = {}
        for run_keys, run_rows in self._runs:
            end = len(run_keys)
            for key in keys:
                i = bisect.bisect_left(run_keys, key)
                if i < end and run_keys[i] == key:
                    found[key] = run_rows[i]
        rest = [key for key in keys if key not in found]
        if self._db is not None and rest:
            for start in range(0, len(rest), 500):  # SQLite's bound-parameter limit
                chunk = rest[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(
                    self._db.execute(
                        f"SELECT digest, row FROM seen WHERE digest IN ({marks})", chunk
                    )
                )
        return found

    def _spill(self) -> None:
        items = sorted(self._recent.items())
        self._recent.clear()
        if self._run_keys + len(items) <= _RUN_KEYS:
            self._runs.append(
                (array("q", [k for k, _ in items]), array("i", [r for _, r in items]))
            )
            self._run_keys += len(items)
            return
        if self._db is None:
            self._db = sqlite3.connect("")  # "" = a temporary on-disk database, private to us
            self._db.execute("CREATE TABLE seen (digest INTEGER PRIMARY KEY, row INTEGER)")
        self._db.executemany("INSERT INTO seen VALUES (?, ?)", items)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def __enter__(self) -> DuplicateTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
