"""`jamsos serve`: the gateway under gunicorn."""

from __future__ import annotations

import os
import sys

import click
from flask.cli import with_appcontext

from gateway.runtime import gateway


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", "nworkers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Gunicorn workers.")
@with_appcontext
def serve(host: str, port: int, nworkers: int) -> None:
    """Serve the gateway with gunicorn."""
    gateway().ensure_ready()  # migrate and check keys once, before the workers fork
    click.echo(f"Jamsos Gateway di / at http://{host}:{port}")
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(nworkers),
        "--access-logfile",
        "-",
        # No NIK in the access log, whatever URL a client sends (gateway/security/accesslog.py).
        "--logger-class",
        "gateway.security.accesslog.MaskingLogger",
        "gateway.app:create_app()",
    ]
    os.execv(sys.executable, args)
