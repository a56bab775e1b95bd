"""A sync that finds nothing new is remembered: source_state.checked_at.

Such a sync records no run (nothing was applied), so a healthy weekly or monthly file feed
whose agency sent no new file looked stale, and a feed whose last run failed kept looking
failed after it came back with the same file. Feed health now counts the last check.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revision 0001 creates its tables from the live metadata: a database created from
    # scratch already has the column, one migrated from 0007 does not.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("source_state")}
    if "checked_at" not in columns:
        op.add_column("source_state", sa.Column("checked_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.execute("ALTER TABLE source_state DROP COLUMN checked_at")
