"""`jamsos contributions quote` through click: the table, the JSON, and refused input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.budget.rates import CHECKOUT_RATES_DIR
from gateway.cli.contributions import contributions, percent, rupiah

EXAMPLE_1 = ["quote", "--wage", "5000000", "--risk-class", "1", "--programs", "jkk,jkm,jht,jp",
             "--month", "2025-06"]


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Invoke the group as `jamsos contributions` would, from an empty working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JAMSOS_RATES_DIR", raising=False)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        return runner.invoke(contributions, list(args), env=env)

    return invoke


def test_example_1_as_a_readable_table(run):
    result = run(*EXAMPLE_1)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Juni 2025 (2025-06)" in out
    assert "Pemberi kerja / Employer" in out and "Pekerja / Worker" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "Rp 12.000" in lines["JKK"] and "0,24 %" in lines["JKK"]
    assert "Rp 185.000" in lines["JHT"] and "Rp 100.000" in lines["JHT"]
    assert "5,7 % (3,7 + 2)" in lines["JHT"]
    total = lines["Jumlah"]
    amounts = tuple(f"Rp {n}" for n in total.replace("Rp ", "").split()[-3:])
    assert amounts == ("Rp 312.000", "Rp 150.000", "Rp 462.000")
    assert "Rp 10.547.400" in out  # the JP ceiling in force, shown for reference


def test_example_1_as_json(run):
    result = run(*EXAMPLE_1, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["employer"], data["worker"], data["total"]) == (312_000, 150_000, 462_000)
    assert data["month"] == "2025-06"
    assert {p: (v["employer"], v["worker"]) for p, v in data["programs"].items()} == {
        "jkk": (12_000, 0), "jkm": (15_000, 0), "jht": (185_000, 100_000),
        "jp": (100_000, 50_000)}
    assert data["programs"]["jkk"]["rate"] == "0.0024"
    assert data["programs"]["jkk"]["regulation"].startswith("PP 44/2015")
    assert data["wage_base"]["wage"] == 5_000_000
    assert data["wage_base"]["jp_ceiling"] == 10_547_400
    assert data["risk_class"] == 1


@pytest.mark.parametrize(("month", "employer", "worker"), [
    ("2025-06", 210_948, 105_474), ("2025-02", 200_846, 100_423), ("2024-06", 200_846, 100_423)])
def test_example_2_jp_capped(run, month, employer, worker):
    data = json.loads(run("quote", "--wage", "12.000.000", "--programs", "jp", "--month", month,
                          "--json").output)
    assert (data["employer"], data["worker"]) == (employer, worker)
    assert data["wage_base"]["jp"] == data["wage_base"]["jp_ceiling"]


def test_example_4_vulnerable_worker_by_category(run):
    result = run("quote", "--wage", "1000000", "--category", "pekerja_rentan", "--month",
                 "2025-06")
    assert result.exit_code == 0, result.output
    assert "Rp 16.800" in result.output and "Rp 6.800" in result.output


def test_category_and_position_choose_programs_and_risk_class(run):
    data = json.loads(run("quote", "--wage", "1000000", "--category", "Honorer", "--position",
                          "Sopir", "--month", "2025-06", "--json").output)
    assert set(data["programs"]) == {"jkk", "jkm"}
    assert data["risk_class"] == 2 and data["programs"]["jkk"]["employer"] == 5_400


def test_pension_age_skips_jp_with_the_reason(run):
    args = ["quote", "--wage", "5000000", "--programs", "jkk,jp", "--month", "2025-06",
            "--birth-date", "1960-01-01"]
    data = json.loads(run(*args, "--json").output)
    assert set(data["programs"]) == {"jkk"} and data["skipped"]["jp"]["code"] == "pension_age"
    table = run(*args).output
    assert "usia pensiun 59" in table and "pension age of 59" in table


@pytest.mark.parametrize(("args", "option", "indonesian", "english"), [
    (["--wage", "abc"], "--wage", "upah harus", "the wage must"),
    (["--wage", "0"], "--wage", "upah harus", "the wage must"),
    (["--wage", "-5000"], "--wage", "upah harus", "the wage must"),
    (["--programs", "jkk,jkx"], "--programs", "Program tidak dikenal", "Unknown program"),
    (["--programs", "jkk,bpu_jkm"], "--programs", "tidak dapat digabung", "cannot be combined"),
    (["--risk-class", "6"], "--risk-class", "kelas risiko", "risk class must"),
    (["--month", "2025-13"], "--month", "bulan harus", "the month must"),
    (["--month", "juni"], "--month", "bulan harus", "the month must"),
    (["--birth-date", "1970-02-30"], "--birth-date", "tanggal lahir", "birth date"),
    (["--month", "2018-05"], None, "Tidak ada batas upah JP", "No JP wage ceiling"),
])
def test_bad_input_is_a_usage_error_in_both_languages(run, args, option, indonesian, english):
    base = {"--wage": "5000000", "--programs": "jkk,jp", "--month": "2025-06"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = run("quote", *[x for pair in base.items() for x in pair])
    assert result.exit_code == 2, result.output
    assert indonesian in result.output and english in result.output
    if option:
        assert option in result.output


def test_programs_or_category_is_required(run):
    result = run("quote", "--wage", "5000000")
    assert result.exit_code == 2
    assert "--programs atau --category" in result.output and "--programs or --category" in (
        result.output)


def test_rates_dir_option_and_environment(run, tmp_path):
    custom = Path(shutil.copytree(CHECKOUT_RATES_DIR, tmp_path / "custom"))
    jkm = custom / "jkm.toml"
    jkm.write_text(jkm.read_text(encoding="utf-8").replace('"0.003"', '"0.004"'),
                   encoding="utf-8")
    args = ["quote", "--wage", "1000000", "--programs", "jkm", "--month", "2025-06", "--json"]
    assert json.loads(run(*args).output)["total"] == 3_000  # the checkout's tables
    assert json.loads(run(*args, "--rates-dir", str(custom)).output)["total"] == 4_000
    env = {"JAMSOS_RATES_DIR": str(custom)}
    assert json.loads(run(*args, env=env).output)["total"] == 4_000
    missing = run(*args, "--rates-dir", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2
    assert "folder tarif tidak ada" in missing.output and "rates folder not found" in (
        missing.output)


def test_broken_tables_are_an_error_not_a_traceback(run, tmp_path):
    custom = Path(shutil.copytree(CHECKOUT_RATES_DIR, tmp_path / "custom"))
    jkm = custom / "jkm.toml"
    jkm.write_text(jkm.read_text(encoding="utf-8").replace('"0.003"', "0.003"), encoding="utf-8")
    result = run("quote", "--wage", "1", "--programs", "jkm", "--rates-dir", str(custom))
    assert result.exit_code == 1
    assert "jkm.toml" in result.output and "never a float" in result.output
    assert isinstance(result.exception, SystemExit)  # a ClickException, not a crash


def test_end_to_end_on_the_jamsos_command_with_json(tmp_path, monkeypatch):
    """Through the real `jamsos` group, in-process, on the shipped tables."""
    from gateway.cli import main

    if "contributions" not in main.commands:  # until gateway/cli/__init__.py registers it
        main.add_command(contributions)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JAMSOS_RATES_DIR", raising=False)
    result = CliRunner().invoke(main, ["contributions", *EXAMPLE_1, "--birth-date",
                                       "1990-05-17", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["employer"], data["worker"], data["total"]) == (312_000, 150_000, 462_000)
    assert data["skipped"] == {}


def test_formatting_helpers():
    assert rupiah(312_000) == "Rp 312.000"
    assert rupiah(10_547_400) == "Rp 10.547.400"
    assert rupiah(0) == "Rp 0"
    from decimal import Decimal

    assert percent(Decimal("0.0024")) == "0,24 %"
    assert percent(Decimal("0.1")) == "10 %"
