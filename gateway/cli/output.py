"""What the CLI's command groups print alike: a roster's report, a progress bar or running
count, an amount of Rupiah, a recorded allocation."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from gateway.roster.report import (
    CHANGES,
    COLUMNS,
    COUNTS,
    ERROR,
    PROBLEMS_BY_CODE,
    RECEIPT,
    RECEIPT_HINT,
    REPLAYED,
    ROW,
    SEVERITY,
    UNKNOWN_COLUMNS,
    failure_cause,
    field_name,
    more_problems,
    status_text,
)
from gateway.roster.run import Progress, RosterReport

# Files smaller than this finish before a bar would be worth drawing.
PROGRESS_MIN_BYTES = 2 * 1024 * 1024


def rupiah(amount: int | None) -> str:
    """Rp with dots between thousands, the way Indonesian documents write it: Rp 312.000
    ("-" for no amount)."""
    return "-" if amount is None else f"Rp {amount:,}".replace(",", ".")


def allocation_line(fiscal_year: int, amounts: dict[str, int]) -> str:
    """The line saying a declared allocation was recorded (a submit, a receipt)."""
    listed = ", ".join(f"{program} {rupiah(amount)}" for program, amount in amounts.items())
    return f"  Alokasi {fiscal_year} dicatat / allocation recorded: {listed}"


def running_count(text: Callable[[int], str], *, every: float = 10.0) -> Callable[[int], None]:
    """A running count on stderr: rewritten in place on a terminal; elsewhere (a log file, a
    CI job, Airflow) a line at most every `every` seconds, since a "\r" there runs every
    update into one endless line."""
    if sys.stderr.isatty():
        return lambda n: click.echo("\r" + text(n), nl=False, err=True)
    last = -every

    def log(n: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= every:
            last = now
            click.echo(text(n), err=True)

    return log


@contextmanager
def progress_bar(file: Path, *, enabled: bool = True) -> Iterator[Progress | None]:
    """A bar on stderr for large files, driven by the fraction of the file read."""
    if not enabled or file.stat().st_size < PROGRESS_MIN_BYTES:
        yield None
        return
    with click.progressbar(
        length=1000, label="Memproses / Processing", file=sys.stderr, show_eta=True
    ) as bar:
        done = 0

        def update(rows: int, fraction: float | None) -> None:
            nonlocal done
            if fraction is not None:
                target = int(fraction * 1000)
                if target > done:
                    bar.update(target - done)
                    done = target

        yield update
        bar.update(1000 - done)


def print_report(report: RosterReport, *, max_problems: int = 200) -> None:
    """The report a clerk reads: totals, column mapping, then problems by row.

    The words come from gateway/roster/report.py, shared with the dashboard's upload page."""
    echo = click.echo
    run = f" (run {report.run_id})" if report.run_id is not None else ""
    echo(click.style(status_text(report.status).both + run, bold=True))
    if report.replayed:
        echo(f"{REPLAYED.id} / {REPLAYED.en}")
    echo("  " + "   ".join(f"{COUNTS[k].both}: {getattr(report, k)}" for k in COUNTS))
    if report.changes:
        c = report.changes
        echo("  " + "   ".join(f"{CHANGES[k].both}: {c[k]}" for k in CHANGES))
    if report.columns:
        mapped = ", ".join(f"{h} → {field_name(f).id}" for h, f in report.columns.items())
        echo(f"  {COLUMNS.both}: {mapped}")
    if report.unknown_columns:
        echo(f"  {UNKNOWN_COLUMNS.both}: {', '.join(report.unknown_columns)}")
    if report.error:
        cause = failure_cause(report.error)
        echo(click.style(f"  {ERROR.both}: {cause.both if cause else report.error}", fg="red"))
    if report.receipt:
        r = report.receipt
        echo(f"  {RECEIPT.both}: sha256 {r['input_sha256']}, key {r['key_id']}, "
             f"signature {r['signature'][:16]}… (whole with --json)")  # fmt: skip
        echo(f"  {RECEIPT_HINT.both}")
    if not report.problems:
        return
    codes = Counter(p["code"] for p in report.problems)
    echo(
        f"  {PROBLEMS_BY_CODE.both}: "
        + ", ".join(f"{code} ×{n}" for code, n in codes.most_common())
    )
    echo("")
    for p in report.problems[:max_problems]:
        color = "red" if p["severity"] == "error" else "yellow"
        label = SEVERITY.get(p["severity"], SEVERITY["warning"]).id
        field = field_name(p["field"]).id
        echo(click.style(f"  {ROW.id} {p['row']:>6}  {label:<10} {field:<11} {p['code']}",
                         fg=color))
        echo(f"      {p['message_id']}")
        echo(click.style(f"      {p['message_en']}", dim=True))
    hidden = max(report.problems_total, len(report.problems)) - max_problems
    if hidden > 0:
        echo(f"  {more_problems(hidden).both}")
