"""`jamsos contributions`: what BPJS Ketenagakerjaan contributions cost, from config/rates.

gateway/cli/__init__.py registers the group with the others. It needs no app
context, database or keys: only the rate tables (`--rates-dir`, else see gateway/budget/rates.py).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import click

from gateway import clock
from gateway.budget.rates import (
    PACKAGES_FILE,
    RatesError,
    load_packages,
    load_schedule,
    resolve_rates_dir,
)
from gateway.cli.output import rupiah
from gateway.domain.contributions import (
    PROGRAMS,
    ContributionError,
    Quote,
    check_programs,
    quote,
)
from gateway.domain.parsing import ParseError, parse_category, parse_date, parse_money
from gateway.domain.records import Category

MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember")


def percent(rate: Decimal) -> str:
    """0.0024 -> "0,24 %" (decimal comma)."""
    return format((rate * 100).normalize(), "f").replace(".", ",") + " %"


# --- parameter types: every refusal is a usage error (exit 2) in both languages ---------------
class _Type(click.ParamType):
    def refuse(self, message_id: str, message_en: str, value: object,
               param: click.Parameter | None, ctx: click.Context | None) -> NoReturn:
        self.fail(f"{message_id} (diberikan: {value!r}) / {message_en} (got {value!r})",
                  param, ctx)


class WageType(_Type):
    name = "rupiah"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        try:
            return parse_money(str(value))
        except ParseError:
            self.refuse("upah harus bilangan bulat Rupiah lebih dari 0 dan paling banyak "
                        "1.000.000.000, mis. 5000000 atau 5.000.000",
                        "the wage must be a whole number of Rupiah above 0 and at most "
                        "1,000,000,000, e.g. 5000000 or 5.000.000", value, param, ctx)


class MonthType(_Type):
    name = "YYYY-MM"
    _PATTERN = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?")

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value.replace(day=1)
        match = self._PATTERN.fullmatch(str(value).strip())
        try:
            if match is None:
                raise ValueError
            return date(int(match[1]), int(match[2]), int(match[3] or 1)).replace(day=1)
        except ValueError:
            self.refuse("bulan harus berbentuk TTTT-BB dengan BB 01 sampai 12, mis. 2025-06",
                        "the month must be YYYY-MM with MM from 01 to 12, e.g. 2025-06",
                        value, param, ctx)


class RiskClassType(_Type):
    name = "1-5"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        text = str(value).strip()
        if text in {"1", "2", "3", "4", "5"}:
            return int(text)
        self.refuse("kelas risiko JKK harus 1, 2, 3, 4 atau 5",
                    "the JKK risk class must be 1, 2, 3, 4 or 5", value, param, ctx)


class ProgramsType(_Type):
    name = "jkk,jkm,..."

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> frozenset[str]:
        if isinstance(value, frozenset):
            return value
        try:
            return check_programs(p for p in re.split(r"[,\s]+", str(value)) if p)
        except ContributionError as exc:
            self.fail(str(exc), param, ctx)


class BirthDateType(_Type):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_date(str(value))
        except ParseError:
            self.refuse("tanggal lahir tidak dikenali, gunakan mis. 1970-01-31 atau 31-01-1970",
                        "the birth date is not recognised, use e.g. 1970-01-31 or 31-01-1970",
                        value, param, ctx)


class CategoryType(_Type):
    name = "category"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Category:
        try:
            return parse_category(str(value))
        except ParseError:
            allowed = ", ".join(c.value for c in Category)
            self.refuse(f"kategori pekerja tidak dikenal, pilihan: {allowed}",
                        f"unknown worker category, choose from: {allowed}", value, param, ctx)


# --- the group --------------------------------------------------------------------------------
@click.group("contributions")
def contributions() -> None:
    """Iuran BPJS Ketenagakerjaan / BPJS Ketenagakerjaan contributions."""


@contributions.command("quote")
@click.option("--wage", required=True, type=WageType(),
              help="Upah sebulan / monthly wage (BPU: declared income), e.g. 5000000.")
@click.option("--month", type=MonthType(), default=lambda: clock.today().replace(day=1),
              show_default="bulan ini / this month", help="Bulan / month, YYYY-MM.")
@click.option("--programs", type=ProgramsType(),
              help=f"Program, dipisah koma / comma-separated: {', '.join(PROGRAMS)}. "
                   "Default: the --category package from packages.toml.")
@click.option("--risk-class", type=RiskClassType(),
              help="Kelas risiko JKK / JKK risk class 1-5. Default: packages.toml "
                   "(position, agency, default).")
@click.option("--category", type=CategoryType(),
              help="Kategori pekerja / worker category: its package when --programs is not given.")
@click.option("--agency", help="Kode instansi / agency code: elected programs and risk class.")
@click.option("--position", help="Jabatan / position: its JKK risk class, if configured.")
@click.option("--birth-date", type=BirthDateType(),
              help="Tanggal lahir / birth date: JP is skipped at or past pension age.")
@click.option("--json", "as_json", is_flag=True, help="Keluaran JSON / JSON output.")
@click.option("--rates-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder tabel tarif / rate tables folder. Default: $JAMSOS_RATES_DIR, "
                   "./config/rates, the checkout's config/rates.")
def quote_command(wage: int, month: date, programs: frozenset[str] | None,
                  risk_class: int | None, category: Category | None, agency: str | None,
                  position: str | None, birth_date: date | None, as_json: bool,
                  rates_dir: Path | None) -> None:
    """Hitung iuran sebulan / quote one month's contributions, program by program."""
    try:
        directory = resolve_rates_dir(rates_dir)
    except RatesError as exc:
        if rates_dir is not None:
            raise click.BadParameter(str(exc), param_hint="--rates-dir") from exc
        raise click.ClickException(str(exc)) from exc
    try:
        schedule = load_schedule(directory)
        needs_packages = programs is None or agency is not None or position is not None
        has_packages = (directory / PACKAGES_FILE).is_file()
        packages = load_packages(directory) if needs_packages or has_packages else None
    except RatesError as exc:
        raise click.ClickException(str(exc)) from exc
    if programs is None:
        if category is None or packages is None:
            raise click.UsageError("berikan --programs atau --category / "
                                   "give --programs or --category")
        programs = packages.programs_for(category, agency)
    if risk_class is None:
        risk_class = packages.risk_class_for(agency, position) if packages else 1
    try:
        result = quote(wage, month, programs, risk_class, birth_date, schedule=schedule)
    except ContributionError as exc:
        raise click.UsageError(str(exc)) from exc
    if as_json:
        data = result.as_dict()
        if "jkk" in programs:
            data["risk_class"] = risk_class
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print_quote(result, risk_class if "jkk" in programs else None)


def print_quote(result: Quote, risk_class: int | None) -> None:
    """The quote as a table a clerk can read and copy into a budget note."""
    echo = click.echo
    month = result.month
    echo(f"Iuran BPJS Ketenagakerjaan / Contributions: {MONTHS_ID[month.month - 1]} "
         f"{month.year} ({month:%Y-%m})")
    echo(f"Upah / Wage: {rupiah(result.wage)}"
         + (f"   Kelas risiko JKK / JKK risk class: {risk_class}" if risk_class else ""))
    if result.jp_ceiling is not None:
        ceiling = result.jp_ceiling
        derived = ", dihitung dari rumus / derived from the formula" if ceiling.derived else ""
        echo(f"Batas upah JP / JP wage ceiling: {rupiah(ceiling.amount)} (sejak / since "
             f"{ceiling.effective_from:%Y-%m-%d}{derived}; {ceiling.regulation})")
    header = ("Program", "Tarif / Rate", "Pemberi kerja / Employer", "Pekerja / Worker",
              "Jumlah / Total", "Dasar hukum / Regulation")
    rows = []
    for line in result.lines:
        rate = line.rate
        shown = percent(rate.rate) if rate.rate or not rate.minimum else rupiah(rate.minimum)
        if rate.employer and rate.worker:
            shown += f" ({percent(rate.employer)[:-2]} + {percent(rate.worker)[:-2]})"
        rows.append((line.program.upper(), shown, rupiah(line.employer), rupiah(line.worker),
                     rupiah(line.total), rate.regulation))
    rows.append(("Jumlah / Total", "", rupiah(result.employer), rupiah(result.worker),
                 rupiah(result.total), ""))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    echo("")
    for number, row in enumerate((header, *rows)):
        if number == len(rows):  # a rule above the totals
            echo("  ".join("-" * w for w in widths[:-1]))
        cells = [cell.ljust(w) if i in (0, 1, 5) else cell.rjust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        echo("  ".join(cells).rstrip())
    for line in result.lines:
        if line.other:
            echo(f"\n{line.program.upper()} {rupiah(line.other)}: dibiayai pemerintah pusat dan "
                 "rekomposisi, tidak ditagih / funded by central government and recomposition, "
                 "not charged")
    for skipped in result.skipped:
        echo(f"\n{skipped.message_id} / {skipped.message_en}")
