"""Identity verification against the loopback Dukcapil service over real HTTP (issue 19):
every verdict, every condition of the service, and what is (not) stored for each."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from jamsos_dukcapil.server import DukcapilServer

from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store import verification as store
from gateway.verify.report import agency_verification, run_verification
from gateway.verify.run import verify_pending
from tests.helpers.roster import worker_row, write_roster
from tests.helpers.verify import PASSWORD_ENV, nik_of, population, resident, verification

TODAY = date(2025, 6, 2)
AGENCY = resolve_agency("15.05")


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "rahasia-demo")


@pytest.fixture
def server():
    with DukcapilServer(population(range(12))) as s:
        yield s


def submit(gw, tmp_path, numbers, *, names=None, name="roster.csv"):
    rows = [worker_row(i, name=(names or {}).get(i)) for i in numbers]
    return submit_roster(gw.registry, write_roster(tmp_path / name, rows), agency=AGENCY,
                         today=TODAY, trigger="test", batch_size=50)  # fmt: skip


def verify(gw, settings, **kw):
    return verify_pending(gw.registry.engine, gw.registry.keyring, gw.plugins, settings, **kw)


def stored(gw):
    with gw.registry.engine.connect() as conn:
        rows = conn.execute(store.verifications.select()).mappings().all()
    return {r["worker_id"]: dict(r) for r in rows}


def test_every_verdict_is_stored_with_its_scores_and_listed_by_row(gw, tmp_path, server):
    server.add(resident(1, name="Siti Rahmawati Lubis"))  # the registry holds another name
    server.state.residents.pop(nik_of(2))  # 13: not found
    server.set_status(nik_of(3), "deceased")  # 11
    server.set_status(nik_of(4), "inactive")  # 14
    server.set_status(nik_of(5), "several")  # 12
    server.force(nik_of(6), "08")  # NIK cannot be processed
    server.force(nik_of(7), "15")  # not found / bad format
    report = submit(gw, tmp_path, range(9))
    result = verify(gw, verification(server))
    assert result.stopped is None and result.asked == 9
    assert dict(result.answers) == {"match": 2, "mismatch": 1, "not_found": 2, "deceased": 1,
                                    "inactive": 1, "several": 1, "unprocessable": 1}
    body = run_verification(gw.registry.engine, gw.registry.keyring, report.run_id)
    by_row = {p["row"]: p for p in body["problems"]}
    # Row 2 holds worker 0 (the header is row 1).
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9]
    mismatch = by_row[3]
    assert mismatch["outcome"] == "mismatch" and mismatch["elements"] == ["name"]
    assert mismatch["scores"]["name"] < 90
    assert mismatch["scores"] | {"name": 100} == {"nik": 100, "name": 100, "birth_date": 100,
                                                   "gender": 100}
    assert "nama" in mismatch["message_id"] and "name" in mismatch["message_en"]
    assert [by_row[r]["outcome"] for r in (4, 5, 6, 7, 8, 9)] == [
        "not_found", "deceased", "inactive", "several", "unprocessable", "not_found"]
    assert by_row[5]["code"] == "11" and "meninggal" in by_row[5]["message_id"]
    assert by_row[3]["nik"].count("*") == 6  # masked
    assert body["counts"]["match"] == 2 and body["counts"]["problems"] == 7
    assert body["counts"]["pending"] == 0
    # Nothing of the elements is stored: verdict, scores, codes, times.
    for row in stored(gw).values():
        assert "Pekerja" not in repr(row) and nik_of(0)[:6] not in repr(row)


def test_a_second_pass_asks_nobody_again(gw, tmp_path, server):
    submit(gw, tmp_path, range(3))
    verify(gw, verification(server))
    asked = len(server.requests)
    again = verify(gw, verification(server))
    assert again.asked == 0 and len(server.requests) == asked == 3


def test_a_changed_name_is_asked_again_a_wage_change_is_not(gw, tmp_path, server):
    submit(gw, tmp_path, range(3))
    verify(gw, verification(server))
    rows = [worker_row(0, name="Pekerja Nomor Nol"), worker_row(1, wage=4_000_000),
            worker_row(2)]  # fmt: skip
    submit_roster(gw.registry, write_roster(tmp_path / "second.csv", rows), agency=AGENCY,
                  today=TODAY, trigger="test", batch_size=50)  # fmt: skip
    server.requests.clear()
    result = verify(gw, verification(server))
    assert server.requests == [nik_of(0)]
    assert result.answers == {"mismatch": 1} and result.confirmed == 1


def test_answers_older_than_recheck_days_are_asked_again(gw, tmp_path, server):
    submit(gw, tmp_path, range(2))
    verify(gw, verification(server, recheck_days=30))
    later = datetime.now(UTC).replace(microsecond=0)
    later = later.replace(year=later.year + 1)
    server.requests.clear()
    assert verify(gw, verification(server, recheck_days=30), now=later).asked == 2
    assert sorted(server.requests) == sorted([nik_of(0), nik_of(1)])


CONDITIONS = [
    # (what the service does, the condition the pass stops with, the answer code)
    (lambda s: setattr(s, "quota", 0), "quota", "05"),
    (lambda s: setattr(s, "closed", True), "outside_hours", "06"),
    (lambda s: setattr(s, "hours", _hours_excluding_now()), "outside_hours", "06"),
    (lambda s: s.force(None, "16"), "refused", "16"),
    (lambda s: s.force(None, "17"), "refused", "17"),
    (lambda s: s.state.allowed_ips.clear(), "refused", "04"),
    (lambda s: setattr(s.state, "password", "diganti"), "refused", "03"),
    (lambda s: s.fail("http500", times=2), "unavailable", None),
    (lambda s: s.fail("drop", times=2), "unavailable", None),
    (lambda s: s.fail("malformed", times=1), "unavailable", None),
    (lambda s: (setattr(s.state, "delay", 1.5), s.fail("slow", times=2)), "unavailable", None),
]


def _hours_excluding_now():
    """An access window that has closed for today (or not opened yet), in WIB."""
    from gateway.clock import WIB

    hour = datetime.now(WIB).hour
    return (hour + 1, 24) if hour < 23 else (0, 23)


@pytest.mark.parametrize(("make", "condition", "code"), CONDITIONS,
                         ids=[c[1] + "-" + str(i) for i, c in enumerate(CONDITIONS)])
def test_a_condition_of_the_service_pauses_and_counts_nobody_as_failed(
    gw, tmp_path, server, make, condition, code
):
    report = submit(gw, tmp_path, range(5))
    make(server)
    result = verify(gw, verification(server, dukcapil={"timeout": 0.5}))
    assert result.stopped == condition and result.code == code
    assert result.asked == 0 and stored(gw) == {}
    assert result.resume_at is not None and result.resume_at > datetime.now(UTC)
    # The plugin stops at the first such answer: one person asked (two with a retry).
    assert len(server.requests) <= 2
    counts = run_verification(gw.registry.engine, gw.registry.keyring, report.run_id)["counts"]
    assert counts["pending"] == 5 and counts["problems"] == 0
    paused = verify(gw, verification(server))
    assert paused.stopped == "paused" and len(server.requests) <= 2


def test_one_dropped_connection_or_slow_answer_is_retried(gw, tmp_path, server):
    submit(gw, tmp_path, range(2))
    server.fail("drop", times=1)
    assert verify(gw, verification(server)).answers == {"match": 2}


def test_the_agency_page_lists_problems_with_the_run_and_row(gw, tmp_path, server):
    server.set_status(nik_of(1), "deceased")
    report = submit(gw, tmp_path, range(3))
    verify(gw, verification(server))
    body = agency_verification(gw.registry.engine, gw.registry.keyring, AGENCY.code)
    (problem,) = body["problems"]
    assert (problem["outcome"], problem["row"], problem["run_id"]) == ("deceased", 3,
                                                                       report.run_id)
    assert problem["filename"] == "roster.csv"
    assert body["counts"]["match"] == 2 and body["counts"]["deceased"] == 1


def test_migration_0014_adds_the_table_and_the_row_to_an_existing_registry(tmp_path):
    from alembic import command
    from sqlalchemy import inspect, text

    from gateway.store import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db._alembic_config()

    def shape():
        found = inspect(engine)
        return ("verifications" in found.get_table_names(),
                "row" in {c["name"] for c in found.get_columns("enrollment_history")})

    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0013")
        # A registry made before revision 0014 had neither (0001 now creates from the live
        # metadata, which has the column).
        conn.execute(text('ALTER TABLE enrollment_history DROP COLUMN "row"'))
    assert shape() == (False, False)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0014")
    assert shape() == (True, True)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013")
    assert shape() == (False, False)
    db.upgrade(engine)
    assert shape() == (True, True)
    engine.dispose()


def test_a_pass_of_another_process_is_not_doubled(gw, tmp_path, server):
    # Two gunicorn workers, or a scheduled `jamsos verify run` beside a server's pass: the
    # lease in gateway_meta lets one ask; the other asks nobody. A dead holder lets go.
    from datetime import timedelta

    submit(gw, tmp_path, range(3))
    now = datetime.now(UTC)
    assert store.take_lease(gw.engine, "other-host|1|x", now + timedelta(minutes=5), now)
    assert verify(gw, verification(server)).stopped == "busy" and server.requests == []
    assert store.take_lease(gw.engine, "other-host|1|x", now - timedelta(seconds=1), now)
    assert verify(gw, verification(server)).answers == {"match": 3}
    with gw.engine.connect() as conn:  # released at the end of the pass
        assert conn.execute(store.select(store.gateway_meta.c.value).where(
            store.gateway_meta.c.key == store.LEASE_KEY)).scalar() is None
