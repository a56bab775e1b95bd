"""`jamsos verify`: identity verification against the population registry (Dukcapil,
docs/verification.md). `run` is what a scheduler calls (Airflow, cron) besides the pass
that starts in the background after each roster; `status` and `problems` are what a clerk
or compliance staff read.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask.cli import with_appcontext

from gateway.cli.options import agency_of
from gateway.runtime import gateway
from gateway.verify.report import (
    agency_verification,
    compliance_counts,
    pass_state,
    run_verification,
)
from gateway.verify.run import VerificationOff, verify_pending
from gateway.verify.settings import verification_settings
from gateway.verify.words import CONDITION_WORDS

# Exit status of `run`: the service refused the gateway's access (account, password, IP):
# an operator must act, a scheduler should alert. A quota, the hours or a down service
# pause the pass cleanly (0): the next run resumes where it stopped.
EXIT_OFF, EXIT_REFUSED = 2, 3


@click.group("verify")
def verify_group() -> None:
    """Verify workers' identities against the population registry (Dukcapil)."""


@verify_group.command("run")
@click.option("--limit", type=click.IntRange(1), help="Ask about at most this many people.")
@click.option("--force", is_flag=True,
              help="Ask now even if a quota or the access hours paused verification.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def verify_run(limit: int | None, force: bool, as_json: bool) -> None:
    """Ask about every worker not yet verified, whose identity changed, or whose answer is
    older than `recheck_days`. Stops cleanly at the daily quota or outside the access hours
    and resumes where it stopped on the next run; the service being down never counts
    against a worker.

    Exit status 2 when verification is not configured, 3 when the service refused the
    gateway's access (check the account, password and registered IP)."""
    gw = gateway()
    try:
        settings = verification_settings(gw.config)
        result = verify_pending(gw.registry.engine, gw.registry.keyring, gw.plugins, settings,
                                limit=limit, force=force)  # fmt: skip
    except VerificationOff as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_OFF)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        answers = ", ".join(f"{k} {n}" for k, n in sorted(result.answers.items())) or "-"
        click.echo(f"Dijawab / answered: {result.asked} ({answers})")
        if result.confirmed:
            click.echo(f"Identitas tetap, tidak ditanya ulang / identity unchanged, not asked "
                       f"again: {result.confirmed}")  # fmt: skip
        if result.stopped == "busy":
            click.echo("Verifikasi lain sedang berjalan; coba lagi nanti / another pass is "
                       "running; try again later")
        elif result.stopped in CONDITION_WORDS or result.stopped == "paused":
            words = CONDITION_WORDS.get(result.detail if result.stopped == "paused"
                                        else result.stopped)  # fmt: skip
            if words is not None:
                code = result.code or "-"
                click.echo(f"{words.id.format(code=code)}\n{words.en.format(code=code)}")
            if result.stopped == "refused" and result.detail:
                click.echo(f"Sebab / cause: {result.detail}")
            if result.resume_at is not None:
                click.echo(f"Dilanjutkan / resumes: {result.resume_at.isoformat()}"
                           + (" (--force untuk sekarang / now)" if result.stopped == "paused"
                              else ""))  # fmt: skip
    refused = result.stopped == "refused" or (
        result.stopped == "paused" and result.detail == "refused")
    if refused:
        sys.exit(EXIT_REFUSED)


@verify_group.command("status")
@click.option("--agency", help="One agency (a ministry code or a region code).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def verify_status(agency: str | None, as_json: bool) -> None:
    """Workers per agency by verification state, and the last pass (paused until when)."""
    code = agency_of(agency).code if agency else None
    engine = gateway().registry.engine
    rows = compliance_counts(engine, code)
    state = pass_state(engine)
    if as_json:
        click.echo(json.dumps({"agencies": rows, "state": state}, ensure_ascii=False, indent=2))
        return
    click.echo(f"{'instansi/agency':<16}{'cocok/match':>12}{'masalah/problems':>18}"
               f"{'menunggu/pending':>18}{'total':>8}")  # fmt: skip
    for r in rows:
        click.echo(f"{r['agency']:<16}{r['match']:>12}{r['problems']:>18}{r['pending']:>18}"
                   f"{r['total']:>8}")  # fmt: skip
    if state.get("message_id"):
        click.echo(f"\n{state['message_id']}\n{state['message_en']}")
        if state.get("resume_at"):
            click.echo(f"Dilanjutkan / resumes: {state['resume_at']}")


@verify_group.command("problems")
@click.option("--agency", help="The agency's active workers the registry does not confirm.")
@click.option("--run", "run_id", type=int, help="A run's new and changed workers instead.")
@click.option("--limit", type=click.IntRange(1, 10000), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def verify_problems(agency: str | None, run_id: int | None, limit: int, as_json: bool) -> None:
    """List verification problems with the spreadsheet row, NIK masked, and what to do."""
    if (agency is None) == (run_id is None):
        raise click.UsageError("beri --agency atau --run / give --agency or --run")
    registry = gateway().registry
    body: dict[str, Any]
    if run_id is not None:
        if registry.get_run(run_id) is None:
            raise click.BadParameter("run tidak ada / no such run", param_hint="--run")
        body = run_verification(registry.engine, registry.keyring, run_id)
    else:
        body = agency_verification(registry.engine, registry.keyring, agency_of(agency).code,
                                   limit=limit)  # fmt: skip
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    counts = body["counts"]
    click.echo(f"Cocok / match {counts['match']}, masalah / problems {counts['problems']}, "
               f"menunggu / pending {counts['pending']}")  # fmt: skip
    for p in body["problems"][:limit]:
        where = f"baris/row {p['row']}" if p.get("row") else "baris/row -"
        click.echo(f"{where:<16} {p['nik']}  {p['outcome']}")
        click.echo(f"    {p['message_id']}\n    {p['message_en']}")
