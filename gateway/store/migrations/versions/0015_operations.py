"""Operations: the alerts raised, and the processes' heartbeats (issue 20).

`alerts` records each alert the gateway raised (gateway/alerts.py) under its key, when it was
first and last raised, and which plugins delivered it, so several processes noticing the same
late feed deliver it once. `process_heartbeats` holds each gateway process's last sign of life
(PostgreSQL), so a run of a process killed on another machine is failed within minutes.
Revision 0001 creates its tables from the live metadata (store/tables.py): a database created
from scratch already has them, one migrated from 0014 does not.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("process_heartbeats"):
        op.create_table(
            "process_heartbeats",
            sa.Column("owner", sa.String(200), primary_key=True),
            sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("every_seconds", sa.Integer, nullable=False),
        )
    if inspector.has_table("alerts"):
        return
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("agency", sa.String(32)),
        sa.Column("title_id", sa.String(300), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times", sa.Integer, nullable=False),
        sa.Column("delivered", sa.JSON, nullable=False),
        sa.Column("failures", sa.JSON, nullable=False),
        sa.UniqueConstraint("key", name="uq_alerts_key"),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("process_heartbeats")
