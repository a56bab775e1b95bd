"""Logging out of the dashboard ends the user's sessions: users.sessions_since.

The dashboard's session is a signed cookie: clearing it at logout left any copy of it (a
shared computer's other browser, a stolen cookie) valid until it expired. A session now also
has to start after the user's `sessions_since`, which logout sets.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revision 0001 creates its tables from the live metadata: a database created from
    # scratch already has the column, one migrated from 0006 does not.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("users")}
    if "sessions_since" not in columns:
        op.add_column("users", sa.Column("sessions_since", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN sessions_since")
