"""The `jamsos` command line, built on Flask's CLI so it shares the application factory.

Each command group (or top-level command) is a module named after it: roster.py (`jamsos
roster check|submit`), db.py, keys.py, apikeys.py, serve.py, demo.py, budget.py, coverage.py,
contributions.py, plugins.py (`plugins list`, `plugin new`), sync.py (`sources`, `sync`),
receipt.py, audit.py, users.py, runs.py, workers.py, employers.py, deliver.py, reconcile.py
and verify.py. What several share: output.py (a roster's report, progress) and options.py
(--agency, an inspecting command's database). This module holds only the `main` group and
the registrations, in `jamsos --help` order.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import FlaskGroup

from gateway.app import create_app
from gateway.cli import deliver_files  # noqa: F401  (deliver batches|download|uploaded|answers)
from gateway.cli.apikeys import apikeys
from gateway.cli.audit import audit_group
from gateway.cli.budget import budget
from gateway.cli.contributions import contributions
from gateway.cli.coverage import coverage_command
from gateway.cli.db import db_group
from gateway.cli.deliver import deliver_group
from gateway.cli.demo import demo
from gateway.cli.employers import employers_group
from gateway.cli.keys import keys
from gateway.cli.plugins import plugin_group, plugins_group, register_plugin_commands
from gateway.cli.receipt import receipt
from gateway.cli.reconcile import reconcile_group
from gateway.cli.roster import roster
from gateway.cli.runs import runs_command
from gateway.cli.serve import serve
from gateway.cli.sync import sources_command, sync_command
from gateway.cli.users import users_group
from gateway.cli.verify import verify_group
from gateway.cli.workers import workers
from gateway.config import ConfigError
from gateway.security.crypto import KeyRingError
from gateway.store.db import StoreError


class JamsosGroup(FlaskGroup):
    """Flask's CLI group, with the gateway's own start-up errors shown as one clear line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, KeyRingError, StoreError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(
    cls=JamsosGroup, create_app=create_app, add_default_commands=False, add_version_option=False
)
# The gateway's version (Flask's own option printed Python's, Flask's and Werkzeug's).
@click.version_option(package_name="jamsos-gateway", prog_name="jamsos")
def main() -> None:
    """Jamsos Gateway: enrol government non-ASN workers into BPJS Ketenagakerjaan.

    Settings come from config/gateway.toml and JAMSOS_* environment variables
    (JAMSOS_DATABASE_URL, JAMSOS_INSTANCE_PATH, JAMSOS_DATA_KEYS, JAMSOS_INDEX_KEY).
    """


for command in (
    apikeys, audit_group, budget, contributions, coverage_command, db_group, deliver_group,
    demo, employers_group, keys, plugin_group, plugins_group, receipt, reconcile_group, roster,
    runs_command, serve, sources_command, sync_command, users_group, verify_group, workers,
):  # fmt: skip
    main.add_command(command)
register_plugin_commands(main)  # the plugins' own commands, after the gateway's
