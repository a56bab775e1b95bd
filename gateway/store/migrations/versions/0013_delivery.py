"""Delivery to BPJS: employers, mutations, outbox (issue 17).

Placeholder: filled in by the change that needs it. Revision 0001 creates its tables from the
live metadata (store/tables.py), so a table added there must be created here only when
missing (a database migrated from an earlier revision).

Revision ID: 0013
Revises: 0012
"""

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
