"""Operations: budget-feed lock and run cancellation (issue 20).

Placeholder: filled in by the change that needs it. Revision 0001 creates its tables from the
live metadata (store/tables.py), so a table added there must be created here only when
missing (a database migrated from an earlier revision).

Revision ID: 0015
Revises: 0014
"""

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
