"""In-file duplicates: exact whatever the Bloom filter in front of the seen keys says."""

from __future__ import annotations

import random

import pytest

from gateway.roster import dedupe
from gateway.roster.dedupe import DuplicateTracker
from gateway.roster.prepare import index_prefix


@pytest.mark.parametrize("bloom_bits", [8, 1 << 26])  # 8 bits: nearly every key a false hit
@pytest.mark.parametrize(
    ("memory_keys", "run_keys", "tiers"),
    [
        (1 << 16, 1 << 20, {"dict"}),  # a small roster: every key stays in the dict
        (40, 1 << 20, {"dict", "runs"}),  # most keys move to sorted runs
        (40, 120, {"dict", "runs", "sqlite"}),  # runs full early: the rest go to SQLite
        (40, 0, {"dict", "sqlite"}),
    ],
)
def test_repeats_name_their_first_row_across_batches(
    monkeypatch, bloom_bits, memory_keys, run_keys, tiers
):
    monkeypatch.setattr(dedupe, "_BLOOM_BITS", bloom_bits)
    monkeypatch.setattr(dedupe, "_MEMORY_KEYS", memory_keys)
    monkeypatch.setattr(dedupe, "_RUN_KEYS", run_keys)
    rng = random.Random(7)
    niks = [f"{rng.getrandbits(64):016x}" for _ in range(300)]
    rows = [(row, rng.choice(niks)) for row in range(2, 1500)]
    expected: dict[int, int] = {}
    first: dict[str, int] = {}
    for row, nik in rows:
        if nik in first:
            expected[row] = first[nik]
        else:
            first[nik] = row
    found: dict[int, int] = {}
    keys = [(row, index_prefix(nik)) for row, nik in rows]  # as rows' blind indexes are checked
    with DuplicateTracker() as seen:
        for start in range(0, len(keys), 97):
            found.update(seen.check_keys(keys[start : start + 97]))
        used = {"dict"} | ({"runs"} if seen._runs else set())
        used |= {"sqlite"} if seen._db is not None else set()
    assert found == expected
    assert used == tiers


def test_keyed_items_use_the_blind_index_bits():
    index = "ff" * 32
    assert index_prefix(index) == (1 << 63) - 1
    with DuplicateTracker() as seen:
        assert seen.check_keys([(2, index_prefix(index)), (3, 5)]) == {}
        assert seen.check_keys([(9, 5), (10, index_prefix(index)), (11, 5)]) == {
            9: 3,
            10: 2,
            11: 3,
        }


def test_duplicate_tracker_spans_batches_and_names_the_first_row():
    # Was tests/unit/test_crypto_config.py's, on NIK texts the tracker digested itself; keys
    # are now always the blind indexes' prefixes.
    a, b, c = (index_prefix(ch * 64) for ch in "abc")
    with DuplicateTracker() as seen:
        assert seen.check_keys([(2, a), (3, b), (4, a)]) == {4: 2}
        assert seen.check_keys([(5, c), (6, b)]) == {6: 3}
