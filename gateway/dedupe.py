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


def key_of(blind_index: str) -> int:
    """The duplicate key of a NIK's blind index (already a keyed digest): its first 64 bits."""
    return int(blind_index[:16], 16) - (1 << 63)


_BLOOM_BITS = 1 << 26  # 8 MiB: 1.5 % false hits (a lookup each) at a million NIKs, 14 % at ten


class DuplicateTracker:
    """Seen keys live in a temporary SQLite table (exact, on disk) behind an 8 MiB Bloom
    filter: a key the filter has never seen is new without asking SQLite, which is nearly
    every key of a roster, so the table is only written to, in bulk, and rarely read.

    `check_batch` takes NIKs (and digests them under a key of its own); `check_keys` takes
    keys already digested, such as `key_of` a blind index."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)
        self._bloom = bytearray(_BLOOM_BITS // 8)
        self._db = sqlite3.connect("")  # "" = a temporary on-disk database, private to us
        self._db.execute("CREATE TABLE seen (digest INTEGER PRIMARY KEY, row INTEGER)")

    def _digest(self, nik: str) -> int:
        raw = hashlib.blake2b(nik.encode(), key=self._key, digest_size=8).digest()
        return int.from_bytes(raw, "big", signed=True)

    def check_batch(self, items: Sequence[tuple[int, str]]) -> dict[int, int]:
        """Record (row, nik) pairs in order; return {row: first_row} for repeats."""
        return self.check_keys([(row, self._digest(nik)) for row, nik in items])

    def check_keys(self, items: Sequence[tuple[int, int]]) -> dict[int, int]:
        """Record (row, key) pairs in row order; return {row: first_row} for repeats."""
        bloom, mask = self._bloom, _BLOOM_BITS - 1
        first: dict[int, int] = {}  # key -> its first row in this batch
        repeats: dict[int, int] = {}
        maybe: list[int] = []  # keys the filter says may have been seen in an earlier batch
        for row, key in items:
            if key in first:
                repeats[row] = first[key]
                continue
            first[key] = row
            bit = key & mask
            byte, flag = bit >> 3, 1 << (bit & 7)
            if bloom[byte] & flag:
                maybe.append(key)
            else:
                bloom[byte] |= flag
        earlier: dict[int, int] = {}
        for start in range(0, len(maybe), 500):  # SQLite's bound-parameter limit
            chunk = maybe[start : start + 500]
            marks = ",".join("?" * len(chunk))
            earlier.update(
                self._db.execute(f"SELECT digest, row FROM seen WHERE digest IN ({marks})", chunk)
            )
        if earlier:  # every occurrence in this batch repeats the earlier batch's row
            for row, key in items:
                if key in earlier:
                    repeats[row] = earlier[key]
        self._db.executemany(
            "INSERT INTO seen VALUES (?, ?)",
            [(key, row) for key, row in first.items() if key not in earlier],
        )
        return repeats

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> DuplicateTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
