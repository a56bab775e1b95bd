"""The registry: workers, enrollments, history, runs, problems, API keys.

Revision ID: 0001
Revises:
"""

from alembic import op

from gateway.store.tables import (
    api_keys,
    enrollment_history,
    enrollments,
    gateway_meta,
    problems,
    runs,
    workers,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copy of the tables as of this revision would be the textbook way; the first revision
# creates them straight from the metadata, and later revisions alter them explicitly.
TABLES = [gateway_meta, runs, workers, enrollments, enrollment_history, problems, api_keys]


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind)
