"""Plugin kit: problems kept once per unchanged re-sync (issue 21).

Placeholder: filled in by the change that needs it. Revision 0001 creates its tables from the
live metadata (store/tables.py), so a table added there must be created here only when
missing (a database migrated from an earlier revision).

Revision ID: 0017
Revises: 0016
"""

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
