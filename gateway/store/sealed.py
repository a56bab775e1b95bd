"""Sealing an accepted row: what it will be written as, computed where it was validated.

Encryption (AES-GCM per value), the blind index, the record digest and the history snapshot
cost more than writing the row, so on a large roster they run in worker processes
(`roster/parallel.py`). This module is what those workers import of the store: plain Python
and `cryptography`, none of SQLAlchemy (importing it would double a worker's start, time in
which the writing process prepares alone: docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from typing import NamedTuple

from gateway.domain.records import Category, EnrollmentRecord, Gender
from gateway.security.crypto import KeyRing

# Enum members' `.value` goes through a descriptor: a dict is cheaper, millions of times.
_VALUE: dict[Category | Gender, str] = {m: m.value for m in (*Category, *Gender)}


class RecordDigest:
    """A keyed digest of everything a roster says about one enrollment (name included): an
    unchanged row is recognised by comparing digests, without decrypting anything.

    Keyed, under a key derived from the index key, because everything it covers but the name
    is stored in the clear beside it (category, position, work unit, wage, dates, gender): an
    unkeyed digest let anyone holding a copy of the database test guessed names against it,
    row by row, and so read the names that are stored only encrypted.
    """

    def __init__(self, ring: KeyRing | None) -> None:
        """`None`: the unkeyed digest revisions up to 0005 stored (security/rekey.py)."""
        key = b""  # an empty key is no key: plain BLAKE2b
        if ring is not None:
            key = hashlib.blake2b(b"jamsos-record-hash", key=ring.index_key[:64]).digest()
        # The keyed state is made once and copied per row: as cheap as an unkeyed digest, where a
        # keyed state made per row is not (docs/benchmarks.md).
        self._keyed = hashlib.blake2b(key=key, digest_size=16)

    def of_parts(
        self,
        name: str,
        category: str,
        position: str | None,
        work_unit: str | None,
        wage: int,
        start_date: str,
        birth_date: str,
        gender: str,
    ) -> str:
        """The digest of stored values (dates as ISO text), as `of` gives for their record."""
        parts = (name, category, position or "", work_unit or "", str(wage), start_date,
                 birth_date, gender)  # fmt: skip
        digest = self._keyed.copy()
        digest.update("\x1f".join(parts).encode())
        return digest.hexdigest()

    def of(self, rec: EnrollmentRecord) -> str:
        return self.of_parts(
            rec.name, _VALUE[rec.category], rec.position, rec.work_unit, rec.wage,
            rec.start_date.isoformat(), rec.birth_date.isoformat(), _VALUE[rec.gender],
        )  # fmt: skip


@functools.lru_cache(maxsize=4096)
def _json_text(value: str | None) -> str:
    return json.dumps(value)  # positions and work units repeat: encode each once


def active_snapshot(category: str, position: str | None, work_unit: str | None, wage: int,
                    start_date: str) -> str:  # fmt: skip
    """JSON of the TRACKED facts of an active enrollment: `json.dumps` of that dict, the same
    text, built from a template (it is written for every new row of a national roster)."""
    return (
        f'{{"category": {_json_text(category)}, "position": {_json_text(position)}, '
        f'"work_unit": {_json_text(work_unit)}, "wage": {int(wage)}, '
        f'"start_date": "{start_date}", "end_date": null, "status": "active"}}'
    )


class Sealed(NamedTuple):
    """An accepted row ready to write: blind index, ciphertexts, digests and the history
    snapshot already computed (in a worker process on a large roster). Plain text and ints
    only: it pickles cheaply and binds unchanged on SQLite and in PostgreSQL's COPY."""

    nik_index: str
    nik_enc: str
    name_enc: str
    birth_date: str  # ISO dates
    gender: str
    nik_region: str
    category: str
    position: str | None
    work_unit: str | None
    wage: int
    start_date: str
    record_hash: str
    snapshot: str  # JSON of the TRACKED facts of this enrollment once active
    row_digest: str | None = None  # the row's texts, when it was clean (see prepare.py)


def seal(
    ring: KeyRing,
    rec: EnrollmentRecord,
    nik_index: str | None = None,
    row_digest: str | None = None,
) -> Sealed:
    """Encrypt, index and digest one accepted record (`nik_index` when already computed)."""
    return seal_many(ring, [(rec, nik_index, row_digest)])[0]


def seal_many(
    ring: KeyRing, items: Sequence[tuple[EnrollmentRecord, str | None, str | None]]
) -> list[Sealed]:
    """`seal` for many (record, nik_index or None, row_digest or None): one nonce draw each
    for the NIKs and the names."""
    niks = ring.encrypt_many([rec.nik for rec, _, _ in items], "workers.nik")
    names = ring.encrypt_many([rec.name for rec, _, _ in items], "workers.name")
    record_hash = RecordDigest(ring).of
    out: list[Sealed] = []
    for (rec, nik_index, row_digest), nik_enc, name_enc in zip(items, niks, names, strict=True):
        start = rec.start_date.isoformat()
        category = _VALUE[rec.category]
        out.append(
            Sealed(
                nik_index or ring.blind_index(rec.nik),
                nik_enc,
                name_enc,
                rec.birth_date.isoformat(),
                _VALUE[rec.gender],
                f"{rec.nik[:2]}.{rec.nik[2:4]}",
                category,
                rec.position,
                rec.work_unit,
                rec.wage,
                start,
                record_hash(rec),
                active_snapshot(category, rec.position, rec.work_unit, rec.wage, start),
                row_digest,
            )
        )
    return out
