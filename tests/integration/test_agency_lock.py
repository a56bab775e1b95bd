"""Concurrent roster submissions: one agency's applies are serialized, other agencies' are not.

A roster is a snapshot: applying it ends the agency's enrollments it does not name. Two applies
of the same agency that overlapped would each end what the other just enrolled or reactivated,
so `RosterApply` takes a per-agency lock as its transaction starts (`BulkWriter.lock_agency`: a
transaction-scoped advisory lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already admits a
single writer). These tests prove it with real submissions on a real database, nothing mocked:

* Same agency: submission A is paused inside its transaction (by its own `progress` callback,
  after its rows are written and before it ends the absent ones). Submission B of the same
  agency, started meanwhile, is seen waiting (on PostgreSQL: on the very advisory lock A
  holds) and does not finish while A is paused. Once A resumes, both finish and each run's
  counters and the final enrollments are exactly those of applying A, then B, one after the
  other. Without the lock B would run to completion against the registry as it was before A
  (6 unchanged, 4 ended instead of 3 unchanged, 3 reactivated, 8 ended) and A's end would
  then end the workers B had just named.
* Other agency: while A is paused holding its agency's lock, a submission of another agency
  runs to completion (PostgreSQL only: SQLite has one writer for the whole file).
* Readers: while A is paused, the API's run list and the registry answer at once, on SQLite
  too (WAL). A reader that began its transaction with BEGIN IMMEDIATE, as every transaction
  once did, waited for the whole apply: a minute for a million rows, past the busy timeout.
* The same file twice at once: the second copy is answered as a replay of the first.

No assertion is on speed: waits are on events and conditions with a generous ceiling; the only
fixed delay is the window in which a blocked submission is checked *not* to have finished.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from gateway.app import Gateway
from gateway.domain.agencies import Agency, resolve_agency
from gateway.roster.run import RosterReport
from gateway.roster.submit import submit_roster
from gateway.store.tables import enrollment_history, enrollments, workers
from tests.helpers.roster import worker_row, write_roster

TODAY = date(2026, 11, 21)
MUARO_JAMBI = resolve_agency("15.05")
JAKARTA = resolve_agency("31")
CEILING = 60.0  # seconds: the most anything that should happen may take before the test fails
QUIET = 1.0  # seconds a blocked submission is watched not finishing (longer only proves more)

SEED = range(10)  # enrolled before the race: workers 0..9
ROSTER_A = [*range(6), *range(10, 15)]  # keeps 0..5, ends 6..9, enrolls 10..14
ROSTER_B = [*range(3, 9), *range(15, 18)]  # keeps 3..5, brings 6..8 back, enrolls 15..17


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


class Submission:
    """One `submit_roster` in its own thread. A paused one stops inside its transaction at its
    first progress report (rows written, agency lock held) until `resume` is set."""

    def __init__(self, gw: Gateway, path: Path, agency: Agency, *, pause: bool = False) -> None:
        self.gw, self.path, self.agency = gw, path, agency
        self.inside = threading.Event()  # reached its first progress report
        self.resume = threading.Event()
        self.done = threading.Event()
        self.report: RosterReport | None = None
        self.error: BaseException | None = None
        if not pause:
            self.resume.set()
        self.thread = threading.Thread(target=self._run, name=f"submit {path.name}", daemon=True)

    def _progress(self, rows: int, fraction: float | None) -> None:
        self.inside.set()
        if not self.resume.wait(CEILING):
            raise TimeoutError("the test never resumed this submission")

    def _run(self) -> None:
        try:
            self.report = submit_roster(
                self.gw.registry, self.path, agency=self.agency, today=TODAY, trigger="test",
                batch_size=self.gw.config["BATCH_SIZE"], progress=self._progress,
            )  # fmt: skip
        except BaseException as exc:  # re-raised in the test's thread by result()
            self.error = exc
        finally:
            self.done.set()

    def start(self) -> Submission:
        self.thread.start()
        return self

    def result(self) -> RosterReport:
        self.resume.set()
        self.thread.join(CEILING)
        assert not self.thread.is_alive(), f"{self.thread.name} did not finish"
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


@pytest.fixture
def submissions(gw: Gateway) -> Iterator[Callable[..., Submission]]:
    """Starts submissions; whatever happens in the test, every one is resumed and joined
    before the database goes away."""
    started: list[Submission] = []

    def start(path: Path, agency: Agency = MUARO_JAMBI, *, pause: bool = False) -> Submission:
        sub = Submission(gw, path, agency, pause=pause).start()
        started.append(sub)
        return sub

    yield start
    for sub in started:
        sub.resume.set()
    for sub in started:
        sub.thread.join(CEILING)


def roster(tmp_path: Path, name: str, numbers: list[int] | range) -> Path:
    return write_roster(tmp_path / name, [worker_row(i) for i in numbers])


def submit(gw: Gateway, path: Path, agency: Agency = MUARO_JAMBI) -> RosterReport:
    return submit_roster(
        gw.registry, path, agency=agency, today=TODAY, trigger="test",
        batch_size=gw.config["BATCH_SIZE"],
    )  # fmt: skip


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + CEILING
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def advisory_locks(gw: Gateway) -> list[tuple[int, int, bool]]:
    """(classid, objid, granted) of the advisory locks held or awaited in this database."""
    with gw.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT classid::bigint, objid::bigint, granted FROM pg_locks "
                "WHERE locktype = 'advisory' "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ).all()
    return [tuple(r) for r in rows]


def waits_on_the_held_lock(gw: Gateway) -> bool:
    """Exactly one backend waits on an advisory lock, and it is the one another holds."""
    locks = advisory_locks(gw)
    waiting = [key for *key, granted in locks if not granted]
    held = [key for *key, granted in locks if granted]
    return len(waiting) == 1 and waiting[0] in held


def enrollment_states(gw: Gateway, agency: Agency, numbers: range) -> dict[int, str]:
    """{worker number: status} of the agency's enrollments of workers 0..n (worker_row's)."""
    index_of = {gw.registry.keyring.blind_index(worker_row(i)[0]): i for i in numbers}
    with gw.engine.connect() as conn:
        rows = conn.execute(
            select(workers.c.nik_index, enrollments.c.status)
            .join(enrollments, enrollments.c.worker_id == workers.c.id)
            .where(enrollments.c.agency == agency.code)
        ).all()
    states = {index_of[ix]: status for ix, status in rows}
    assert len(states) == len(rows), "a worker has two enrollments with one agency"
    return states


def history_counts(gw: Gateway, agency: Agency) -> dict[str, int]:
    with gw.engine.connect() as conn:
        rows = conn.execute(
            select(enrollment_history.c.change, func.count())
            .join(enrollments, enrollments.c.id == enrollment_history.c.enrollment_id)
            .where(enrollments.c.agency == agency.code)
            .group_by(enrollment_history.c.change)
        ).all()
    return dict(rows)


def test_same_agency_submissions_are_applied_one_after_the_other(
    gw: Gateway, tmp_path: Path, submissions: Callable[..., Submission]
) -> None:
    seed = submit(gw, roster(tmp_path, "seed.csv", SEED))
    assert seed.changes == {"new": 10, "changed": 0, "unchanged": 0, "ended": 0}

    a = submissions(roster(tmp_path, "a.csv", ROSTER_A), pause=True)
    assert a.inside.wait(CEILING), "submission A never reached its first batch"
    b = submissions(roster(tmp_path, "b.csv", ROSTER_B))
    # SQLite: B queues on the file's write lock (BEGIN IMMEDIATE, 30 s busy timeout).
    if not gw.is_sqlite:
        wait_until(lambda: waits_on_the_held_lock(gw), "B waits on the lock A holds")
    # A is paused with its rows written and its absent workers not yet ended: B must not
    # have looked at the registry, let alone finished.
    assert not b.done.wait(QUIET), "B finished while A held the agency's lock"
    assert not b.inside.is_set()
    assert not a.done.is_set()

    first = a.result()
    second = b.result()
    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert first.run_id is not None and second.run_id is not None
    assert first.run_id < second.run_id
    # Exactly what A then B gives, applied one after the other:
    assert first.changes == {"new": 5, "changed": 0, "unchanged": 6, "ended": 4}
    assert second.changes == {"new": 3, "changed": 3, "unchanged": 3, "ended": 8}
    states = enrollment_states(gw, MUARO_JAMBI, range(18))
    assert sorted(i for i, s in states.items() if s == "active") == ROSTER_B
    assert sorted(i for i, s in states.items() if s == "ended") == [0, 1, 2, 9, *range(10, 15)]
    # Every enrollment's story is whole: 18 enrolled once, 4 + 8 ends, 6..8 brought back.
    assert history_counts(gw, MUARO_JAMBI) == {"new": 18, "ended": 12, "reactivated": 3}
    assert gw.registry.count_active(MUARO_JAMBI.code) == 9


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite: one writer for the whole file
def test_another_agency_is_not_held_up_by_the_lock(
    gw: Gateway, tmp_path: Path, submissions: Callable[..., Submission]
) -> None:
    submit(gw, roster(tmp_path, "seed.csv", SEED))

    a = submissions(roster(tmp_path, "a.csv", ROSTER_A), pause=True)
    assert a.inside.wait(CEILING), "submission A never reached its first batch"
    assert [granted for *_, granted in advisory_locks(gw)] == [True]  # A holds its lock
    # Jakarta names workers of its own and some that Muaro Jambi already had (their
    # enrollments with Jakarta are separate), but none that A is inserting right now: such a
    # worker would make Jakarta wait on the workers' unique index until A commits (a wait of
    # PostgreSQL's INSERT ... ON CONFLICT, not of the agency lock).
    other = submissions(roster(tmp_path, "jakarta.csv", [*range(4), *range(20, 24)]), JAKARTA)
    assert other.done.wait(CEILING), "Jakarta's submission waited for Muaro Jambi's lock"
    assert not a.done.is_set()  # A was still holding its lock the whole time
    assert other.result().changes == {"new": 8, "changed": 0, "unchanged": 0, "ended": 0}

    assert a.result().changes == {"new": 5, "changed": 0, "unchanged": 6, "ended": 4}
    jakarta = enrollment_states(gw, JAKARTA, range(24))
    assert sorted(jakarta) == [*range(4), *range(20, 24)]
    assert set(jakarta.values()) == {"active"}
    muaro = enrollment_states(gw, MUARO_JAMBI, range(24))
    assert sorted(i for i, s in muaro.items() if s == "active") == ROSTER_A
    assert advisory_locks(gw) == []  # released with A's transaction


def test_the_same_file_sent_twice_at_once_is_applied_once(
    gw: Gateway, tmp_path: Path, submissions: Callable[..., Submission]
) -> None:
    """A double click: the second copy arrives while the first is being applied. It waits for
    the agency's lock, then finds the first applied and answers as a replay of it, as it
    would have had it arrived a moment later; no second run is recorded."""
    submit(gw, roster(tmp_path, "seed.csv", SEED))
    path = roster(tmp_path, "a.csv", ROSTER_A)

    first = submissions(path, pause=True)
    assert first.inside.wait(CEILING), "the first copy never reached its first batch"
    second = submissions(path)
    if not gw.is_sqlite:
        wait_until(lambda: waits_on_the_held_lock(gw), "the second copy waits on the lock")
    assert not second.done.wait(QUIET), "the second copy finished while the first held the lock"

    applied, replay = first.result(), second.result()
    assert applied.replayed is False and replay.replayed is True
    assert replay.run_id == applied.run_id
    assert replay.changes == applied.changes == {"new": 5, "changed": 0, "unchanged": 6,
                                                 "ended": 4}  # fmt: skip
    assert replay.receipt == applied.receipt
    runs = gw.registry.list_runs(agency=MUARO_JAMBI.code)
    assert len(runs) == 2  # the seed and the one applied copy: the waiting one left no run
    assert history_counts(gw, MUARO_JAMBI) == {"new": 15, "ended": 4}


def test_readers_answer_while_a_roster_is_being_applied(
    app: Flask, gw: Gateway, tmp_path: Path, submissions: Callable[..., Submission]
) -> None:
    seed = submit(gw, roster(tmp_path, "seed.csv", SEED))
    key = gw.registry.create_api_key(MUARO_JAMBI.code, "BKPSDM Muaro Jambi")
    a = submissions(roster(tmp_path, "a.csv", ROSTER_A), pause=True)
    assert a.inside.wait(CEILING), "submission A never reached its first batch"

    answers: dict[str, object] = {}

    def read() -> None:
        try:
            client = app.test_client()
            response = client.get("/api/v1/runs", headers={"X-API-Key": key})
            answers["runs"] = (response.status_code, [r["id"] for r in response.json["runs"]])
            answers["active"] = gw.registry.count_active(MUARO_JAMBI.code)
        except Exception as exc:  # "database is locked", once the busy timeout ran out
            answers["error"] = exc

    reader = threading.Thread(target=read, name="reader", daemon=True)
    reader.start()
    reader.join(CEILING)
    assert not reader.is_alive(), "a read waited for the apply"
    assert "error" not in answers, f"a read failed while a roster was applied: {answers}"
    assert not a.done.is_set()  # A was inside its transaction all along
    # What was committed before A: the seed run (A's own run row says `running`), the seed's
    # ten active workers, none of A's uncommitted rows.
    status, ids = answers["runs"]  # type: ignore[misc]
    assert status == 200 and seed.run_id in ids
    assert answers["active"] == 10
    assert a.result().status == "succeeded"


def test_two_syncs_of_the_same_file_at_once_apply_it_once(gw: Gateway, tmp_path: Path) -> None:
    """`jamsos sync` by hand while the scheduled sync of the same drop folder runs: the second
    waits for the agency's lock, then finds the file applied by the first and records no run
    (before: it applied the file again, a second run of all-unchanged rows)."""
    import shutil
    from importlib.resources import files

    from gateway.roster.sync import SyncResult, sync_source
    from gateway.sources.loader import make_plugin_manager, source_catalog

    drop = tmp_path / "drop"
    drop.mkdir()
    sample = files("jamsos_kemendes") / "samples" / "pendamping_desa_2025.csv"
    shutil.copy(Path(str(sample)), drop / "juni.csv")
    pm = make_plugin_manager()
    inside, resume = threading.Event(), threading.Event()
    results: dict[str, SyncResult] = {}

    def pause(rows: int, fraction: float | None) -> None:
        inside.set()
        resume.wait(CEILING)

    def run(name: str, progress: Callable | None) -> None:
        source = source_catalog(pm, {"kemendes-pendamping": {"folder": str(drop)}})
        results[name] = sync_source(
            gw.registry, pm, source["kemendes-pendamping"].create(), today=date(2025, 6, 2),
            trigger="test", progress=progress,
        )  # fmt: skip

    first = threading.Thread(target=run, args=("first", pause), daemon=True)
    first.start()
    try:
        assert inside.wait(CEILING), "the first sync never reached its first batch"
        second = threading.Thread(target=run, args=("second", None), daemon=True)
        second.start()
        if not gw.is_sqlite:
            wait_until(lambda: waits_on_the_held_lock(gw), "the second sync waits on the lock")
        second.join(QUIET)
        assert second.is_alive(), "the second sync finished while the first held the lock"
    finally:
        resume.set()
    first.join(CEILING)
    second.join(CEILING)

    assert results["first"].status == "succeeded"
    applied = results["first"].report.run_id
    assert results["second"].status == "nothing_new"
    assert results["second"].message == (
        f"sudah diterapkan oleh run {applied}",
        f"already applied by run {applied}",
    )
    assert [r["id"] for r in gw.registry.list_runs(agency="kemendes")] == [applied]
