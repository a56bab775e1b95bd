"""Indonesian-first words wherever they come from data (issue 21): field names in run
summaries (CLI and dashboard), failure causes, the coverage targets' sources. The header
refusals (`no_header`, `missing_columns`) are in tests/unit/test_roster_reader.py."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from gateway import clock
from gateway.budget.coverage import CHECKOUT_TARGETS_FILE, load_targets
from gateway.cli import main
from gateway.domain.agencies import resolve_agency
from gateway.roster.report import failure_cause
from gateway.roster.submit import submit_roster
from gateway.store.users import create_user
from tests.helpers.roster import worker_row, write_roster
from tests.helpers.web import PASSWORD, log_in

SERVER_STOPPED = ("interrupted: the server stopped while applying this upload, nothing was "
                  "applied; send the file again")  # as gateway/roster/intake.py records it


def _mismatched_roster(tmp_path):
    rows = [worker_row(i) for i in range(3)]
    rows[1][3] = "02-02-1961"  # the birth date disagrees with the NIK
    return write_roster(tmp_path / "r.csv", rows)


def test_the_cli_report_names_fields_as_a_clerk_does(app, tmp_path):
    with app.app_context():
        result = CliRunner().invoke(main, ["roster", "check", str(_mismatched_roster(tmp_path)),
                                           "--agency", "15.05"])  # fmt: skip
    assert "Tanggal Lahir → Tanggal lahir" in result.output
    assert "Gaji → Upah" in result.output and "TMT → TMT" in result.output
    assert not re.search(r"\bbirth_date\b(?!_mismatch)", result.output)  # only in the code
    assert "→ wage" not in result.output
    assert re.search(r"Baris\s+3\s+GALAT\s+Tanggal lahir\s+birth_date_mismatch", result.output)


@pytest.mark.parametrize(
    ("recorded", "indonesian", "english"),
    [(SERVER_STOPPED, "Terhenti: server berhenti saat menerapkan unggahan ini. Kirim ulang "
      "berkasnya; tidak ada yang diterapkan.", "Interrupted: the server stopped while applying "
      "this upload."),
     ("interrupted: its process ended before it finished; nothing of it was applied, send it "
      "again / terhenti: tidak ada yang diterapkan, kirim ulang",
      "Terhenti: prosesnya berakhir sebelum selesai.", "Interrupted: its process ended"),
     ("interrupted: no sign of its process for over 2:00:00 before it finished; nothing",
      "tidak terlihat lebih dari 2:00:00", "no sign of its process for over 2:00:00"),
     ("Stopped: dihentikan oleh SIGTERM / stopped by SIGTERM",
      "Dihentikan oleh SIGTERM. Tidak ada yang diubah; aman dikirim ulang.", "Stopped by SIGTERM."),
     ("KeyboardInterrupt: interrupted, nothing was applied", "Dihentikan (KeyboardInterrupt).",
      "Stopped (KeyboardInterrupt)."),
     ("plugin kemenkes, source kemenkes-ppnpn: Timeout: timed out / waktu habis",
      "Sumber kemenkes-ppnpn (plugin kemenkes) gagal: Timeout: waktu habis.",
      "Source kemenkes-ppnpn (plugin kemenkes) failed: Timeout: timed out / waktu habis."),
     ("OperationalError: database is locked",
      "Gagal karena kesalahan tak terduga (OperationalError): database is locked. Tidak ada",
      "Failed on an unexpected error (OperationalError): database is locked. Nothing was"),
     ("no_header", "Berkas ditolak (no_header): penyebabnya ada di daftar masalah.",
      "The file was rejected (no_header): the cause is in the problem list."),
     ("endings_unconfirmed (30/40): Roster ini akan mengakhiri kepesertaan 30. / This roster "
      "would end 30.", "Roster ini akan mengakhiri kepesertaan 30.", "This roster would end 30.")],
)  # fmt: skip
def test_failure_causes_are_worded_indonesian_first(recorded, indonesian, english):
    cause = failure_cause(recorded)
    assert cause is not None
    assert indonesian in cause.id and english in cause.en
    assert cause.both.startswith(cause.id)


def test_an_unknown_cause_is_kept_as_recorded():
    assert failure_cause("sesuatu yang lain") == ("sesuatu yang lain", "sesuatu yang lain")
    assert failure_cause(None) is None


def test_the_run_page_words_the_cause_and_the_fields(app, gw, tmp_path):
    engine = gw.registry.engine
    create_user(engine, "siti", PASSWORD, role="operator")
    failed = gw.registry.start_run(agency="15.05", source="upload", trigger="web")
    gw.registry.fail_run(failed, SERVER_STOPPED)
    report = submit_roster(gw.registry, _mismatched_roster(tmp_path),
                           agency=resolve_agency("15.05"), today=clock.today(), trigger="test")
    client = app.test_client()
    assert log_in(client).status_code == 302
    page = client.get(f"/dashboard/runs/{failed}").text
    assert "Terhenti: server berhenti saat menerapkan unggahan ini" in page
    assert "the server stopped" not in page
    english = client.get(f"/dashboard/runs/{failed}?lang=en").text
    assert "Interrupted: the server stopped while applying this upload" in english
    summary = client.get(f"/dashboard/runs/{report.run_id}?lang=id").text
    by_code = summary[summary.index("birth_date_mismatch</code>"):][:200]
    assert "Tanggal lahir" in by_code and "<td>birth_date</td>" not in summary


def test_coverage_sources_say_where_the_target_comes_from():
    targets = load_targets(CHECKOUT_TARGETS_FILE)
    assert targets and all("seed" not in t.source and "seed" not in t.source_en
                           for t in targets)  # fmt: skip
    jakarta = next(t for t in targets if t.code == "31")
    assert jakarta.source.startswith("Berita Ceklissatu, Maret 2024: target Jakarta 8,2 juta")
    assert jakarta.source_en.startswith("Ceklissatu news, March 2024")


def test_the_coverage_api_gives_both_languages(client, gw, tmp_path):
    key = gw.registry.create_api_key("31")
    body = client.get("/api/v1/coverage", headers={"Authorization": f"Bearer {key}"}).json
    jakarta = next(r for r in body["provinces"] if r["code"] == "31")
    assert "Maret 2024" in jakarta["source"] and "March 2024" in jakarta["source_en"]


def test_the_coverage_page_words_the_source(app, gw, tmp_path):
    submit_roster(gw.registry, write_roster(tmp_path / "r.csv", [worker_row(0, region="31.71")]),
                  agency=resolve_agency("31"), today=clock.today(), trigger="test")
    create_user(gw.registry.engine, "siti", PASSWORD, role="operator")
    client = app.test_client()
    log_in(client)
    page = client.get("/dashboard/coverage?lang=id").text
    assert "Berita Ceklissatu, Maret 2024" in page and "seed 00" not in page
    assert "Ceklissatu news, March 2024" in client.get("/dashboard/coverage?lang=en").text


def test_the_api_words_a_failed_runs_cause(client, gw):
    key = gw.registry.create_api_key("15.05")
    failed = gw.registry.start_run(agency="15.05", source="upload", trigger="api")
    gw.registry.fail_run(failed, SERVER_STOPPED)
    body = client.get(f"/api/v1/runs/{failed}", headers={"Authorization": f"Bearer {key}"}).json
    assert body["error"] == SERVER_STOPPED  # as recorded
    assert body["error_message"]["message_id"].startswith("Terhenti: server berhenti")
    assert body["error_message"]["message_en"].startswith("Interrupted: the server stopped")


def test_the_problems_csv_names_the_field_as_a_clerk_does(app, gw, tmp_path):
    report = submit_roster(gw.registry, _mismatched_roster(tmp_path),
                           agency=resolve_agency("15.05"), today=clock.today(), trigger="test")
    create_user(gw.registry.engine, "siti", PASSWORD, role="operator")
    client = app.test_client()
    log_in(client)
    text = client.get(f"/dashboard/runs/{report.run_id}/problems.csv").data.decode("utf-8-sig")
    [line] = [row for row in text.splitlines()[1:] if "birth_date_mismatch" in row]
    assert line.split(";")[:3] == ["3", "Tanggal lahir", "birth_date_mismatch"]
