"""The dashboard's delivery page: counts per employer and month, rejections with the reason
and what to do (NIK masked), workers that cannot be delivered, the user's scope, the export."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from gateway.store.users import create_user
from tests.helpers.delivery import Counterpart, employer, roster, row, run
from tests.helpers.web import PASSWORD, log_in


def test_the_delivery_page_shows_rejections_and_who_cannot_be_delivered(
        client, gw, counterpart: Counterpart, tmp_path):  # fmt: skip
    create_user(gw.registry.engine, "siti", PASSWORD, role="viewer")
    create_user(gw.registry.engine, "jambi", PASSWORD, role="viewer", agency="15")
    employer(gw, work_unit="Dinas Kesehatan")
    counterpart.reject = {row(1)[0]}
    roster(gw, tmp_path, [row(0), row(1), row(2, unit="Satpol PP")])
    run(gw, counterpart)
    assert log_in(client).status_code == 302
    page = client.get("/dashboard/delivery").text
    assert "12345678" in page and "NIK tidak dikenal Dukcapil" in page
    assert row(1)[0] not in page and row(1)[0][:6] + "******" + row(1)[0][-4:] in page
    assert "Satpol PP" in page and "tidak dipetakan ke NPP" in page
    english = client.get("/dashboard/delivery?lang=en").text
    assert "NIK unknown to Dukcapil" in english
    export = client.get("/dashboard/delivery/rejected.xlsx?lang=id")
    sheet = load_workbook(io.BytesIO(export.data)).worksheets[0]
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert len(values) == 2 and "NIK tidak dikenal Dukcapil" in values[1]
    assert row(1)[0] not in str(values)
    client.get("/dashboard/logout")
    assert log_in(client, "jambi").status_code == 302  # bound to the province: not 15.05
    scoped = client.get("/dashboard/delivery").text
    assert "12345678" not in scoped and "Satpol PP" not in scoped


def test_the_nik_search_shows_the_kpj_and_the_bpjs_status(client, gw, counterpart, tmp_path):
    from tests.helpers.web import csrf_of

    create_user(gw.registry.engine, "siti", PASSWORD, role="viewer")
    employer(gw)
    counterpart.reject = {row(1)[0]}
    roster(gw, tmp_path, [row(0), row(1)])
    run(gw, counterpart)
    assert log_in(client).status_code == 302
    search = client.get("/dashboard/workers")
    token = csrf_of(search.text) if 'name="csrf_token"' in search.text else None
    found = client.post("/dashboard/workers", data={"nik": row(0)[0],
                        **({"csrf_token": token} if token else {})})  # fmt: skip
    assert "terdaftar" in found.text and "KPJ" in found.text and "00000000001" in found.text
    rejected = client.post("/dashboard/workers", data={"nik": row(1)[0],
                           **({"csrf_token": token} if token else {})})  # fmt: skip
    assert "ditolak" in rejected.text and "NIK tidak dikenal Dukcapil" in rejected.text
