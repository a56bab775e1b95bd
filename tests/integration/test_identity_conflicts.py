"""Identity per agency (issue 16, finding 1): what one agency sends never changes the worker
identity another agency's enrollment shows. A NIK enrolled elsewhere with another name is
applied but flagged (an identity conflict for compliance staff, a warning on the clerk's
row); an agency alone with its worker still corrects the name. Both backends, both orders,
the serial and the worker-process paths, and the unchanged-row shortcut."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store.identity import conflict_count, conflict_page, mask_claimed_name
from gateway.store.tables import enrollment_history, enrollments, identity_conflicts
from tests.helpers.roster import worker_row, write_roster

TODAY = date(2026, 11, 21)
JAMBI = resolve_agency("15.05")
DKI = resolve_agency("31")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def _submit(gw, tmp_path, agency, rows, name):
    path = write_roster(tmp_path / f"{name}.csv", rows)
    report = submit_roster(
        gw.registry, path, agency=agency, today=TODAY, trigger="test",
        batch_size=gw.config["BATCH_SIZE"],
    )  # fmt: skip
    assert report.status == "succeeded", report.problems
    return report


def _warnings(report) -> list[dict]:
    return [p for p in report.problems if p["code"] == "identity_conflict"]


def _conflicts(gw) -> list[dict]:
    with gw.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(identity_conflicts))]


def _shared(i: int, name: str) -> list[str]:
    return worker_row(i, name=name, region="15.05")


@pytest.mark.parametrize(("first", "second"), [(DKI, JAMBI), (JAMBI, DKI)])
def test_another_agency_never_renames_a_worker_it_shares(gw, tmp_path, first, second):
    nik = _shared(1, "x")[0]
    _submit(gw, tmp_path, first, [_shared(1, "Budi Santoso"), worker_row(2)], "a")

    claimed = _submit(gw, tmp_path, second, [_shared(1, "Siti Aminah")], "b")
    # Accepted and enrolled (the wage and position are the second agency's), but flagged.
    assert (claimed.accepted, claimed.warnings) == (1, 1)
    assert claimed.changes["new"] == 1
    [warning] = _warnings(claimed)
    assert warning["row"] == 2 and warning["field"] == "name"
    assert warning["severity"] == "warning"
    assert "instansi lain" in warning["message_id"] and "Another agency" in warning["message_en"]
    assert "Budi" not in warning["message_id"] + warning["message_en"]
    assert "Siti" not in warning["message_id"] + warning["message_en"]
    assert gw.registry.find_worker(nik)["name"] == "Budi Santoso"

    # The finding: a second submission with yet another name changed what the first sees.
    again = _submit(gw, tmp_path, second, [_shared(1, "Siti Rahma Aminah")], "c")
    assert again.changes["changed"] == 1 and len(_warnings(again)) == 1
    found = gw.registry.find_worker(nik)
    assert found["name"] == "Budi Santoso"
    assert {e["agency"]: e["status"] for e in found["enrollments"]} == {
        first.code: "active", second.code: "active"
    }

    [conflict] = _conflicts(gw)
    assert conflict["agency"] == second.code and conflict["holders"] == [first.code]
    assert conflict["fields"] == ["name"] and conflict["resolved_at"] is None
    assert conflict["first_run_id"] == claimed.run_id and conflict["last_run_id"] == again.run_id
    assert conflict["claimed_name"] == "Si*** R. A." == mask_claimed_name("Siti Rahma Aminah")
    stored = json.dumps(conflict, default=str)
    assert nik not in stored and "Siti" not in stored and "Aminah" not in stored

    # The first agency's own roster again: no conflict of its own, nothing changed for it.
    mine = _submit(gw, tmp_path, first, [_shared(1, "Budi Santoso"), worker_row(2), worker_row(3)],
                   "d")  # fmt: skip
    assert not _warnings(mine) and mine.changes["changed"] == 0
    assert gw.registry.find_worker(nik)["name"] == "Budi Santoso"


def test_an_agency_alone_with_its_worker_still_corrects_the_name(gw, tmp_path):
    nik = worker_row(1)[0]
    _submit(gw, tmp_path, JAMBI, [worker_row(1, name="Budi Santosa")], "a")
    fixed = _submit(gw, tmp_path, JAMBI, [worker_row(1, name="Budi Santoso")], "b")
    assert fixed.changes["changed"] == 1 and not _warnings(fixed)
    assert gw.registry.find_worker(nik)["name"] == "Budi Santoso"
    with gw.engine.connect() as conn:
        last = conn.execute(
            select(enrollment_history.c.after).where(enrollment_history.c.run_id == fixed.run_id)
        ).scalar_one()
    assert (json.loads(last) if isinstance(last, str) else last)["identity"] == "changed"
    assert _conflicts(gw) == []


def test_the_same_name_spelled_in_other_case_is_no_conflict(gw, tmp_path):
    _submit(gw, tmp_path, DKI, [_shared(1, "Budi Santoso")], "a")
    same = _submit(gw, tmp_path, JAMBI, [_shared(1, "BUDI  SANTOSO")], "b")
    assert not _warnings(same) and _conflicts(gw) == []


def test_an_unchanged_conflicting_row_is_warned_about_every_time(gw, tmp_path):
    """The unchanged-row shortcut (row_digest) must not hide the conflict: the row keeps no
    digest, and a row exactly as last time is still in conflict."""
    _submit(gw, tmp_path, DKI, [_shared(1, "Budi Santoso")], "a")
    rows = [_shared(1, "Siti Aminah"), worker_row(5)]
    first = _submit(gw, tmp_path, JAMBI, rows, "b")
    assert len(_warnings(first)) == 1
    with gw.engine.connect() as conn:
        digests = conn.execute(
            select(enrollments.c.row_digest).where(enrollments.c.agency == "15.05")
        ).scalars().all()
    assert digests.count(None) == 1  # the conflicting row's enrollment has none
    # The same rows in another file (other bytes: not a replay), one worker more.
    again = _submit(gw, tmp_path, JAMBI, [*rows, worker_row(6)], "c")
    assert again.changes == {"new": 1, "changed": 0, "unchanged": 2, "ended": 0}
    [warning] = _warnings(again)
    assert warning["row"] == 2
    [conflict] = _conflicts(gw)
    assert conflict["last_run_id"] == again.run_id


def test_sending_the_registered_identity_resolves_the_conflict_and_a_new_claim_reopens_it(
    gw, tmp_path
):
    _submit(gw, tmp_path, DKI, [_shared(1, "Budi Santoso")], "a")
    _submit(gw, tmp_path, JAMBI, [_shared(1, "Siti Aminah")], "b")
    assert conflict_count(gw.engine) == 1
    agreed = _submit(gw, tmp_path, JAMBI, [_shared(1, "Budi Santoso")], "c")
    assert not _warnings(agreed)
    assert conflict_count(gw.engine) == 0 and conflict_count(gw.engine, resolved=True) == 1
    [settled] = conflict_page(gw.engine, resolved=True)
    assert settled["resolved_run_id"] == agreed.run_id
    reopened = _submit(gw, tmp_path, JAMBI, [_shared(1, "Siti Aminah")], "d")
    assert len(_warnings(reopened)) == 1
    [conflict] = conflict_page(gw.engine)
    assert conflict["first_run_id"] == reopened.run_id and conflict["resolved_at"] is None


def test_a_worker_ended_by_its_agency_is_still_not_renamed_by_another(gw, tmp_path):
    nik = _shared(1, "x")[0]
    _submit(gw, tmp_path, DKI, [_shared(1, "Budi Santoso"), worker_row(2)], "a")
    _submit(gw, tmp_path, DKI, [worker_row(2)], "b")  # DKI ends worker 1: still shown there
    claimed = _submit(gw, tmp_path, JAMBI, [_shared(1, "Siti Aminah")], "c")
    assert len(_warnings(claimed)) == 1
    assert gw.registry.find_worker(nik)["name"] == "Budi Santoso"


@pytest.mark.parametrize("workers_only", [False, True])
def test_the_warning_comes_on_the_worker_process_path_too(gw, tmp_path, monkeypatch, workers_only):
    monkeypatch.setattr("gateway.roster.run.PARALLEL_MIN_BYTES", 0)  # every roster takes the pool
    monkeypatch.setenv("JAMSOS_PREPARE_WORKERS", "1")
    if workers_only:  # the worker processes prepare and look the workers up, not the writer
        from gateway.roster import parallel

        real_map = parallel._Pool.map_chunks
        monkeypatch.setattr(
            parallel._Pool, "map_chunks", lambda self, chunks, local=None: real_map(self, chunks)
        )
        monkeypatch.setattr("gateway.roster.read.chunks.CHUNK_BYTES", 1_000)
    held = [_shared(i, f"Pemilik Nomor {i}") for i in range(40)]
    _submit(gw, tmp_path, DKI, held, "a")
    claims = [_shared(i, f"Pekerja Lain {i}" if i % 10 == 3 else f"Pemilik Nomor {i}")
              for i in range(40)]  # fmt: skip
    report = _submit(gw, tmp_path, JAMBI, claims, "b")
    assert sorted(w["row"] for w in _warnings(report)) == [5, 15, 25, 35]
    assert report.warnings == 4
    assert gw.registry.find_worker(_shared(3, "x")[0])["name"] == "Pemilik Nomor 3"
    # The run's stored problems say the same as its report.
    assert [p["code"] for p in gw.registry.run_problems(report.run_id, limit=100)] == [
        "identity_conflict"
    ] * 4


def test_the_api_lists_an_agencys_own_conflicts_masked_without_the_other_side(
    gw, client, tmp_path
):
    from tests.integration.test_api_contract import conforms

    spec = client.get("/api/v1/openapi.json").json
    route = "/api/v1/identity-conflicts"
    nik = _shared(1, "x")[0]
    _submit(gw, tmp_path, DKI, [_shared(1, "Budi Santoso")], "a")
    claimed = _submit(gw, tmp_path, JAMBI, [_shared(1, "Siti Aminah")], "b")
    jambi = {"Authorization": f"Bearer {gw.registry.create_api_key('15.05')}"}
    dki = {"Authorization": f"Bearer {gw.registry.create_api_key('31')}"}

    mine = client.get(route, headers=jambi)
    conforms(spec, route, "get", mine)
    [conflict] = mine.json["conflicts"]
    assert conflict["nik"] == f"{nik[:6]}******{nik[-4:]}"
    assert conflict["fields"] == ["name"] and conflict["first_run_id"] == claimed.run_id
    # The other agency is named nowhere (as a JSON value: a timestamp may hold "31").
    assert '"31"' not in mine.text and "Budi" not in mine.text and nik not in mine.text
    # The holder's key sees no conflict of its own: the claim is the other agency's.
    theirs = client.get(route, headers=dki)
    conforms(spec, route, "get", theirs)
    assert theirs.json == {"conflicts": []}

    _submit(gw, tmp_path, JAMBI, [_shared(1, "Budi Santoso")], "c")
    assert client.get(route, headers=jambi).json == {"conflicts": []}
    settled = client.get(f"{route}?state=resolved", headers=jambi)
    conforms(spec, route, "get", settled)
    assert settled.json["conflicts"][0]["resolved_at"] is not None
    for bad in ("state=all", "limit=0", "before=x"):
        refused = client.get(f"{route}?{bad}", headers=jambi)
        assert refused.status_code == 400
        conforms(spec, route, "get", refused)
    unauthorized = client.get(route)
    conforms(spec, route, "get", unauthorized)
    assert unauthorized.status_code == 401


def test_migration_0009_adds_the_table_to_an_existing_registry(tmp_path):
    from alembic import command
    from sqlalchemy import inspect

    from gateway.store import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        assert "identity_conflicts" not in inspect(conn).get_table_names()
        command.upgrade(cfg, "0009")
    assert "identity_conflicts" in inspect(engine).get_table_names()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    assert "identity_conflicts" not in inspect(engine).get_table_names()
    db.upgrade(engine)
    assert "identity_conflicts" in inspect(engine).get_table_names()
    engine.dispose()
