"""The worker-pool path of a large roster gives exactly the serial path's outcome."""

from __future__ import annotations

import json
from datetime import date

import pytest

from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from tests.helpers.roster import HEADER, worker_row, write_roster

TODAY = date(2026, 11, 21)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def _roster(tmp_path, name: str, wage: int = 3_500_000):
    rows = [worker_row(i, wage=wage) for i in range(130)]
    rows[7][0] = "12345"  # unreadable NIK: rejected, names nobody
    rows[9][5] = "-"  # wage missing: rejected, but the worker is kept
    rows.append(worker_row(3))  # the same NIK again: rejected on this second occurrence
    return write_roster(tmp_path / name, rows)


def _submit(gw, path):
    return submit_roster(
        gw.registry, path, agency=resolve_agency("15.05"), today=TODAY, trigger="test",
        batch_size=gw.config["BATCH_SIZE"],
    )  # fmt: skip


def _workers_only(monkeypatch) -> None:
    """Only the worker processes prepare (the writer takes no chunk itself), in small chunks:
    what they computed (sealed rows, lookups of existing workers) is what gets written."""
    from gateway.roster import parallel

    real_map = parallel._Pool.map_chunks
    monkeypatch.setattr(
        parallel._Pool, "map_chunks", lambda self, chunks, local=None: real_map(self, chunks)
    )
    monkeypatch.setattr("gateway.roster.read.chunks.CHUNK_BYTES", 1_000)


@pytest.mark.parametrize(
    ("workers", "workers_only"), [("0", False), ("1", False), ("2", False), ("1", True)]
)
def test_pool_and_serial_paths_agree(gw, tmp_path, monkeypatch, workers, workers_only):
    monkeypatch.setattr("gateway.roster.run.PARALLEL_MIN_BYTES", 0)  # every roster takes the pool
    monkeypatch.setenv("JAMSOS_PREPARE_WORKERS", workers)
    if workers_only:
        _workers_only(monkeypatch)
    first = _submit(gw, _roster(tmp_path, "a.csv"))
    assert (first.rows, first.accepted, first.rejected) == (131, 128, 3)
    assert first.changes == {"new": 128, "changed": 0, "unchanged": 0, "ended": 0}
    dup = [p for p in first.problems if p["code"] == "nik_duplicate"]
    assert [p["row"] for p in dup] == [132] and "5" in dup[0]["message_id"]

    rows = [worker_row(i, wage=4_000_000 if i < 10 else 3_500_000) for i in range(1, 120)]
    rows[9][5] = "-"  # worker 10 rejected this time: kept, not ended
    second = _submit(gw, write_roster(tmp_path / "b.csv", rows))
    # 0 and 120..129 leave; 7 and 9 (rejected the first time) are new; 1..8 get a raise
    assert second.changes == {"new": 2, "changed": 7, "unchanged": 109, "ended": 11}
    assert gw.registry.find_worker(worker_row(10)[0])["enrollments"][0]["status"] == "active"
    found = gw.registry.find_worker(worker_row(2)[0])
    assert found["enrollments"][0]["wage"] == 4_000_000
    assert found["name"] == "Pekerja Nomor 2"


def test_a_bad_byte_found_by_a_worker_rejects_the_file_like_the_reader(gw, tmp_path, monkeypatch):
    # Only the worker prepares, so the error must come back across processes.
    _workers_only(monkeypatch)
    monkeypatch.setattr("gateway.roster.run.PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr("gateway.roster.read.chunks.CHUNK_BYTES", 20_000)
    monkeypatch.setenv("JAMSOS_PREPARE_WORKERS", "1")
    # Non-ASCII UTF-8 in the first 64 KiB makes the reader strict; the file is ~90 KiB.
    rows = [worker_row(i, name="Pekerja Ñomor") for i in range(1000)]
    path = write_roster(tmp_path / "bad.csv", rows)
    data = path.read_bytes()
    cut = data.rindex(b"Pekerja")
    path.write_bytes(data[:cut] + b"\xff" + data[cut + 1 :])  # in the last rows, read by a worker
    report = _submit(gw, path)
    assert report.status == "rejected"
    assert [p["code"] for p in report.problems] == ["undecodable"]
    assert gw.registry.find_worker(worker_row(1)[0]) is None  # nothing of the file applied


def test_a_million_unknown_columns_make_a_small_answer(gw, tmp_path):
    """Issue 16, item 10: 1 million unknown columns created 1 million problem rows and an
    11.8 MB answer. Now the first 50 are listed and the rest counted in one notice."""
    header = [*HEADER, *(f"Kolom Tambahan {i}" for i in range(1_000_000))]
    path = write_roster(tmp_path / "wide.csv", [worker_row(i) for i in range(3)], header)
    report = _submit(gw, path)
    assert (report.status, report.accepted) == ("succeeded", 3)
    assert len(report.unknown_columns) == 50
    codes = [p["code"] for p in report.problems]
    assert codes.count("unknown_column") == 50 and codes.count("unknown_columns_more") == 1
    assert len(json.dumps(report.problems)) < 50_000
