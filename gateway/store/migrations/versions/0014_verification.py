"""Identity verification results per worker (issue 19).

Placeholder: filled in by the change that needs it. Revision 0001 creates its tables from the
live metadata (store/tables.py), so a table added there must be created here only when
missing (a database migrated from an earlier revision).

Revision ID: 0014
Revises: 0013
"""

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
