"""Plugin kit: problems kept once per unchanged re-sync (issue 21).

A daily sync of unchanged data stored the same problems again every day. A run whose
problems equal its source's previous succeeded run's now stores none of its own and names
the run holding them in `runs.problems_run_id` (gateway/store/problem_sets.py). NULL, every
run before this revision: the run holds its own.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revision 0001 creates its tables from the live metadata: a database created from
    # scratch already has the column, one migrated from 0016 does not.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("runs")}
    if "problems_run_id" not in columns:
        op.add_column("runs", sa.Column("problems_run_id", sa.Integer))


def downgrade() -> None:
    # The runs that shared their problems have none of their own once the column is gone:
    # copy them back first.
    op.execute(
        "INSERT INTO problems (run_id, row, field, code, severity, message_id, message_en) "
        "SELECT r.id, p.row, p.field, p.code, p.severity, p.message_id, p.message_en "
        "FROM runs r JOIN problems p ON p.run_id = r.problems_run_id "
        "WHERE r.problems_run_id IS NOT NULL"
    )
    op.execute("ALTER TABLE runs DROP COLUMN problems_run_id")
