"""API keys: one per agency's system, shown once, stored as a hash, scoped to the agency
(`jamsos apikeys create`; the API and the upload page authenticate with them)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, and_, insert, select

from gateway.store import audit
from gateway.store.db import writing
from gateway.store.tables import api_keys

API_KEY_PREFIX = "jgw_"


@dataclass(frozen=True)
class ApiKey:
    id: int
    prefix: str
    agency: str
    label: str | None


def create(engine: Engine, agency: str, label: str | None = None) -> str:
    """Create a key scoped to `agency`; the token is returned once and stored hashed."""
    prefix = secrets.token_hex(4)
    token = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with writing(engine) as conn:
        audit.append(conn, actor="cli", action="api_key_created", subject=f"agency:{agency}",
                     details={"prefix": prefix, "label": label})
        conn.execute(
            insert(api_keys).values(
                prefix=prefix,
                key_hash=_hash_token(token),
                agency=agency,
                label=label,
                created_at=datetime.now(UTC),
            )
        )
    return token


def authenticate(engine: Engine, token: str) -> ApiKey | None:
    """The live (not revoked) key `token` belongs to, or None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != API_KEY_PREFIX:
        return None
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(api_keys).where(
                    and_(api_keys.c.prefix == parts[1], api_keys.c.revoked_at.is_(None))
                )
            )
            .mappings()
            .first()
        )
    # Constant-time comparison of the hashes: the prefix lookup already narrowed it to one.
    if row is None or not secrets.compare_digest(row["key_hash"], _hash_token(token)):
        return None
    return ApiKey(row["id"], row["prefix"], row["agency"], row["label"])


def _hash_token(token: str) -> str:
    # Tokens carry 256 bits of randomness: a fast hash is enough, no password stretching needed.
    return hashlib.sha256(token.encode()).hexdigest()
