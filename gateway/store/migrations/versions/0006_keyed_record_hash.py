"""Record digests become keyed: mark the stored, unkeyed ones for re-keying.

`enrollments.record_hash` used to be an unkeyed BLAKE2b of the name and the enrollment's facts.
The facts are stored in the clear, so the unkeyed digest let anyone holding the database test
guessed names against it. New digests are keyed (store/sealed.py `RecordDigest`). Re-keying a
stored digest needs the data keys (the name must be decrypted), which a migration does not
have: this revision only leaves a marker, and `jamsos db upgrade` (or the embedded default's
automatic upgrade) re-keys the rows and removes it (security/rekey.py). The gateway refuses to
start while the marker is there.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MARKER = "record_hash_rekey_after"  # value: the last enrollment id already re-keyed


def upgrade() -> None:
    bind = op.get_bind()
    # A registry with no enrollment yet has no unkeyed digest: nothing to mark.
    if bind.execute(sa.text("SELECT 1 FROM enrollments LIMIT 1")).first() is not None:
        bind.execute(
            sa.text("INSERT INTO gateway_meta (key, value) VALUES (:key, '0')"), {"key": MARKER}
        )


def downgrade() -> None:
    # Digests already re-keyed stay keyed: the code of revision 0005 would record each of
    # those enrollments as changed once, the next time a roster names it.
    op.get_bind().execute(sa.text("DELETE FROM gateway_meta WHERE key = :key"), {"key": MARKER})
