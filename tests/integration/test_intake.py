"""The one intake (gateway/roster/intake.py) of the API, the dashboard and the CLI: a declared
allocation recorded inside the run and stated on its receipt, and the plugins' agency rules
(`validate_record`) applied to uploads of the agency they feed."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from gateway import CsvSource, clock, hookimpl
from gateway.cli import main
from gateway.domain.agencies import resolve_agency
from gateway.domain.records import Message, Severity, make_problem
from gateway.roster import intake
from gateway.roster.submit import submit_roster
from gateway.security.receipts import FIELDS, canonical, verify
from gateway.sources.loader import make_plugin_manager, source_catalog
from gateway.store.tables import budget_allocations, runs
from tests.helpers.roster import HEADER, worker_row, write_roster

MUARO_JAMBI = resolve_agency("15.05")


def _post(client, key: str, path, endpoint: str = "rosters?wait=1", agency: str = "15.05",
          **form: str) -> Any:  # fmt: skip
    with open(path, "rb") as fh:
        return client.post(
            f"/api/v1/agencies/{agency}/{endpoint}", headers={"Authorization": f"Bearer {key}"},
            data={"file": (fh, path.name), **form}, content_type="multipart/form-data")  # fmt: skip


def _allocations(gw) -> int:
    with gw.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(budget_allocations)).scalar_one()


# -- the allocation, recorded in the run and stated on its receipt -----------------------------
def test_the_receipt_states_the_allocation_recorded_with_the_run(app, client, gw, tmp_path):
    key = gw.registry.create_api_key("15.05")
    roster = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)])
    response = _post(client, key, roster, fiscal_year="2025",
                     allocation="jkk=9.000.000,jkm=1.500.000")  # fmt: skip
    assert response.status_code == 201
    stated = {"fiscal_year": 2025, "jkk": 9_000_000, "jkm": 1_500_000}
    receipt = response.json["receipt"]
    assert response.json["declared_allocation"] == stated
    assert receipt["declared_allocation"] == stated and receipt["version"] == 2
    assert verify(receipt, gw.signer.public).genuine
    # The allocation is signed like the counts: a changed amount is "not genuine".
    forged = dict(receipt, declared_allocation=dict(stated, jkk=90_000_000))
    assert not verify(forged, gw.signer.public).genuine
    dropped = {k: v for k, v in receipt.items() if k != "declared_allocation"}
    assert not verify(dropped, gw.signer.public).genuine
    # The run's page gives the same receipt, and `jamsos receipt verify` accepts it.
    run = client.get(f"/api/v1/runs/{receipt['run_id']}",
                     headers={"Authorization": f"Bearer {key}"}).json  # fmt: skip
    assert run["receipt"] == receipt
    saved = tmp_path / "receipt.json"
    saved.write_text(json.dumps(receipt))
    with app.app_context():
        checked = CliRunner().invoke(main, ["receipt", "verify", str(saved)])
    assert checked.exit_code == 0 and "GENUINE" in checked.output
    assert "allocation recorded: jkk Rp 9.000.000, jkm Rp 1.500.000" in checked.output


def test_a_receipt_without_an_allocation_is_version_1_as_before(gw, tmp_path):
    """Receipts given out before version 2 existed keep verifying: one without an allocation
    is still exactly those fields, signed over exactly those bytes."""
    report = submit_roster(gw.registry, write_roster(tmp_path / "r.csv", [worker_row(0)]),
                           agency=MUARO_JAMBI, today=clock.today(), trigger="test")  # fmt: skip
    receipt = report.receipt
    assert receipt["version"] == 1 and set(receipt) == {*FIELDS, "signature"}
    old = {k: receipt[k] for k in FIELDS}  # as the version-1 code signed it
    signature = base64.b64encode(gw.signer.private.sign(canonical(old))).decode()
    assert signature == receipt["signature"]  # Ed25519 is deterministic: the same bytes
    assert verify(dict(old, signature=signature), gw.signer.public).genuine
    # Version 1 states no allocation: one added to it is an extra field.
    extra = dict(receipt, declared_allocation={"fiscal_year": 2025, "jkk": 1})
    assert not verify(extra, gw.signer.public).genuine


def test_a_failed_run_records_no_allocation(client, gw, tmp_path, monkeypatch):
    key = gw.registry.create_api_key("15.05")
    roster = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)])

    def signing_fails(conn, run_id):  # after the allocation is written, in the same transaction
        raise OSError("receipt key unreadable")

    monkeypatch.setattr(gw.registry, "seal_run", signing_fails)
    response = _post(client, key, roster, fiscal_year="2025", allocation="jkk=9.000.000")
    assert response.status_code == 500 and response.json["status"] == "failed"
    assert response.json["declared_allocation"] is None
    assert "not recorded" in response.json["allocation_note"]["message_en"]
    assert _allocations(gw) == 0  # rolled back with the run
    with gw.engine.connect() as conn:
        assert conn.execute(select(runs.c.status)).scalar_one() == "failed"


def test_a_replayed_roster_records_its_allocation_but_the_earlier_receipt_is_unchanged(
    client, gw, tmp_path
):
    """A replay has no run of its own: the allocation is recorded on its own, and the answer
    repeats the earlier run's receipt, which does not state it (README, "Budget-allocation
    check")."""
    key = gw.registry.create_api_key("15.05")
    roster = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)])
    first = _post(client, key, roster).json
    again = _post(client, key, roster, fiscal_year="2026", allocation="jkk=5.000.000").json
    assert again["replayed"] is True
    assert again["declared_allocation"] == {"fiscal_year": 2026, "jkk": 5_000_000}
    assert again["receipt"] == first["receipt"] and "declared_allocation" not in again["receipt"]
    assert _allocations(gw) == 1


def test_cli_submit_states_the_allocation_on_the_receipt(app, tmp_path):
    roster = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)])
    with app.app_context():
        result = CliRunner().invoke(main, ["roster", "submit", str(roster), "--agency", "15.05",
                                           "--year", "2025", "--allocation", "jkp=1", "--json"])
        assert result.exit_code == 2 and "--allocation" in result.output  # named as typed
        result = CliRunner().invoke(main, ["roster", "submit", str(roster), "--agency", "15.05",
                                           "--year", "2025", "--allocation", "jkk=1.000.000",
                                           "--json"])  # fmt: skip
    body = json.loads(result.stdout)
    assert result.exit_code == 0
    assert body["receipt"]["declared_allocation"] == body["declared_allocation"] == {
        "fiscal_year": 2025, "jkk": 1_000_000}


# -- the plugins' agency rules on uploads -------------------------------------------------------
RULES = {"unit_unknown": Message(Severity.ERROR, "Unit {unit} tidak dikenal.",
                                 "Unit {unit} is unknown.")}  # fmt: skip


class MuaroJambiFeed(CsvSource):
    id = "test-muaro-jambi"
    agency = "15.05"
    title = "a feed of 15.05 (test)"
    categories: ClassVar[tuple[str, ...]] = ()


class AgencyRules:
    """A plugin feeding 15.05 with a rule of its own: a work unit must start with "Dinas"."""

    def __init__(self, raises: bool = False) -> None:
        self.raises = raises
        self.seen: list[tuple[str, str, str | None]] = []

    @hookimpl
    def register_sources(self) -> list[type[CsvSource]]:
        return [MuaroJambiFeed]

    @hookimpl
    def validate_record(self, source, raw, result):
        self.seen.append((source.id, source.agency, source.plugin))
        if self.raises:
            raise RuntimeError("rule table missing")
        unit = raw.values.get("work_unit")
        if unit and not unit.startswith("Dinas"):
            return [make_problem(RULES, "unit_unknown", raw.row, "work_unit", unit=unit)]
        return None


class Runtime:
    """The gateway's runtime with a plugin manager of the test's own."""

    def __init__(self, gw, *plugins: object) -> None:
        self.config, self.registry = gw.config, gw.registry
        self.plugins = make_plugin_manager(
            load_entry_points=False, plugins={f"p{i}": p for i, p in enumerate(plugins)})

    def sources(self) -> dict[str, Any]:
        return source_catalog(self.plugins, {})


def _units_roster(path, units: list[str]):
    rows = [[*worker_row(i), unit] for i, unit in enumerate(units)]
    return write_roster(path, rows, header=[*HEADER, "Unit Kerja"])


def test_an_upload_gets_the_rules_of_the_plugin_that_feeds_its_agency(gw, tmp_path):
    rules = AgencyRules()
    runtime = Runtime(gw, rules)
    roster = _units_roster(tmp_path / "r.csv", ["Dinas Kesehatan", "Kantor Camat"])
    checked = intake.check(runtime, roster, agency=MUARO_JAMBI)
    submitted = intake.submit(runtime, roster, agency=MUARO_JAMBI, trigger="test")
    for report in (checked, submitted.report):  # the check says what the submit does
        assert (report.accepted, report.rejected) == (1, 1)
        assert [p["code"] for p in report.problems] == ["unit_unknown"]
    assert submitted.status == "succeeded"
    # The hook is told it is an upload of 15.05, asked as the plugin that feeds it.
    assert set(rules.seen) == {("upload", "15.05", "p0")}
    # Another agency's upload is not its business: never asked, no row check at all.
    assert intake.agency_rules(runtime, resolve_agency("31")) is None


def test_an_agency_no_plugin_feeds_keeps_the_unchanged_row_shortcut(gw):
    """No row check: its uploads keep the shortcut and the parallel preparation."""
    assert intake.agency_rules(Runtime(gw), MUARO_JAMBI) is None
    assert intake.agency_rules(gw, MUARO_JAMBI) is None  # the shipped plugins feed no 15.05


def test_a_rule_that_raises_fails_the_upload_as_it_fails_the_feed(gw, tmp_path):
    runtime = Runtime(gw, AgencyRules(raises=True))
    roster = _units_roster(tmp_path / "r.csv", ["Dinas Kesehatan"])
    submitted = intake.submit(runtime, roster, agency=MUARO_JAMBI, trigger="test")
    assert submitted.status == "failed"
    assert "validate_record" in submitted.report.error and "rule table missing" in (
        submitted.report.error)


@pytest.mark.parametrize("endpoint", ["rosters/check", "rosters?wait=1"])
def test_a_ministry_upload_gets_its_shipped_plugins_rules(client, gw, tmp_path, endpoint):
    """Kemenkes's plugin warns about a work unit outside the ministry's structure, on its
    SIMPEG feed and now on an upload of its roster too."""
    key = gw.registry.create_api_key("kemenkes")
    roster = _units_roster(tmp_path / "k.csv", ["RSUP Dr. Sardjito", "Puskesmas Ngawi"])
    body = _post(client, key, roster, endpoint, agency="kemenkes").json
    assert body["accepted"] == 2 and body["warnings"] == 1
    assert [p["code"] for p in body["problems"]] == ["kemenkes_unit_unknown"]


def test_a_kemendes_upload_is_not_refused_for_its_feeds_own_columns(client, gw, tmp_path):
    """Kemendes checks the assignment columns only its P3MD feed has: an upload in the
    roster format every agency uses is checked by the shared rules, as before."""
    key = gw.registry.create_api_key("kemendes")
    roster = _units_roster(tmp_path / "d.csv", ["Kec. Sekernan, Kab. Muaro Jambi"])
    response = _post(client, key, roster, agency="kemendes")
    assert response.status_code == 201 and response.json["problems"] == []


def test_an_upload_is_spooled_to_a_file_that_is_gone_afterwards(gw):
    """Sealed in the instance folder (issue 16, finding 4), never in plain text."""
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    nik = worker_row(0)[0].encode()
    upload = FileStorage(BytesIO(b"NIK;Nama\n" + nik + b";Budi\n"), filename="roster 2025.CSV")
    with intake.spooled(gw, upload) as (spool, filename):
        assert spool.path.parent == Path(gw.config["INSTANCE_PATH"]) / "uploads"
        assert nik not in spool.path.read_bytes()  # sealed on disk
        with spool.open() as plain:
            assert plain.read() == b"NIK;Nama\n" + nik + b";Budi\n"
        assert filename == "roster 2025.CSV"
    assert not spool.path.exists()
    with pytest.raises(RuntimeError), intake.spooled(
        gw, FileStorage(BytesIO(b"x"), filename="r.csv")
    ) as (spool, _):
        raise RuntimeError("the run broke")
    assert not spool.path.exists()  # deleted whatever happens inside
    for missing in (None, FileStorage(BytesIO(b""), filename="")):
        with pytest.raises(intake.UploadMissing), intake.spooled(gw, missing):
            pass
