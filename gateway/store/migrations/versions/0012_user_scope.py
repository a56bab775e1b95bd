"""Dashboard users bound to an agency or government: users.agency (issue 16, finding 10).

A dashboard user saw every agency. A user may now be bound to one agency (a ministry code or
a government's region code) and reads only its pages; NULL keeps the national view of
compliance staff, so every user created before this revision keeps what it saw.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revision 0001 creates its tables from the live metadata: a database created from
    # scratch already has the column, one migrated from 0011 does not.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("users")}
    if "agency" not in columns:
        op.add_column("users", sa.Column("agency", sa.String(32)))


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN agency")
