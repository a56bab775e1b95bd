"""Finding the same NIK twice in one roster, with memory that stays flat.

A set of every NIK in a ten-million-row roster would not fit the memory budget, so seen NIKs
go to a private temporary SQLite database (on disk, deleted on close) one batch at a time.
Only a keyed digest is stored, never the NIK: the key is random per roster and never kept.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Sequence


class DuplicateTracker:
    """`keyed`: the items are already keyed digests in hex (blind indexes): their first 64
    bits are used as they are, with no second hash."""

    def __init__(self, *, keyed: bool = False) -> None:
        self._keyed = keyed
        self._key = secrets.token_bytes(16)
        self._db = sqlite3.connect("")  # "" = a temporary on-disk database, private to us
        self._db.execute("CREATE TABLE seen (digest INTEGER PRIMARY KEY, row INTEGER)")

    def _digest(self, nik: str) -> int:
        if self._keyed:
            return int(nik[:16], 16) - (1 << 63)
        raw = hashlib.blake2b(nik.encode(), key=self._key, digest_size=8).digest()
        return int.from_bytes(raw, "big", signed=True)

    def check_batch(self, items: Sequence[tuple[int, str]]) -> dict[int, int]:
        """Record (row, nik) pairs in order; return {row: first_row} for repeats."""
        digests = [(row, self._digest(nik)) for row, nik in items]
        found: dict[int, int] = {}
        for start in range(0, len(digests), 500):  # SQLite's bound-parameter limit
            chunk = [d for _, d in digests[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            found.update(
                self._db.execute(f"SELECT digest, row FROM seen WHERE digest IN ({marks})", chunk)
            )
        repeats: dict[int, int] = {}
        fresh: list[tuple[int, int]] = []
        for row, digest in digests:
            if digest in found:
                repeats[row] = found[digest]
            else:
                found[digest] = row
                fresh.append((digest, row))
        self._db.executemany("INSERT INTO seen VALUES (?, ?)", fresh)
        return repeats

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> DuplicateTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
