"""Signed audit checkpoints and run liveness (issue 16, findings 9, 10).

`audit_checkpoints`: the audit chain's head and digests of the registry, signed with the receipt
key (store/audit.py), so a chain rewritten with recomputed hashes, or a run row deleted or
edited, no longer matches. `runs.owner`: the process running a run, so a run left `running` by
a killed process is failed at once rather than after six hours.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import audit_checkpoints

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revision 0001 creates its tables from the live metadata: a database created from
    # scratch already has the column, one migrated from 0010 does not.
    inspector = sa.inspect(op.get_bind())
    if "owner" not in {c["name"] for c in inspector.get_columns("runs")}:
        op.add_column("runs", sa.Column("owner", sa.String(200)))
    if not inspector.has_table("audit_checkpoints"):
        audit_checkpoints.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    op.execute("ALTER TABLE runs DROP COLUMN owner")
