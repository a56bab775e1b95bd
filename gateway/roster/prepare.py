"""Preparing roster rows for the registry: validated, keyed by the blind index of their NIK,
sealed (encrypted, indexed, digested), or known unchanged. One batch at a time, in whichever
process runs it: the worker pool that runs it for a large roster is `parallel.py`. A check
(`run.check_roster`) prepares the same way without sealing (`seal=False`): nothing is
encrypted, digested or looked up.

Preparing a new row (reading, validating, sealing: two AES-GCM fields, the blind index,
digests, the history snapshot) costs more CPU than writing it, which is why a large roster is
prepared in worker processes (stage by stage: docs/benchmarks.md).

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

Names: `nik_text` is the NIK a raw row names (text, normalised); `nik_index` its blind index
(HMAC under the index key, as `workers.nik_index` stores it); `index_prefix` the first 64 bits
of a blind index (what in-file duplicates are found on, `dedupe.py`); `row_digest` the keyed
digest of a row's cells, under `row_digest_key`.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from gateway.domain.nik import normalize_nik
from gateway.domain.records import Category, EnrollmentRecord, Problem, RawRow, RowResult
from gateway.domain.validation import _present, validate_row
from gateway.roster.read.chunks import CsvChunk, chunk_rows
from gateway.security.crypto import KeyRing
from gateway.store.sealed import Sealed, seal_many
from gateway.store.worker_reads import Lookup, Probe

# Adds problems to a row's result (and clears its record on an error): agency-specific rules
# (the plugins' `validate_record` hook).
RowCheck = Callable[[RawRow, RowResult], None]
# What validation accepts as a clean row, by version: bump to retire every stored row digest.
# 2: wages under Rp 10,000 rejected; 3: direction controls out of names, inner whitespace of
# positions and work units collapsed.
ROW_RULES = "3"


@dataclass(slots=True)
class PreparedRow:
    """A validated row; `record` is sealed and ready to write (None: rejected; a check's rows
    keep the EnrollmentRecord, unsealed).

    Quacks like a RowResult for the report and the store. `nik_index` is the blind index of
    the NIK the row names when that NIK is well-formed (also for a rejected row: its worker
    is kept).
    """

    row: int
    record: Sealed | EnrollmentRecord | None
    problems: list[Problem]
    nik_index: str | None


@dataclass(slots=True)
class PreparedBatch:
    """Prepared rows of one batch: validated `rows` in file order, and the rows known
    unchanged, kept as three parallel arrays (a re-sent national roster is mostly these, and
    arrays of ints cross processes and the writer nearly for free)."""

    rows: list[PreparedRow] = field(default_factory=list)
    known_rows: array = field(default_factory=lambda: array("q"))  # spreadsheet rows
    known_ids: array = field(default_factory=lambda: array("q"))  # their enrollments
    known_prefixes: array = field(default_factory=lambda: array("q"))  # index_prefix(...)
    kept: list[str] = field(default_factory=list)  # blind indexes of rejected rows: kept
    # {nik_index: lookup row} of the sealed rows' workers already in the registry (`Lookup`);
    # None: not looked up here (the writer looks them up)
    found: dict[str, tuple] | None = None


def nik_text(raw: RawRow) -> str | None:
    """The NIK a row names, if it looks like one: used for in-file duplicates and for
    keeping (not ending) a worker whose row was rejected for another reason."""
    value = raw.values.get("nik")
    if not value or (raw.numeric_fields and "nik" in raw.numeric_fields):
        return None
    if len(value) == 16 and value.isdigit() and value.isascii():
        return value  # the usual case: nothing to normalise
    nik = normalize_nik(value)
    return nik if len(nik) == 16 and nik.isdigit() else None


def nik_index_of(ring: KeyRing, raw: RawRow) -> str | None:
    """The blind index of the NIK a row names, if it names one."""
    nik = nik_text(raw)
    return ring.blind_index(nik) if nik is not None else None


def index_prefix(nik_index: str) -> int:
    """The first 64 bits of a blind index (already a keyed digest), as a signed int: what
    in-file duplicates are found on (`dedupe.DuplicateTracker`)."""
    return int(nik_index[:16], 16) - (1 << 63)


def row_digest_key(ring: KeyRing) -> bytes:
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
    lookup: Lookup | None = None,
    seal: bool = True,
) -> PreparedBatch:
    """Validate one batch; with `seal`, also seal its accepted rows and (with `probe`) set
    aside the rows the registry holds unchanged. Without `seal` (a check) the accepted rows
    keep their EnrollmentRecord and nothing is digested or looked up."""
    indexes = [nik_index_of(ring, raw) for raw in batch]
    digests: list[str | None] = [None] * len(batch)
    known: dict[str, int] = {}
    if seal and check_row is None:  # a plugin's own check may say something new about any row
        dkey = row_digest_key(ring)
        digests = [row_digest(raw, dkey, default_category) for raw in batch]
        if probe is not None:
            known = probe(digests)  # type: ignore[arg-type]
    out = PreparedBatch()
    accepted: list[tuple[EnrollmentRecord, str | None, str | None]] = []
    for raw, index, digest in zip(batch, indexes, digests, strict=True):
        if known and digest in known and index is not None:
            out.known_rows.append(raw.row)
            out.known_ids.append(known[digest])  # type: ignore[index]
            out.known_prefixes.append(index_prefix(index))
            continue
        res = validate_row(raw, today=today, default_category=default_category)
        if check_row is not None:
            check_row(raw, res)
        rec = res.record
        if rec is not None and seal:
            # Only a clean row's digest is kept: a row with a warning must be warned about
            # again, and without its own birth date the NIK's century depends on the day.
            clean = not res.problems and _present(raw.values.get("birth_date")) is not None
            # `index` is the blind index of this very NIK: both are the row's NIK text.
            accepted.append((rec, index, digest if clean else None))
        out.rows.append(PreparedRow(raw.row, rec, res.problems, index))
    if not seal:
        return out
    sealed = seal_many(ring, accepted)
    records = iter(sealed)
    for p in out.rows:
        if isinstance(p.record, EnrollmentRecord):
            p.record = next(records)
    if lookup is not None:
        out.found = {r[0]: r for r in lookup([s.nik_index for s in sealed])} if sealed else {}
    return out


def batched(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for raw in rows:
        batch.append(raw)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def prepare_chunk(
    chunk: CsvChunk, prepare: Callable[[list[RawRow]], PreparedBatch]
) -> tuple[PreparedBatch, list[int]]:
    """Read and prepare one chunk of a CSV file; also its skipped totals rows."""
    skipped: list[int] = []
    whole = PreparedBatch()
    for batch in batched(chunk_rows(chunk, skipped), 2000):
        prepared = prepare(batch)
        whole.rows += prepared.rows
        whole.known_rows += prepared.known_rows
        whole.known_ids += prepared.known_ids
        whole.known_prefixes += prepared.known_prefixes
        if prepared.found is not None:
            if whole.found is None:
                whole.found = {}
            whole.found.update(prepared.found)
    return whole, skipped
