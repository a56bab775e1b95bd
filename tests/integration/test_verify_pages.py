"""The dashboard shows verification (issue 19): the run page and the agency page list the
problems with the spreadsheet row, masked, with what to do, in Indonesian or English; the
compliance page counts per agency; a user bound to another agency sees none of it."""

from __future__ import annotations

import re

import pytest
from jamsos_dukcapil.server import DukcapilServer

from gateway.store.users import create_user
from gateway.verify.run import verify_pending
from tests.helpers.verify import PASSWORD_ENV, nik_of, population, resident, settings_for
from tests.helpers.web import PASSWORD, log_in
from tests.integration.test_verify_dukcapil import submit


@pytest.fixture
def verified(gw, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "rahasia-demo")
    with DukcapilServer(population(range(4))) as server:
        server.add(resident(1, name="Rahmat Hidayat"))
        server.set_status(nik_of(2), "deceased")
        server.quota = 3  # worker 3 waits
        gw.config["VERIFICATION"] = settings_for(server)
        report = submit(gw, tmp_path, range(4), name="pegawai.csv")
        from gateway.verify.settings import verification_settings

        verify_pending(gw.engine, gw.keyring, gw.plugins, verification_settings(gw.config))
    create_user(gw.engine, "siti", PASSWORD)
    create_user(gw.engine, "jakarta", PASSWORD, agency="31")
    return report.run_id


def test_the_run_page_lists_verification_problems_by_row(client, verified):
    log_in(client)
    page = client.get(f"/dashboard/runs/{verified}").text
    section = page[page.index('id="verification"'):]
    assert "Verifikasi identitas" in section
    # Worker 0 matched, 1 and 2 are problems, 3 waits for tomorrow's quota.
    assert "1 sesuai · <strong>2</strong> bermasalah · 1 menunggu verifikasi" in section
    rows = section.split("<tr>")[2:]
    assert len(rows) == 2
    assert 'data-label="Baris">3<' in rows[0] and "tidak sesuai" in rows[0]
    assert "Periksa ejaan" in rows[0] and re.search(r"nama \d\d,", rows[0])
    assert 'data-label="Baris">4<' in rows[1] and "meninggal" in rows[1]
    assert nik_of(2) not in page and "Pekerja Nomor 2" not in page  # masked
    english = client.get(f"/dashboard/runs/{verified}?lang=en").text
    assert "Identity verification" in english and "remove them from the roster" in english


def test_the_agency_page_and_the_compliance_counts(client, verified):
    log_in(client)
    agency = client.get("/dashboard/agencies/15.05").text
    section = agency[agency.index('id="verification"'):]
    assert "Kuota harian" in section  # the pause is said, with what happens next
    assert "pegawai.csv" in section and "meninggal" in section
    counts = client.get("/dashboard/verification").text
    assert 'href="/dashboard/agencies/15.05#verification"' in counts
    row = counts[counts.index("/dashboard/agencies/15.05#verification"):].split("</tr>")[0]
    cells = re.findall(r'class="num"[^>]*>([^<]*)<', row)
    # match, mismatch, not found, deceased, other, pending, active
    assert cells == ["1", "1", "0", "1", "0", "1", "4"]


def test_a_user_of_another_agency_sees_none_of_it(client, verified):
    log_in(client, "jakarta")
    assert client.get(f"/dashboard/runs/{verified}").status_code == 404
    counts = client.get("/dashboard/verification").text
    assert "15.05" not in counts


def test_without_verification_the_pages_say_nothing_of_it(gw, client, tmp_path):
    report = submit(gw, tmp_path, range(3))
    create_user(gw.engine, "siti", PASSWORD)
    log_in(client)
    assert 'id="verification"' not in client.get(f"/dashboard/runs/{report.run_id}").text
    assert 'id="verification"' not in client.get("/dashboard/agencies/15.05").text
    assert "belum dikonfigurasi" in client.get("/dashboard/verification").text
