"""A fetched feed parked on disk, encrypted, until the whole fetch has succeeded.

Why: a network feed (a SOAP service paged 500 rows at a time) can fail on page 37. The run
must then apply nothing. Fetching every page first, before the registry's write transaction
starts, gives that guarantee without holding the database's write lock during minutes of
network I/O (on SQLite that lock would make every upload in the meantime wait or fail). Rows
go to a temporary file, not to memory, so memory stays flat for any roster size; each record
is sealed with AES-GCM under a key that exists only in this process for this run, so the
NIKs and names in the spool are never readable on disk (docs/design.md §1, PII at rest).

The spool also digests what it holds: `Spool.sha256` is the SHA-256 of the canonical rows
(`canonical_row`, one line each, in fetch order), what a feed's receipt states as its input
(docs/writing-a-plugin.md, "What a feed's receipt proves").

`SpoolReader` satisfies `gateway.roster.run.RowReader`: entering it runs the fetch (raising
whatever the fetch raised), iterating it replays the rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.domain.records import Problem, RawRow

_LEN = struct.Struct(">I")
_NONCE = 12


def canonical_row(raw: RawRow) -> bytes:
    """One fetched row as the line its feed's input digest covers: JSON of [row number,
    {field: text}] with sorted keys, no spaces, UTF-8, then a newline. The same rows give the
    same digest whatever the XML's whitespace, namespace prefixes or element order."""
    line = json.dumps([raw.row, raw.values], sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)  # fmt: skip
    return (line + "\n").encode()


class Spool:
    """Append-only encrypted file of RawRows; read back once."""

    def __init__(self) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="jamsos-spool-")  # noqa: SIM115
        self._digest = hashlib.sha256()
        self.count = 0

    @property
    def sha256(self) -> str:
        """The SHA-256 (hex) of the canonical rows appended so far."""
        return self._digest.hexdigest()

    def append(self, raw: RawRow) -> None:
        self._digest.update(canonical_row(raw))
        plain = json.dumps(
            [raw.row, raw.values, sorted(raw.numeric_fields)], ensure_ascii=False
        ).encode()
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, plain, None)
        self._file.write(_LEN.pack(len(sealed)) + sealed)
        self.count += 1

    def replay(self) -> Iterator[RawRow]:
        self._file.flush()
        self._file.seek(0)
        read = self._file.read
        for _ in range(self.count):
            (size,) = _LEN.unpack(read(_LEN.size))
            sealed = read(size)
            row, values, numeric = json.loads(
                self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], None)
            )
            yield RawRow(row=row, values=values, numeric_fields=frozenset(numeric))

    def close(self) -> None:
        self._file.close()


class SpoolReader:
    """Runs `fetch(spool)` on enter (every row into the spool), then replays the rows.

    `fetch` returns nothing; it may append notices to `self.extra_notices`. `columns` is the
    source's field mapping for the run report (feed element -> canonical field).
    """

    def __init__(
        self,
        fetch: Callable[[Spool], None],
        *,
        columns: dict[str, str],
        notices: Callable[[], Iterable[Problem]] = tuple,
    ) -> None:
        self.columns = columns
        self.unknown_columns: list[str] = []
        self._fetch = fetch
        self._notices = notices
        self._spool: Spool | None = None
        self._done = 0

    def __enter__(self) -> SpoolReader:
        self._spool = Spool()
        try:
            self._fetch(self._spool)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def __iter__(self) -> Iterator[RawRow]:
        if self._spool is None:
            raise RuntimeError("SpoolReader must be entered (fetched) before it is read")
        for raw in self._spool.replay():
            self._done += 1
            yield raw

    @property
    def rows_fetched(self) -> int:
        return self._spool.count if self._spool is not None else 0

    @property
    def progress(self) -> float | None:
        total = self.rows_fetched
        return min(1.0, self._done / total) if total else None

    def notices(self) -> list[Problem]:
        return list(self._notices())
