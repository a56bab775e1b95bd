"""API key lifecycle: expiry, last use, and who acted on each run (issue 16, finding 8).

api_keys.expires_at and api_keys.last_used_at make keys listable and expirable (revocation
already had its column); runs.actor names the key ("api:<prefix>") or dashboard user
("user:<name>") that started a run, where `trigger` only said "api" or "web".

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = (
    ("api_keys", "expires_at", sa.DateTime(timezone=True)),
    ("api_keys", "last_used_at", sa.DateTime(timezone=True)),
    ("runs", "actor", sa.String(128)),
)


def upgrade() -> None:
    # Revision 0001 creates its tables from the live metadata: a database created from
    # scratch already has the columns, one migrated from 0009 does not.
    inspector = sa.inspect(op.get_bind())
    for table, name, type_ in COLUMNS:
        if name not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, sa.Column(name, type_))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL), as in 0005.
    for table, name, _type in reversed(COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
