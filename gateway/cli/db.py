"""`jamsos db upgrade`: the database schema, and the re-keying a migration leaves to do."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gateway.runtime import gateway


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create or migrate the database to the latest schema.

    After revision 0006 it re-keys the stored record digests, which needs the data and index
    keys (JAMSOS_DATA_KEYS, JAMSOS_INDEX_KEY or the key file); it resumes if interrupted.
    """
    from gateway.store import db

    gw = gateway()
    db.upgrade(gw.engine)

    def progress(done: int) -> None:
        if done % 100_000 == 0:  # batches of 2,000 rows: a line every 50 batches
            click.echo(f"  {done:,} record digests re-keyed", err=True)

    # Migration 0006 leaves the stored record digests to be re-keyed, which needs the keys.
    rekeyed = gw.rekey_record_hashes(progress=progress)
    if rekeyed.rows:
        click.echo(f"Re-keyed {rekeyed.rows:,} record digests (migration 0006).")
    if rekeyed.unmatched:
        click.echo(
            f"  {rekeyed.unmatched:,} of them did not match the stored name and facts (another "
            "agency spelt the name differently, or the data was changed by hand): each of those "
            "enrollments is recorded as changed once, the next time its agency sends it."
        )
    click.echo(
        f"Database at revision {db.current_revision(gw.engine)}: "
        f"{gw.engine.url.render_as_string(hide_password=True)}"
    )
