"""`jamsos roster check|submit FILE`: a roster from a file, through the intake the API and the
dashboard use too (gateway/roster/intake.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from gateway.budget.allocation import AllocationError, FieldNames, read_declaration
from gateway.cli.options import agency_of
from gateway.cli.output import allocation_line, print_report, progress_bar
from gateway.domain.agencies import Agency
from gateway.domain.records import Category
from gateway.roster import intake
from gateway.roster.report import (
    ALLOCATION_NOT_RECORDED,
    RosterReport,
    allocation_text,
    endings_text,
)
from gateway.runtime import gateway

# `roster check` without --agency: a regional government's roster (honorer by default).
REGIONAL_ROSTER = Agency("-", "roster daerah / regional roster", "regency", Category.HONORER)
# The allocation's two options, named in a refusal as the command line spells them.
OPTION_NAMES: FieldNames = {"year": ("--year", "--year"),
                            "allocation": ("--allocation", "--allocation")}  # fmt: skip


def print_endings(report: RosterReport) -> None:
    """How many workers the roster ends (would end), with the masked sample."""
    endings = report.endings
    if endings is None:
        return
    alarm = endings.needs_confirmation
    click.echo(click.style(f"  {endings_text(endings).both}", fg="yellow" if alarm else None))
    for one in endings.sample:
        click.echo(f"    {one['nik']}  {one.get('position') or '-'}  {one.get('work_unit') or '-'}")
    if report.status == "failed" and report.run_id is not None:
        click.echo(f"  --confirm-endings {endings.would_end}")


@click.group()
def roster() -> None:
    """Check or submit a roster file (CSV or XLSX)."""


@roster.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--agency",
    "agency_code",
    default=None,
    help="Agency code; sets the default worker category (default: a regional roster).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the machine report as JSON.")
@with_appcontext
def roster_check(file: Path, agency_code: str | None, as_json: bool) -> None:
    """Validate FILE without writing anything. Exit status 1 when a row has an error."""
    agency = agency_of(agency_code) if agency_code else REGIONAL_ROSTER
    with progress_bar(file, enabled=not as_json) as progress:
        report = intake.check(gateway(), file, agency=agency, progress=progress)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(report)
        print_endings(report)
    sys.exit(1 if report.rejected or report.status == "rejected" else 0)


@roster.command("submit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--agency",
    "agency_code",
    required=True,
    help="Agency code: ministry (kemenkes) or Kemendagri region (15.05).",
)
@click.option("--year", "fiscal_year", type=click.IntRange(2000, 2100), default=None,
              help="Fiscal year of the allocation declared with --allocation.")
@click.option("--allocation", default=None,
              help="Budget allocated for the year, e.g. jkk=24.000.000,jkm=30.000.000 "
                   "(programs jkk, jkm, jht, jp).")
@click.option("--confirm-endings", "confirm_endings", type=click.IntRange(min=0), default=None,
              help="The number of workers the file ends, as `roster check --agency` says: "
                   "needed when it is more than ENDING_CONFIRM_SHARE (20 %) of the agency's "
                   "active workers.")
@click.option("--json", "as_json", is_flag=True, help="Print the machine report as JSON.")
@with_appcontext
def roster_submit(
    file: Path, agency_code: str, fiscal_year: int | None, allocation: str | None,
    confirm_endings: int | None, as_json: bool,
) -> None:
    """Apply FILE as the complete roster of an agency.

    Workers in the file are added or updated; the agency's workers missing from it are ended
    (never deleted). The same file again changes nothing. A regional government may declare
    its budget allocation for a fiscal year with it (--year and --allocation); the run's
    receipt then states it. A file that would end more than ENDING_CONFIRM_SHARE of the
    agency's active workers is refused, nothing changed, unless --confirm-endings gives that
    number. Exit status 1 when the file could not be applied.
    """
    agency = agency_of(agency_code)
    try:
        declaration = read_declaration(fiscal_year, allocation, agency=agency,
                                       names=OPTION_NAMES)  # fmt: skip
    except AllocationError as exc:
        if exc.field is None:
            raise click.UsageError(str(exc)) from exc
        raise click.BadParameter(str(exc), param_hint=OPTION_NAMES[exc.field][1]) from exc
    with progress_bar(file, enabled=not as_json) as progress:
        submitted = intake.submit(gateway(), file, agency=agency, trigger="cli",
                                  declaration=declaration, progress=progress,
                                  confirm_endings=confirm_endings)  # fmt: skip
    report = submitted.report
    if as_json:
        click.echo(json.dumps(submitted.as_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(report)
        print_endings(report)
        if declaration is not None and submitted.allocation_recorded:
            click.echo(allocation_line(declaration.fiscal_year, declaration.amounts))
            if submitted.allocation_check is not None:
                click.echo(f"  {allocation_text(submitted.allocation_check).both}")
        elif declaration is not None:
            click.echo(f"  {ALLOCATION_NOT_RECORDED.both}")
    sys.exit(0 if report.status == "succeeded" else 1)
