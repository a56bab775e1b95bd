"""Human-readable roster reports and the progress bar of the CLI."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from gateway.pipeline import Progress, RosterReport

# Files smaller than this finish before a bar would be worth drawing.
PROGRESS_MIN_BYTES = 2 * 1024 * 1024


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
    """The report a clerk reads: totals, column mapping, then problems by row."""
    echo = click.echo
    status = {
        "checked": "Pemeriksaan selesai / Check finished",
        "succeeded": "Roster diterapkan / Roster applied",
        "rejected": "Roster ditolak, tidak ada yang diubah / Roster rejected, nothing changed",
        "failed": "Gagal, tidak ada yang diubah / Failed, nothing changed",
    }.get(report.status, report.status)
    run = f" (run {report.run_id})" if report.run_id is not None else ""
    echo(click.style(status + run, bold=True))
    if report.replayed:
        echo(
            "Berkas yang sama sudah pernah dikirim: ini laporan run tersebut, tidak ada "
            "perubahan. / The same file was submitted before: this is that run's report, "
            "nothing changed."
        )
    echo(
        f"  Baris / rows: {report.rows}   diterima / accepted: {report.accepted}   "
        f"ditolak / rejected: {report.rejected}   peringatan / warnings: {report.warnings}"
    )
    if report.changes:
        c = report.changes
        echo(
            f"  Baru / new: {c['new']}   berubah / changed: {c['changed']}   tetap / unchanged: "
            f"{c['unchanged']}   diakhiri / ended: {c['ended']}"
        )
    if report.columns:
        mapped = ", ".join(f"{h} → {f}" for h, f in report.columns.items())
        echo(f"  Kolom / columns: {mapped}")
    if report.unknown_columns:
        echo(
            f"  Kolom tidak dikenal (diabaikan) / unknown columns (ignored): "
            f"{', '.join(report.unknown_columns)}"
        )
    if report.error:
        echo(click.style(f"  Kesalahan / error: {report.error}", fg="red"))
    if not report.problems:
        return
    codes = Counter(p["code"] for p in report.problems)
    echo(
        "  Masalah per kode / problems by code: "
        + ", ".join(f"{code} ×{n}" for code, n in codes.most_common())
    )
    echo("")
    for p in report.problems[:max_problems]:
        color = "red" if p["severity"] == "error" else "yellow"
        label = "GALAT" if p["severity"] == "error" else "PERINGATAN"
        field = p["field"] or "-"
        echo(click.style(f"  Baris {p['row']:>6}  {label:<10} {field:<11} {p['code']}", fg=color))
        echo(f"      {p['message_id']}")
        echo(click.style(f"      {p['message_en']}", dim=True))
    hidden = max(report.problems_total, len(report.problems)) - max_problems
    if hidden > 0:
        echo(f"  … dan {hidden} masalah lain (gunakan --json) / and {hidden} more (use --json)")
