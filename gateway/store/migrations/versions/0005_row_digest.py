"""Unchanged rows skip validation: enrollments.row_digest and its index.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEX = ("ix_enrollments_agency_row_digest", "enrollments", ["agency", "row_digest"])


def upgrade() -> None:
    # Revision 0001 creates its tables from the live metadata: a database created from
    # scratch already has the column and the index, one migrated from 0004 does not.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("enrollments")}
    if "row_digest" not in columns:
        op.add_column("enrollments", sa.Column("row_digest", sa.String(32)))
    name, table, cols = INDEX
    op.create_index(name, table, cols, if_not_exists=True)


def downgrade() -> None:
    op.drop_index(INDEX[0], table_name=INDEX[1], if_exists=True)
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL): Alembic's batch mode would copy the table,
    # which SQLite refuses while enrollment_history's foreign keys point at it.
    op.execute("ALTER TABLE enrollments DROP COLUMN row_digest")
