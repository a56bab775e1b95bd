"""Dashboard: staff users, and the indexes the dashboard's pages walk.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from gateway.store.tables import users

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Revision 0001 creates its tables from the live metadata, which now carries these indexes:
# a database created from scratch already has them, one migrated from 0002 does not.
INDEXES = [
    ("ix_enrollments_agency_id", "enrollments", ["agency", "id"]),
    ("ix_runs_agency_source_id", "runs", ["agency", "source", "id"]),
]


def upgrade() -> None:
    users.create(op.get_bind())
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, if_not_exists=True)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
    users.drop(op.get_bind())
