"""The demo's budget covers the current fiscal year (issue 21): on a 2026 clock every demo
government showed "no budget", because the shipped SIPD export is for 2025 only. The APBD
plugin's `prepare_demo` now carries it on to the WIB clock's year."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from jamsos_apbd import DEMO_GOVERNMENTS, demo_export, prepare_demo
from jamsos_regional_roster import prepare_demo as regional_demo

from gateway import clock
from gateway.budget.check import check_budget, governments_with_data
from gateway.budget.rates import load_packages, load_schedule
from gateway.demo.agencies import demo_rosters
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.roster.sync import sync_source
from gateway.sources.loader import make_plugin_manager, source_catalog

SAMPLE = (files("jamsos_apbd") / "samples" / "sipd_apbd_2025.csv").read_text(encoding="utf-8")


def _years(text: str) -> dict[str, set[str]]:
    years: dict[str, set[str]] = {}
    for line in text.splitlines()[1:]:
        cells = line.split(";")
        years.setdefault(cells[0], set()).add(cells[2])
    return years


def test_the_export_runs_on_to_the_year_asked_broken_lines_once():
    years = _years(demo_export(SAMPLE, 2027))
    for government in DEMO_GOVERNMENTS:
        assert years[government] == {"2025", "2026", "2027"}, government
    assert years["99.99"] == {"2025"} and years["15.71"] == {"25"}  # the sample's mistakes
    assert demo_export(SAMPLE, 2025).count("\r\n") == SAMPLE.count("\n") + 2  # + Pangkalpinang


def test_no_demo_government_has_no_budget_this_year(gw, tmp_path):
    instance = Path(gw.config["INSTANCE_PATH"])
    today = clock.today()
    for spec in demo_rosters():
        submit_roster(gw.registry, spec.write(tmp_path), agency=resolve_agency(spec.agency),
                      today=today, trigger="demo")  # fmt: skip
    drop = Path(regional_demo(str(instance))["roster-19.71"]["folder"])
    [pangkalpinang] = drop.glob("*.csv")
    submit_roster(gw.registry, pangkalpinang, agency=resolve_agency("19.71"), today=today,
                  trigger="demo")  # fmt: skip
    pm = make_plugin_manager()
    source = source_catalog(pm, prepare_demo(str(instance)))["apbd-sipd"].create()
    assert sync_source(gw.registry, pm, source, today=today, trigger="demo").status == "succeeded"
    year = today.year  # the WIB clock's, as the dashboard's budget page takes it
    governments = governments_with_data(gw.registry.engine, year)
    assert set(governments) == set(DEMO_GOVERNMENTS)
    statuses = {g: check_budget(gw.registry.engine, g, year, schedule=load_schedule(),
                                packages=load_packages()).status for g in governments}  # fmt: skip
    assert "no_budget" not in statuses.values(), statuses
    # Again the same day: the same bytes, nothing new.
    again = source_catalog(pm, prepare_demo(str(instance)))["apbd-sipd"].create()
    assert sync_source(gw.registry, pm, again, today=today, trigger="demo").status == (
        "nothing_new")
