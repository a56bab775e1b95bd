"""Plugin sources: each source's sync cursor, and budget allocations (APBD feed).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from gateway.store.tables import budget_allocations, source_state

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = [source_state, budget_allocations]


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind)
