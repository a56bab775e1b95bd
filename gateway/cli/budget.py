"""`jamsos budget check`: each regional government's allocation against what its enrolled
workers cost in a fiscal year, with what-if scenarios and an export."""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from gateway.budget.check import RatesNotInForce, WageScenario, check_budget, governments_with_data
from gateway.budget.export import export
from gateway.budget.rates import load_packages, load_schedule
from gateway.cli.output import rupiah
from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.domain.budget import BudgetCheck
from gateway.runtime import gateway

STATUS_TEXT = {
    "sufficient": "CUKUP / sufficient",
    "shortfall": "KURANG / shortfall",
    "no_budget": "TIDAK ADA ANGGARAN / no budget",
}


def _scenario(raise_percent: str | None, minimum_wage: int | None) -> WageScenario | None:
    if raise_percent is None and minimum_wage is None:
        return None
    try:
        pct = Decimal(raise_percent.replace(",", ".")) if raise_percent else Decimal(0)
    except InvalidOperation:
        pct = None
    if pct is None or not pct.is_finite() or not 0 <= pct <= 1000:  # as the API: 0 to 1000
        raise click.BadParameter(
            "persen kenaikan harus angka dari 0 sampai 1000, mis. 6,5 / the raise must be a "
            "number from 0 to 1000, e.g. 6.5",
            param_hint="--what-if-raise",
        )
    return WageScenario(raise_percent=pct, minimum_wage=minimum_wage or 0)


def print_check(check: BudgetCheck, name: str, paid: dict | None = None) -> None:
    color = {"sufficient": "green", "shortfall": "red", "no_budget": "yellow"}[check.status]
    click.echo(
        click.style(
            f"{name} ({check.government}), tahun anggaran / fiscal year "
            f"{check.fiscal_year}: {STATUS_TEXT[check.status]}",
            fg=color,
            bold=True,
        )
    )
    click.echo(
        f"  Pekerja / workers: {check.workers}   bulan-pekerja / worker-months: "
        f"{check.worker_months}"
    )
    click.echo(
        f"  Alokasi / allocated: {rupiah(check.allocated)}   kewajiban / obligation: "
        f"{rupiah(check.obligation)}   kekurangan / gap: {rupiah(check.gap)}"
    )
    if check.status != "no_budget":
        click.echo(
            f"  Alokasi menanggung / covers {check.workers_covered} pekerja / workers, "
            f"{check.months_covered} bulan / months"
        )
    if check.allocation_source:
        both = check.allocations
        click.echo(
            f"  Sumber / source: {check.allocation_source}  (APBD {rupiah(both['apbd'])}, "
            f"deklarasi / declared {rupiah(both['declared'])})"
        )
    if check.disagreement:
        click.echo(
            click.style(
                "  APBD dan deklarasi berbeda: angka APBD yang dipakai. / APBD and "
                "declared allocation differ: the APBD figure is used.",
                fg="yellow",
            )
        )
    if paid is not None and paid["bills_received"]:
        programs = ", ".join(f"{p.upper()} {rupiah(n)}"
                             for p, n in sorted(paid["by_program"].items()))
        lasts = "cukup / lasts" if paid["lasts"] else "tidak cukup / will not last"
        click.echo(
            f"  Dibayar ke BPJS tahun ini / paid to BPJS this year: {rupiah(paid['total'])}"
            f" ({programs or '-'});  sisa kewajiban / left to pay: "
            f"{rupiah(paid['left_to_pay'])};  sisa alokasi / allocation left: "
            f"{rupiah(paid['allocation_left'])}: {lasts}"
        )
    for line in check.lines:
        click.echo(
            f"    {line.program:<4} {line.account_code or '-':<18} alokasi "
            f"{rupiah(line.allocated):>18}  kewajiban {rupiah(line.obligation):>18}  "
            f"kurang {rupiah(line.gap):>16}"
        )


@click.group()
def budget() -> None:
    """Budget-allocation checks (APBD) of regional governments."""


@budget.command("check")
@click.option(
    "--government",
    "codes",
    multiple=True,
    help="Kemendagri region code; repeat for several. Default: every government "
    "with a roster or a budget for the year.",
)
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="Fiscal year.")
@click.option(
    "--what-if-raise",
    "raise_percent",
    default=None,
    help="What-if: every wage raised by this percentage (e.g. 6.5).",
)
@click.option(
    "--what-if-min-wage",
    "minimum_wage",
    type=click.IntRange(1, 1_000_000_000),
    default=None,
    help="What-if: wages below this (e.g. next year's UMP) raised to it.",
)
@click.option(
    "--export",
    "export_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the result to a .csv or .xlsx file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def budget_check(
    codes: tuple[str, ...],
    year: int,
    raise_percent: str | None,
    minimum_wage: int | None,
    export_path: Path | None,
    as_json: bool,
) -> None:
    """Compare each government's allocation with what its enrolled workers cost in YEAR.

    Exit status 1 when any government has a shortfall or no budget; 2 when the year cannot
    be computed (the rate tables do not cover it).
    """
    gw = gateway()
    scenario = _scenario(raise_percent, minimum_wage)
    try:
        agencies = (
            [resolve_agency(c) for c in codes]
            if codes
            else [resolve_agency(c) for c in governments_with_data(gw.registry.engine, year)]
        )
    except UnknownAgency as exc:
        raise click.BadParameter(str(exc), param_hint="--government") from exc
    ministries = [a.code for a in agencies if a.kind == "ministry"]
    if ministries:  # paid from the state budget (APBN): there is no APBD line to compare
        raise click.BadParameter(
            f"{', '.join(ministries)}: pemeriksaan APBD hanya untuk pemerintah daerah / APBD "
            "checks are for regional governments (a ministry is paid from the APBN)",
            param_hint="--government",
        )
    if export_path is not None:  # refused before the check runs, not after
        if export_path.suffix.lower() not in (".csv", ".xlsx"):
            raise click.BadParameter(
                "tulis .csv atau .xlsx / the file must end in .csv or .xlsx",
                param_hint="--export",
            )
        if not export_path.parent.is_dir():
            raise click.BadParameter(
                f"folder {export_path.parent} tidak ada / does not exist", param_hint="--export"
            )
    schedule, packages = load_schedule(), load_packages()
    try:
        results = [
            (
                check_budget(
                    gw.registry.engine,
                    a.code,
                    year,
                    schedule=schedule,
                    packages=packages,
                    scenario=scenario,
                ),
                a.name,
            )
            for a in agencies
        ]
    except RatesNotInForce as exc:
        click.echo(f"{exc.message_id}\n{exc.message_en}", err=True)
        sys.exit(2)
    if export_path is not None:
        export(export_path, results)
    if as_json:
        out = [dict(c.as_dict(), name=n, paid=_paid(gw, c, year)) for c, n in results]
        if scenario is not None:
            for item in out:
                item["what_if"] = scenario.as_dict()
        click.echo(json.dumps(out[0] if len(codes) == 1 else out, indent=2, ensure_ascii=False))
    else:
        if scenario is not None:
            click.echo(
                f"Skenario / what-if: kenaikan / raise {scenario.raise_percent} %, "
                f"upah minimum / minimum wage {rupiah(scenario.minimum_wage)}"
            )
        if not results:
            click.echo(f"Tidak ada data untuk / no data for {year}.")
        for check, name in results:
            print_check(check, name, _paid(gw, check, year))
        if export_path is not None:
            click.echo(f"Ditulis ke / written to {export_path}")
    sys.exit(0 if all(c.status == "sufficient" for c, _ in results) else 1)


def _paid(gw: Any, check: BudgetCheck, year: int) -> dict:
    """Paid to BPJS so far this year beside the check (docs/reconcile.md)."""
    from gateway import clock
    from gateway.reconcile.billing import budget_paid, paid_this_year
    from gateway.reconcile.settings import reconcile_settings

    paid = paid_this_year(gw.engine, check.government, year, reconcile_settings(gw.config),
                          clock.today())  # fmt: skip
    return budget_paid(check, paid)
