"""Where a first load's CPU goes, stage by stage, and what that allows on this machine.

    .venv/bin/python bench/stages.py                  # 100,000 rows, SQLite, best of 3
    .venv/bin/python bench/stages.py --rows 35000 --repeat 5

Generates the same roster as `bench/ingest.py` (its first load), then runs each stage of an
apply alone, in this one process, over every row, with the gateway's own functions: reading
(the workers' CSV chunks), the row digest, the blind index, validation, sealing (encryption,
digests, history snapshot), the worker's lookup of existing workers, the round trip of a
result between processes (pickle), the writer's duplicate check, and the writer's inserts
into a fresh SQLite registry with the end of the snapshot and the commit.

Prints microseconds of CPU per row for each stage and the ceilings they set: with perfect
overlap, N cores cannot apply more than N / (all stages) rows a second, and one writer not
more than 1 / (the writer's stages). Asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import AGENCY, TODAY, make_files  # noqa: E402

BATCH = 2000  # rows a worker prepares at a time (prepare.prepare_chunk)


def best(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    """The least CPU time of `repeat` runs (process time: what a core spent) and a result."""
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        started = time.process_time()
        result = run()
        times.append(time.process_time() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from gateway.app import create_app
    from gateway.domain.agencies import resolve_agency
    from gateway.domain.validation import validate_row
    from gateway.roster.dedupe import DuplicateTracker, mark_duplicates
    from gateway.roster.parallel import _pack, _unpack, rare_collections
    from gateway.roster.prepare import (
        PreparedBatch,
        PreparedRow,
        nik_index_of,
        row_digest,
        row_digest_key,
    )
    from gateway.roster.read.chunks import chunk_rows, plan_chunks
    from gateway.roster.read.reader import open_roster
    from gateway.roster.report import RosterReport
    from gateway.store.bulk import writer_for
    from gateway.store.sealed import seal_many

    agency = resolve_agency(AGENCY)
    category = agency.default_category
    folder = Path(tempfile.mkdtemp(prefix="jamsos-stages-"))
    path = make_files(folder, args.rows)["first"]
    n = args.rows
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"{n:,} rows ({path.stat().st_size / 1e6:.1f} MB), CPU time of each stage alone, "
          f"best of {args.repeat}\n")  # fmt: skip

    def registry(name: str):  # a fresh, migrated registry with its keys
        config = {"INSTANCE_PATH": str(folder / name), "CONFIG_FILE": None, "AUTO_MIGRATE": True}
        return create_app(config).extensions["jamsos"].registry

    ring = registry("keys").keyring
    spent: dict[str, float] = {}

    with open_roster(path) as reader:
        chunks = list(plan_chunks(reader))

    def read() -> list:
        return [raw for chunk in chunks for raw in chunk_rows(chunk, [])]

    with rare_collections():
        spent["read"], raws = best(args.repeat, read)
        dkey = row_digest_key(ring)
        spent["row digest"], digests = best(
            args.repeat, lambda: [row_digest(r, dkey, category) for r in raws]
        )
        spent["blind index"], indexes = best(
            args.repeat, lambda: [nik_index_of(ring, r) for r in raws]
        )
        spent["validate"], results = best(
            args.repeat,
            lambda: [validate_row(r, today=TODAY, default_category=category) for r in raws],
        )
        accepted = [
            (res.record, index, digest)
            for res, index, digest in zip(results, indexes, digests, strict=True)
            if res.record is not None
        ]
        spent["seal"], sealed = best(args.repeat, lambda: seal_many(ring, accepted))

        rows = [
            PreparedRow(res.row, s, res.problems, index)
            for res, s, index in zip(results, sealed, indexes, strict=True)
        ]
        batches = [PreparedBatch(rows[i : i + BATCH]) for i in range(0, n, BATCH)]

        def lookup_all(reg) -> list:
            with reg.engine.connect() as conn:
                writer = writer_for(conn.connection.driver_connection, "sqlite")
                found = []
                for b in batches:
                    found.append(writer.lookup(AGENCY, [p.nik_index for p in b.rows]))
                return found

        spent["lookup (worker)"], _ = best(args.repeat, lambda: lookup_all(registry("lookup")))
        for b in batches:
            b.found = {}  # a first load: nobody is enrolled yet
        packed = [pickle.dumps(_pack(b), pickle.HIGHEST_PROTOCOL) for b in batches]
        spent["pickle (worker)"], _ = best(
            args.repeat, lambda: [pickle.dumps(_pack(b), pickle.HIGHEST_PROTOCOL) for b in batches]
        )
        spent["unpickle (writer)"], _ = best(
            args.repeat, lambda: [_unpack(pickle.loads(p)) for p in packed]
        )

        dedupe_times = []
        for _ in range(args.repeat):
            fresh = [_unpack(pickle.loads(p)) for p in packed]
            gc.collect()
            started = time.process_time()
            with DuplicateTracker() as seen:
                for b in fresh:
                    mark_duplicates(b, seen)
            dedupe_times.append(time.process_time() - started)
        spent["duplicates (writer)"] = min(dedupe_times)

        write_times: list[tuple[float, float]] = []
        for attempt in range(args.repeat):
            reg = registry(f"write-{attempt}")
            run_id = reg.start_run(agency=AGENCY, source="upload", trigger="bench")
            fresh = [_unpack(pickle.loads(p)) for p in packed]
            gc.collect()
            started = time.process_time()
            report = RosterReport()  # the writer counts the rows once, for report and run
            with reg.applying(run_id, AGENCY, TODAY) as apply:
                for b in fresh:
                    apply.add_batch(b.rows, b.kept, b.known_ids, b.found)
                    report.add(b.rows)
                inserted = time.process_time()
                apply.end_absent()
                apply.finish("succeeded", report.row_counts())
            write_times.append((inserted - started, time.process_time() - inserted))
            assert apply.changes.new == len(sealed), apply.changes
            reg.engine.dispose()
        spent["inserts (writer)"] = min(t for t, _ in write_times)
        spent["end, commit (writer)"] = min(c for _, c in write_times)

    writer_side = [k for k in spent if "(writer)" in k]
    total = sum(spent.values())
    writer = sum(spent[k] for k in writer_side)
    for stage, seconds in spent.items():
        print(f"  {stage:<22} {seconds * 1e6 / n:6.1f} us a row")
    print(f"  {'all stages':<22} {total * 1e6 / n:6.1f} us a row "
          f"({len(sealed):,} of {n:,} rows accepted)\n")  # fmt: skip
    cores = os.cpu_count() or 1
    print(f"ceilings with perfect overlap: {cores} cores {cores * n / total:,.0f} rows/s; "
          f"one writer {n / writer:,.0f} rows/s ({writer * 1e6 / n:.1f} us a row)")  # fmt: skip


if __name__ == "__main__":
    main()
