"""JKK risk class by configurable patterns on job titles (issue 21): "Pengemudi", "Sopir
Ambulans", "Penjaga Malam", "Satpam" were costed at class 1 because only exact titles
matched. config/rates/packages.toml's [[position_patterns]] give them class 2, and the budget
check and `jamsos contributions quote` cost them with the same rule.

JKK class 1 is 0.24 % and class 2 0.54 % of the wage (docs/domain.md §5): Rp 2.400 and
Rp 5.400 a month on Rp 1.000.000.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway import clock
from gateway.budget.check import check_budget
from gateway.budget.rates import CHECKOUT_RATES_DIR, RatesError, load_packages, load_schedule
from gateway.cli import main
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from tests.helpers.roster import worker_row, write_roster

OUTDOOR = ["Pengemudi", "Sopir Ambulans", "Penjaga Malam", "Satpam", "SUPIR truk sampah",
           "Petugas  Keamanan", "Driver Bupati", "Satpam RSUD"]  # fmt: skip
OFFICE = ["Tenaga Administrasi", "Penjaga Perpustakaan", "Operator Komputer", "Sopirman"]


@pytest.mark.parametrize("title", OUTDOOR)
def test_driving_and_guarding_titles_are_class_2(title):
    assert load_packages(CHECKOUT_RATES_DIR).risk_class_for("15.05", title) == 2


@pytest.mark.parametrize("title", OFFICE)
def test_other_titles_keep_the_default_class(title):
    assert load_packages(CHECKOUT_RATES_DIR).risk_class_for("15.05", title) == 1


def test_an_exact_title_wins_over_a_pattern_and_patterns_go_in_order(tmp_path):
    rates = Path(shutil.copytree(CHECKOUT_RATES_DIR, tmp_path / "rates"))
    packages = rates / "packages.toml"
    packages.write_text(packages.read_text(encoding="utf-8").replace(
        '[positions]\n"Sopir" = 2', '[positions]\n"Sopir" = 2\n"Sopir Ambulans" = 4')
        + "\n[[position_patterns]]\npattern = 'pemadam'\nrisk_class = 3\n"
        + "\n[[position_patterns]]\npattern = 'kebakaran'\nrisk_class = 5\n",
        encoding="utf-8")  # fmt: skip
    loaded = load_packages(rates)
    assert loaded.risk_class_for(position="sopir ambulans") == 4
    assert loaded.risk_class_for(position="Petugas Pemadam Kebakaran") == 3


def test_a_broken_pattern_is_refused_naming_the_entry(tmp_path):
    rates = Path(shutil.copytree(CHECKOUT_RATES_DIR, tmp_path / "rates"))
    with open(rates / "packages.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[[position_patterns]]\npattern = '(sopir'\nrisk_class = 2\n")
    with pytest.raises(RatesError, match=r"\[\[position_patterns\]\] #3: pattern '\(sopir'"):
        load_packages(rates)


def test_the_budget_check_costs_them_at_class_2(gw, tmp_path):
    rows = [worker_row(i, wage=1_000_000) for i in range(len(OUTDOOR) + len(OFFICE))]
    for row, title in zip(rows, OUTDOOR + OFFICE, strict=True):
        row[4] = title
    submit_roster(gw.registry, write_roster(tmp_path / "r.csv", rows),
                  agency=resolve_agency("15.05"), today=clock.today(), trigger="test")
    check = check_budget(gw.registry.engine, "15.05", 2025, schedule=load_schedule(),
                         packages=load_packages())  # fmt: skip
    jkk = next(line for line in check.lines if line.program == "jkk")
    assert jkk.obligation == 12 * (len(OUTDOOR) * 5_400 + len(OFFICE) * 2_400)


def test_contributions_quote_costs_them_at_class_2(app):
    with app.app_context():
        result = CliRunner().invoke(main, ["contributions", "quote", "--wage", "1000000",
                                           "--category", "Honorer", "--position",
                                           "Sopir Ambulans", "--month", "2025-06", "--json"])
    data = json.loads(result.output)
    assert data["risk_class"] == 2 and data["programs"]["jkk"]["employer"] == 5_400
