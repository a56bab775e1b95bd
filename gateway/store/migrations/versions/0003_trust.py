"""Trust: the hash-chained audit log and signed run receipts.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from gateway.store.tables import audit_log, receipts

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = [audit_log, receipts]


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind)
