"""Unchanged rows skip validation: enrollments.row_digest.

Revision ID: 0005
Revises: 0004

No index: a row's enrollment is found by its NIK's blind index (workers.nik_index, then the
(worker_id, agency) key), and a random-valued index would cost every insert more than it saves.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revision 0001 creates its tables from the live metadata: a database created from
    # scratch already has the column, one migrated from 0004 does not.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("enrollments")}
    if "row_digest" not in columns:
        op.add_column("enrollments", sa.Column("row_digest", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("row_digest")
