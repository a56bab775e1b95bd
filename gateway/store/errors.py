"""The database's failures as the layers above the store catch them, so that only
gateway/store/ names SQLAlchemy."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

# Locked past the busy timeout, or unreachable: nothing was written; worth retrying.
DatabaseUnavailable = OperationalError

__all__ = ["DatabaseUnavailable"]
