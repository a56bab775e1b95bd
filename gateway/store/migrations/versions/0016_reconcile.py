"""Reconciliation: BPJS membership, bills, payments (issue 18).

Placeholder: filled in by the change that needs it. Revision 0001 creates its tables from the
live metadata (store/tables.py), so a table added there must be created here only when
missing (a database migrated from an earlier revision).

Revision ID: 0016
Revises: 0015
"""

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
