"""Identity verification results per worker (issue 19, docs/verification.md).

Adds `verifications` (the population registry's last answer per worker: verdict, scores,
answer code, times; never an element) and `enrollment_history.row` (the spreadsheet row that
made a change, so a verification problem names it to the clerk). Revision 0001 creates its
tables from the live metadata (store/tables.py): a database created from scratch already has
both, one migrated from 0013 gets them here.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import verifications

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if "row" not in {c["name"] for c in inspector.get_columns("enrollment_history")}:
        op.add_column("enrollment_history", sa.Column("row", sa.Integer))
    if not inspector.has_table("verifications"):
        verifications.create(bind)


def downgrade() -> None:
    op.drop_table("verifications")
    op.execute('ALTER TABLE enrollment_history DROP COLUMN "row"')
