"""Reconciliation against BPJS files generated for each case, synced through the real
bpjs_feeds sources: every difference kind classified, the three coverage figures, a month's
expected/billed/paid, and a broken membership file applying nothing."""

from __future__ import annotations

from datetime import date

from gateway import clock
from gateway.cli import main
from gateway.delivery.employers import register_employer
from gateway.reconcile.report import reconciliation
from gateway.store import bpjs_feeds
from tests.helpers.bpjs import (
    BILLS,
    MEMBERS,
    NPP,
    OTHER,
    PAYMENTS,
    bill,
    member,
    nik,
    payment,
    sync_file,
    write,
)

TODAY = date(2026, 5, 20)


def test_each_difference_kind_is_found_in_a_generated_membership_list(registry, tmp_path):
    gw = registry
    members = write(tmp_path / "members.csv", MEMBERS, [
        member(NPP, nik(0), "26010000001", wage=3_500_000),   # as on the roster
        # worker 1: not at BPJS at all
        member(NPP, nik(2), "26010000003", wage=2_900_000),   # another wage
        member(OTHER, nik(3), "26010000004"),                 # under Batang Hari's NPP
        member(NPP, nik(4), "26010000005"),                   # left the roster, still billed
        member(NPP, nik(5), "26010000006", status="non-aktif"),  # ended at BPJS
        member(NPP, nik(40), "26010000041"),                  # nobody on the roster
    ])  # fmt: skip
    assert sync_file(gw, "bpjs-kepesertaan", members).status == "succeeded"
    found = reconciliation(gw, today=clock.today()).findings  # after the roster's runs
    kinds = sorted((d["kind"], d.get("kpj")) for d in found.differences)
    assert kinds == [
        ("ended_still_registered", "26010000005"),
        ("not_on_roster", "26010000041"),
        ("not_registered", None),
        ("not_registered", None),  # worker 5: BPJS ended them, the roster has them active
        ("other_employer", "26010000004"),
        ("wage_differs", "26010000003"),
    ]
    wage = next(d for d in found.differences if d["kind"] == "wage_differs")
    assert (wage["wage_roster"], wage["wage_bpjs"]) == (3_500_000, 2_900_000)
    assert "Upload Upah" in wage["action_id"]
    assert found.agencies["15.05"].as_dict() == {"rostered": 5, "registered": 3, "covered": 0}


def test_covered_needs_the_npp_paid_up(registry, tmp_path):
    gw = registry
    sync_file(gw, "bpjs-kepesertaan", write(tmp_path / "m.csv", MEMBERS, [
        member(NPP, nik(i), f"2601000000{i}", wage=3_500_000) for i in (0, 1, 2)]))
    sync_file(gw, "bpjs-tagihan", write(tmp_path / "b.csv", BILLS, [
        bill(NPP, "2026-03", "11000000003", 42_000, 52_500),
        bill(NPP, "2026-04", "11000000004", 42_000, 52_500)]))
    before = reconciliation(gw, today=TODAY).findings.agencies["15.05"]
    assert before.as_dict() == {"rostered": 5, "registered": 3, "covered": 0}
    sync_file(gw, "bpjs-pembayaran", write(tmp_path / "p.csv", PAYMENTS, [
        payment("BNI-1", "11000000003", 189_000, date(2026, 4, 30))]))  # both months at once
    after = reconciliation(gw, today=TODAY)
    assert after.findings.agencies["15.05"].as_dict() == {
        "rostered": 5, "registered": 3, "covered": 3}
    assert after.findings.provinces["15"].covered == 3
    status = after.employer_status(NPP)
    assert status["paid_up"] and status["owed"] == 0


def test_expected_billed_and_paid_per_month(registry, tmp_path):
    gw = registry
    sync_file(gw, "bpjs-tagihan", write(tmp_path / "b.csv", BILLS, [
        bill(NPP, "2026-03", "11000000003", 42_000, 52_500),
        bill(NPP, "2026-04", "11000000004", 42_000, 52_500)]))
    sync_file(gw, "bpjs-pembayaran", write(tmp_path / "p.csv", PAYMENTS, [
        payment("BNI-1", "11000000003", 60_000, date(2026, 4, 10))]))
    months = {m.month: m for m in reconciliation(gw, today=TODAY).months(NPP, 2026)}
    # Six honorer at Rp 3.500.000: JKK 0,24 % (8.400) + JKM 0,30 % (10.500) each = 113.400 a
    # month. Worker 4's ending was recorded after March (the registry learned of it later), so
    # as the registry stood in March it still counts: expected is what the registry said then.
    assert months["2026-01"].expected == 113_400 and months["2026-01"].status == "not_billed"
    march = months["2026-03"]
    assert (march.expected, march.billed, march.difference) == (113_400, 94_500, -18_900)
    assert (march.paid, march.outstanding, march.status) == (60_000, 34_500, "underpaid")
    assert march.due == date(2026, 4, 15) and march.days_overdue == 35
    assert march.late_charge == 0  # a government: no late charge unless configured
    assert march.paid_by_program == {"jkk": 26_667, "jkm": 33_333}
    assert months["2026-04"].status == "unpaid" and months["2026-04"].days_overdue == 5


def test_a_membership_file_with_one_broken_line_applies_nothing(registry, tmp_path):
    gw = registry
    bad = write(tmp_path / "bad.csv", MEMBERS, [
        member(NPP, nik(0), "26010000001"),
        member(NPP, nik(1), "2601000000X"),  # not 11 digits
        member(NPP, nik(2), "26010000003")])
    result = sync_file(gw, "bpjs-kepesertaan", bad)
    assert result.status == "rejected" and bpjs_feeds.member_count(gw.engine) == 0
    problems = gw.registry.run_problems(result.run_id)
    kpj = next(p for p in problems if p["code"] == "kpj_invalid")
    assert kpj["row"] == 3 and "11 angka" in kpj["message_id"] and "11 digits" in kpj["message_en"]
    assert any(p["code"] == "file_not_applied" for p in problems)


def test_jamsos_reconcile_reports_and_raises_alerts_through_the_hook(registry, tmp_path):
    from types import SimpleNamespace

    from gateway import hookimpl
    from gateway.sources.loader import make_plugin_manager

    gw = registry
    heard = []
    recorder = SimpleNamespace(send_alert=hookimpl(lambda alert: heard.append(alert)))
    gw.__dict__["plugins"] = make_plugin_manager(plugins={"recorder": recorder})
    config = tmp_path / "gateway.toml"
    config.write_text("[alerts.recorder]\nmin_severity = \"warning\"\n", encoding="utf-8")
    gw.config["CONFIG_FILE"] = str(config)
    register_employer(gw, agency="15.04", kind="wadah", npp="87654321", division=None,
                      segment="SG", work_unit="Desa *", destination="bpjs-h2h")  # fmt: skip
    sync_file(gw, "bpjs-tagihan", write(tmp_path / "b.csv", BILLS, [
        bill(NPP, "2026-03", "11000000003", 42_000, 52_500),
        *(bill("87654321", f"2026-0{m}", f"1100000009{m}", 0, 16_800) for m in (1, 2, 3))]))
    runner = gw_app_runner(gw)
    result = runner.invoke(main, args=["reconcile", "run", "--today", "2026-05-20"])
    assert result.exit_code == 0, result.output
    kinds = sorted(a.kind for a in heard)
    assert kinds == ["bill_overdue", "bill_overdue", "membership_lapsed"], kinds
    overdue = next(a for a in heard if a.details.get("npp") == NPP)
    assert "Rp 94.500" in overdue.title_id and overdue.severity == "error"  # 35 days
    again = runner.invoke(main, args=["reconcile", "run", "--today", "2026-05-20"])
    assert again.exit_code == 0 and len(heard) == 3  # the same alerts are not sent twice
    table = runner.invoke(main, args=["reconcile", "billing", NPP, "--year", "2026",
                                "--today", "2026-05-20"])  # fmt: skip
    assert "2026-03" in table.output and "94.500" in table.output and "unpaid" in table.output
    listed = runner.invoke(main, args=["reconcile", "differences", "--kind", "not_registered"])
    assert "Periksa status pengiriman" in listed.output and "******" in listed.output


def gw_app_runner(gw):
    """`jamsos` on this test's app (its plugins and configuration), as the command runs."""
    from flask import current_app

    return current_app.test_cli_runner()


def test_the_api_gives_an_agency_its_own_reconciliation(registry, client, tmp_path):
    from tests.integration.test_api_contract import conforms

    gw = registry
    spec = client.get("/api/v1/openapi.json").json
    auth = {"Authorization": f"Bearer {gw.registry.create_api_key('15.05')}"}
    other = {"Authorization": f"Bearer {gw.registry.create_api_key('15.04')}"}
    sync_file(gw, "bpjs-kepesertaan", write(tmp_path / "m.csv", MEMBERS, [
        member(NPP, nik(0), "26010000001", wage=3_500_000),
        member(NPP, nik(2), "26010000003", wage=2_900_000)]))
    sync_file(gw, "bpjs-tagihan", write(tmp_path / "b.csv", BILLS, [
        bill(NPP, "2026-03", "11000000003", 42_000, 52_500)]))
    summary = client.get("/api/v1/reconciliation", headers=auth)
    assert summary.json["figures"] == {"rostered": 5, "registered": 2, "covered": 0}
    assert summary.json["differences"]["wage_differs"] == 1
    assert summary.json["employers"][0]["months_owed"] == 1
    listed = client.get("/api/v1/reconciliation/differences?kind=wage_differs", headers=auth)
    only = listed.json["differences"]
    assert len(only) == 1 and only[0]["wage_bpjs"] == 2_900_000 and "*" in only[0]["nik_masked"]
    billing = client.get("/api/v1/reconciliation/billing?year=2026", headers=auth)
    march = next(m for m in billing.json["employers"][0]["months"] if m["month"] == "2026-03")
    assert march["billed"] == 94_500 and march["status"] == "unpaid"
    foreign = client.get("/api/v1/reconciliation", headers=other).json
    assert foreign["figures"]["rostered"] == 0 and foreign["employers"][0]["npp"] == OTHER
    bad = client.get("/api/v1/reconciliation/differences?kind=x", headers=auth)
    for route, response in (("/api/v1/reconciliation", summary),
                            ("/api/v1/reconciliation/differences", listed),
                            ("/api/v1/reconciliation/differences", bad),
                            ("/api/v1/reconciliation/billing", billing)):  # fmt: skip
        conforms(spec, route, "get", response)


def test_the_budget_check_shows_what_was_paid_so_far_this_year(registry, client, tmp_path):
    gw = registry
    auth = {"Authorization": f"Bearer {gw.registry.create_api_key('15.05')}"}
    before = client.get("/api/v1/budget/15.05/2026", headers=auth).json["paid"]
    assert before["total"] == 0 and not before["bills_received"]
    sync_file(gw, "bpjs-tagihan", write(tmp_path / "b.csv", BILLS, [
        bill(NPP, "2026-03", "11000000003", 42_000, 52_500),
        bill(NPP, "2025-12", "11000000002", 42_000, 52_500)]))  # another fiscal year
    sync_file(gw, "bpjs-pembayaran", write(tmp_path / "p.csv", PAYMENTS, [
        payment("BNI-1", "11000000002", 94_500, date(2026, 1, 10)),
        payment("BNI-2", "11000000003", 94_500, date(2026, 4, 10))]))
    body = client.get("/api/v1/budget/15.05/2026", headers=auth).json
    paid = body["paid"]
    assert paid["total"] == 94_500 and paid["by_program"] == {"jkk": 42_000, "jkm": 52_500}
    assert paid["left_to_pay"] == body["obligation"] - 94_500
    assert paid["lasts"] is (body["allocated"] - 94_500 >= paid["left_to_pay"])
    shown = gw_app_runner(gw).invoke(main, ["budget", "check", "--government", "15.05",
                                            "--year", "2026"])  # fmt: skip
    assert "Dibayar ke BPJS tahun ini / paid to BPJS this year: Rp 94.500" in shown.output


def test_metrics_show_the_last_reconciliations_figures_and_arrears(registry, client, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    gw = registry
    sync_file(gw, "bpjs-kepesertaan", write(tmp_path / "m.csv", MEMBERS, [
        member(NPP, nik(0), "26010000001", wage=3_500_000)]))
    sync_file(gw, "bpjs-tagihan", write(tmp_path / "b.csv", BILLS, [
        bill(NPP, "2026-03", "11000000003", 42_000, 52_500)]))
    assert gw_app_runner(gw).invoke(main, ["reconcile", "run", "--today",
                                           "2026-05-20"]).exit_code == 0  # fmt: skip
    text = client.get("/metrics").get_data(as_text=True)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}  # fmt: skip
    assert samples[("jamsos_coverage_workers",
                    (("agency", "15.05"), ("figure", "registered")))] == 1
    assert samples[("jamsos_bpjs_owed_rupiah", (("npp", NPP),))] == 94_500
    assert samples[("jamsos_bpjs_days_overdue", (("npp", NPP),))] == 35
    assert samples[("jamsos_reconcile_differences", (("kind", "not_on_roster"),))] == 0
