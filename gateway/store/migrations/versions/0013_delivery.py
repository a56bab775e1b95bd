"""Delivery to BPJS: employers, the mutations outbox, deliveries and their locks, file
batches (issue 17, docs/delivery.md).

Revision 0001 creates its tables from the live metadata (store/tables.py): a database created
from scratch already has these tables, one migrated from 0012 does not.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

from gateway.store import tables

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("employers", "mutations", "deliveries", "delivery_locks", "delivery_batches")


def upgrade() -> None:
    for name in TABLES:
        tables.metadata.tables[name].create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
