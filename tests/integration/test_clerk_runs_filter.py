"""The runs filter offers the agencies to pick (issue 21): it wanted a typed code ("15.05"),
which a clerk does not know by heart. The agencies and sources that have runs are offered;
a user bound to one agency is offered only its own."""

from __future__ import annotations

import re

from gateway import clock
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store.users import create_user
from tests.helpers.roster import worker_row, write_roster
from tests.helpers.web import PASSWORD, log_in


def _options(page: str, select_id: str) -> list[tuple[str, str]]:
    block = re.search(rf'<select name="\w+" id="{select_id}">(.*?)</select>', page, re.S)
    assert block, f"no select #{select_id}"
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', block.group(1))


def test_the_filter_offers_the_agencies_that_have_runs(app, gw, tmp_path):
    for code, region in (("15.05", "15.05"), ("31", "31.71")):
        submit_roster(gw.registry, write_roster(tmp_path / f"{code}.csv",
                                                [worker_row(0, region=region)]),
                      agency=resolve_agency(code), today=clock.today(), trigger="test")  # fmt: skip
    create_user(gw.registry.engine, "siti", PASSWORD, role="operator")
    create_user(gw.registry.engine, "rini", PASSWORD, role="viewer", agency="15.05")
    national = app.test_client()
    log_in(national)
    page = national.get("/dashboard/runs").text
    assert _options(page, "filter-agency") == [
        ("", "semua"), ("15.05", "Kabupaten Muaro Jambi (15.05)"),
        ("31", "Provinsi Daerah Khusus Ibukota Jakarta (31)")]  # fmt: skip
    assert '<option value="upload">unggahan roster</option>' in page  # the sources' datalist
    chosen = national.get("/dashboard/runs?agency=31").text
    assert '<option value="31" selected>' in chosen
    assert "/dashboard/agencies/15.05" not in chosen.split('id="runs"')[1]
    bound = app.test_client()
    log_in(bound, "rini")
    assert _options(bound.get("/dashboard/runs").text, "filter-agency") == [
        ("15.05", "Kabupaten Muaro Jambi (15.05)")]
