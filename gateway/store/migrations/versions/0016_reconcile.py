"""Reconciliation: BPJS's membership lists, bills and payments (issue 18, docs/reconcile.md).

Revision 0001 creates its tables from the live metadata (store/tables.py): a database created
from scratch already has these tables, one migrated from 0015 does not.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

from gateway.store import tables

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = ("bpjs_members", "bpjs_bills", "bpjs_payments")


def upgrade() -> None:
    for name in TABLES:
        tables.metadata.tables[name].create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
