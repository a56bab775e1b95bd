"""`jamsos serve`: the gateway under gunicorn."""

from __future__ import annotations

import os
import sys

import click
from flask.cli import with_appcontext

from gateway.roster.intake import sweep_uploads
from gateway.runtime import gateway


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", "nworkers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Gunicorn workers.")
@click.option("--timeout", type=click.IntRange(min=1), default=None,
              help="Seconds a request may take before gunicorn restarts its worker "
                   "(default SERVE_TIMEOUT, 120). Roster uploads are applied in the "
                   "background and answered at once; a check or ?wait=1 is not.")
@with_appcontext
def serve(host: str, port: int, nworkers: int, timeout: int | None) -> None:
    """Serve the gateway with gunicorn."""
    runtime = gateway()
    runtime.ensure_ready()  # migrate and check keys once, before the workers fork
    # Uploads a killed server was applying: their spools removed, their runs failed.
    swept = sweep_uploads(runtime)
    if swept:
        click.echo(f"{swept} unggahan terputus dibersihkan / interrupted uploads removed")
    seconds = timeout or int(runtime.config["SERVE_TIMEOUT"])
    click.echo(f"Jamsos Gateway di / at http://{host}:{port}")
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(nworkers),
        # gunicorn's default of 30 s killed a 500,000-row upload mid-apply (issue 16).
        "--timeout",
        str(seconds),
        # A stop waits this long for background applies before killing the worker.
        "--graceful-timeout",
        str(seconds),
        "--access-logfile",
        "-",
        # No NIK in the access log, whatever URL a client sends (gateway/security/accesslog.py).
        "--logger-class",
        "gateway.security.accesslog.MaskingLogger",
        "gateway.app:create_app()",
    ]
    os.execv(sys.executable, args)
