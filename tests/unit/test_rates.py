"""Loading config/rates/*.toml: the shipped tables, where they are found, and what is refused."""

from __future__ import annotations

import os
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.budget import rates
from gateway.budget.rates import (
    CHECKOUT_RATES_DIR,
    RatesError,
    load_packages,
    load_schedule,
    resolve_rates_dir,
)
from gateway.domain.contributions import PROGRAMS, quote
from gateway.domain.records import Category


@pytest.fixture
def rates_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped tables a test may edit."""
    return Path(shutil.copytree(CHECKOUT_RATES_DIR, tmp_path / "rates"))


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    stat = path.stat()  # a new mtime even within the file system's clock resolution
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


# --- the shipped tables -----------------------------------------------------------------------
def test_shipped_rates_are_exact_decimals_from_the_domain_notes():
    table = load_schedule(CHECKOUT_RATES_DIR).in_force(date(2025, 6, 1))
    jkk = {c: table.rate("jkk", c).employer for c in range(1, 6)}
    assert jkk == {1: Decimal("0.0024"), 2: Decimal("0.0054"), 3: Decimal("0.0089"),
                   4: Decimal("0.0127"), 5: Decimal("0.0174")}
    assert table.rate("jkm").employer == Decimal("0.003")
    assert (table.rate("jht").employer, table.rate("jht").worker) == (Decimal("0.037"),
                                                                      Decimal("0.02"))
    assert (table.rate("jp").employer, table.rate("jp").worker) == (Decimal("0.02"),
                                                                    Decimal("0.01"))
    assert table.rate("jkp").other == Decimal("0.0036")
    assert table.rate("jkp").employer == table.rate("jkp").worker == 0
    bpu_jkk, bpu_jkm = table.rate("bpu_jkk"), table.rate("bpu_jkm")
    assert (bpu_jkk.employer, bpu_jkk.minimum, bpu_jkk.minimum_base) == (
        Decimal("0.01"), 10_000, 1_000_000)
    assert (bpu_jkm.employer, bpu_jkm.minimum) == (0, 6_800)
    assert table.rate("bpu_jht").employer == Decimal("0.02")


def test_every_row_cites_its_regulation_and_source():
    schedule = load_schedule(CHECKOUT_RATES_DIR)
    rows = [*schedule.rates, *schedule.jp_ceilings, *schedule.pension_ages]
    assert len(rows) > 20
    for row in rows:
        assert row.regulation.startswith("PP "), row
        assert row.source, row
    assert {r.program for r in schedule.rates} == set(PROGRAMS)


def test_jp_ceilings_by_year_and_which_are_derived():
    schedule = load_schedule(CHECKOUT_RATES_DIR)
    ceilings = {c.effective_from: (c.amount, c.derived) for c in schedule.jp_ceilings}
    assert ceilings == {
        date(2019, 3, 1): (8_512_400, True), date(2020, 3, 1): (8_939_700, True),
        date(2021, 3, 1): (8_754_600, True), date(2022, 3, 1): (9_077_600, True),
        date(2023, 3, 1): (9_559_600, False), date(2024, 3, 1): (10_042_300, False),
        date(2025, 3, 1): (10_547_400, True),
    }
    assert schedule.in_force(date(2026, 12, 1)).jp_ceiling.amount == 10_547_400


def test_jkp_changes_on_7_february_2025():
    schedule = load_schedule(CHECKOUT_RATES_DIR)
    rows = [(r.effective_from, r.other) for r in schedule.rates if r.program == "jkp"]
    assert rows == [(date(2021, 2, 2), Decimal("0.0046")), (date(2025, 2, 7), Decimal("0.0036"))]


def test_shipped_files_say_what_is_unverified_or_unknown():
    jkp = (CHECKOUT_RATES_DIR / "jkp.toml").read_text(encoding="utf-8")
    packages = (CHECKOUT_RATES_DIR / "packages.toml").read_text(encoding="utf-8")
    jp = (CHECKOUT_RATES_DIR / "jp.toml").read_text(encoding="utf-8")
    assert "*unverified*" in jkp and "*unverified*" in packages
    assert "2026: not yet known" in jp and "the 2025 value stays in force" in jp


# --- packages -------------------------------------------------------------------------------
def test_shipped_packages_per_category():
    packages = load_packages(CHECKOUT_RATES_DIR)
    for category in (Category.HONORER, Category.APARAT_DESA, Category.RT_RW):
        assert packages.programs_for(category) == {"jkk", "jkm"}
    for category in (Category.PPNPN, Category.PENDAMPING_DESA):
        assert packages.programs_for(category) == {"jkk", "jkm", "jht", "jp"}
    assert packages.programs_for(Category.PEKERJA_RENTAN) == {"bpu_jkk", "bpu_jkm"}
    assert all("jkp" not in packages.programs_for(c) for c in Category)  # switch off


def test_risk_class_default_and_position_overrides():
    packages = load_packages(CHECKOUT_RATES_DIR)
    assert packages.risk_class_for() == 1
    assert packages.risk_class_for(position="Tenaga Administrasi") == 1
    assert packages.risk_class_for(position="  SOPIR ") == 2
    assert packages.risk_class_for(agency="15.05", position="petugas  keamanan") == 2


def test_an_agency_may_elect_programs_and_a_risk_class(rates_dir):
    with open(rates_dir / "packages.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[agencies."15.05"]\nprograms = ["jkk", "jkm", "jht", "bpu_jht"]\n'
                 'risk_class = 3\n')
    replace(rates_dir / "packages.toml", 'programs = ["jkk", "jkm"]\njkp = false',
            'programs = ["jkk", "jkm"]\njkp = true')  # honorer
    packages = load_packages(rates_dir)
    assert packages.programs_for("honorer", "1505") == {"jkk", "jkm", "jht", "jkp"}
    assert packages.programs_for("honorer", "15.06") == {"jkk", "jkm", "jkp"}
    # Wage-earner elections do not reach vulnerable workers; a BPU one does.
    assert packages.programs_for("pekerja_rentan", "15.05") == {"bpu_jkk", "bpu_jkm", "bpu_jht"}
    assert packages.risk_class_for(agency="15.05") == 3
    assert packages.risk_class_for(agency="15.05", position="Sopir") == 2


def test_packages_must_cover_every_category(rates_dir):
    replace(rates_dir / "packages.toml",
            '[categories.rt_rw]\nprograms = ["jkk", "jkm"]\njkp = false  # unverified, see above\n',
            "")
    with pytest.raises(RatesError, match="no package for categories rt_rw"):
        load_packages(rates_dir)


# --- refused configuration --------------------------------------------------------------------
@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("jkm.toml", 'employer = "0.003"', "employer = 0.003", "never a float"),
    ("jkm.toml", 'employer = "0.003"', 'employer = "0,3 %"', "not a decimal"),
    ("jkm.toml", 'employer = "0.003"', 'employer = "3"', "fraction"),
    ("jkm.toml", 'regulation = "PP 44/2015 art. 18(1)"', "", "regulation is required"),
    ("jkm.toml", "effective_from = 2015-07-01", "effective_from = 2015-07-01T00:00:00",
     "TOML date"),
    ("jkm.toml", 'employer = "0.003"', 'employer = "0.003"\nemployr = "1"', "unknown key"),
    ("jkk.toml", '5 = "0.0174"', "", "classes 1 to 5"),
    ("jp.toml", "amount = 9_559_600", 'amount = "9559600"', "whole number"),
    ("jp.toml", "effective_from = 2024-03-01", "effective_from = 2023-03-01", "same day"),
    ("jp.toml", "[[pension_age]]", "[[pension_ages]]", "unknown table"),
    ("bpu.toml", 'program = "bpu_jht"', 'program = "jhtx"', "program must be one of"),
    ("jht.toml", "[[rates]]", "[[rates]", "cannot be read"),
])
def test_bad_tables_are_refused_naming_the_file(rates_dir, file, old, new, message):
    replace(rates_dir / file, old, new)
    with pytest.raises(RatesError, match=message) as caught:
        load_schedule(rates_dir)
    assert file in str(caught.value) or str(rates_dir) in str(caught.value)


# --- where the tables are found, and caching --------------------------------------------------
def test_explicit_directory_wins_and_must_exist(tmp_path, monkeypatch, rates_dir):
    monkeypatch.setenv("JAMSOS_RATES_DIR", str(tmp_path / "nowhere"))
    assert resolve_rates_dir(rates_dir) == rates_dir.resolve()
    with pytest.raises(RatesError, match="not found"):
        resolve_rates_dir()  # the environment names a missing folder: say so, no fallback
    with pytest.raises(RatesError, match="not found"):
        resolve_rates_dir(tmp_path / "missing")


def test_environment_then_working_directory_then_checkout(tmp_path, monkeypatch, rates_dir):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JAMSOS_RATES_DIR", raising=False)
    assert resolve_rates_dir() == CHECKOUT_RATES_DIR  # nothing here: the checkout's copy
    local = Path(shutil.copytree(rates_dir, tmp_path / "config" / "rates"))
    assert resolve_rates_dir() == local.resolve()
    monkeypatch.setenv("JAMSOS_RATES_DIR", str(rates_dir))
    assert resolve_rates_dir() == rates_dir.resolve()


def test_no_tables_anywhere_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JAMSOS_RATES_DIR", raising=False)
    monkeypatch.setattr(rates, "CHECKOUT_RATES_DIR", tmp_path / "not-a-checkout")
    with pytest.raises(RatesError, match="JAMSOS_RATES_DIR"):
        resolve_rates_dir()
    (tmp_path / "empty").mkdir()
    with pytest.raises(RatesError, match="no rate tables"):
        load_schedule(tmp_path / "empty")


def test_loaded_once_and_reloaded_after_an_edit(rates_dir):
    first = load_schedule(rates_dir)
    assert load_schedule(rates_dir) is first
    replace(rates_dir / "jkm.toml", 'employer = "0.003"', 'employer = "0.0031"')
    edited = load_schedule(rates_dir)
    assert edited is not first
    assert quote(1_000_000, date(2025, 6, 1), {"jkm"}, schedule=edited).total == 3_100


def test_a_new_row_takes_over_from_its_date(rates_dir):
    with open(rates_dir / "jp.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[jp_ceiling]]\neffective_from = 2026-03-01\namount = 11_000_000\n'
                 'regulation = "PP 45/2015 art. 29"\nsource = "test"\n')
    schedule = load_schedule(rates_dir)
    assert quote(12_000_000, date(2026, 2, 1), {"jp"}, schedule=schedule).employer == 210_948
    assert quote(12_000_000, date(2026, 3, 1), {"jp"}, schedule=schedule).employer == 220_000
