"""Identity conflicts between agencies (issue 16, finding 1): identity_conflicts.

A roster that names a worker another agency enrolls, with another name, birth date or gender,
no longer rewrites the shared worker record: the claim is recorded here for compliance staff
(store/identity.py) and the clerk is warned on the row.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

from gateway.store.tables import identity_conflicts

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # checkfirst: a table created from the live metadata beforehand (create_all in a tool or
    # a test) is left as it is.
    identity_conflicts.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    identity_conflicts.drop(op.get_bind(), checkfirst=True)
