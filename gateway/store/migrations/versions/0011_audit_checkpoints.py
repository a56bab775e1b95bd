"""Signed audit checkpoints and run liveness (issue 16, findings 9, 10).

Placeholder: no schema change yet.

Revision ID: 0011
Revises: 0010
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
