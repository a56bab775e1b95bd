"""Protection of PII at rest: AES-GCM field encryption with a key ring, and a blind index.

* Each encrypted value is stored as text `<key id>:<base64(nonce || ciphertext+tag)>`, so a
  value names the key that can open it and keys can be rotated without a flag day.
* The associated data binds a ciphertext to its column (`workers.nik`), so a value copied into
  another column fails to decrypt instead of showing the wrong thing.
* The blind index is HMAC-SHA256 under a separate key: equal NIKs give equal indexes (lookups,
  de-duplication) while the database alone reveals nothing about the NIK. It is computed from
  the key's inner and outer SHA-256 states, prepared once per key ring (RFC 2104): the same
  value as `hmac.new(index_key, nik, sha256)`, in half the time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.security.private_files import place_once, read_complete

KEY_FILE_NAME = "keys.json"

_NONCE_SIZE = 12  # bytes: AES-GCM's 96-bit nonce, random per value
_NONCE_BATCH = 1024  # values whose nonces `encrypt_many` draws with one os.urandom call
_SHA256_BLOCK = 64  # bytes: what HMAC pads (or first hashes) the key to


class KeyRingError(Exception):
    """A key is missing, malformed or does not open the stored data."""


@dataclass(frozen=True)
class KeyRing:
    """Data keys by id (the first one encrypts) and the blind-index key."""

    data_keys: dict[str, bytes]
    primary: str
    index_key: bytes

    def __post_init__(self) -> None:
        if self.primary not in self.data_keys:
            raise KeyRingError(f"primary key id {self.primary!r} is not in the key ring")
        for kid, key in self.data_keys.items():
            if len(key) != 32:
                raise KeyRingError(f"data key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
            if ":" in kid or "," in kid:
                raise KeyRingError(f"key id {kid!r} may not contain ':' or ','")
        if len(self.index_key) < 32:
            raise KeyRingError("the index key must be at least 32 bytes")
        # One AESGCM object per key: creating it per value would dominate bulk encryption.
        object.__setattr__(self, "_ciphers", {k: AESGCM(v) for k, v in self.data_keys.items()})
        # HMAC's keyed inner and outer hash states (RFC 2104), copied for each blind index.
        key = self.index_key
        if len(key) > _SHA256_BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_SHA256_BLOCK, b"\0")
        object.__setattr__(self, "_index_inner", hashlib.sha256(bytes(b ^ 0x36 for b in key)))
        object.__setattr__(self, "_index_outer", hashlib.sha256(bytes(b ^ 0x5C for b in key)))

    # -- field encryption -------------------------------------------------------------
    def encrypt(self, plaintext: str, column: str) -> str:
        nonce = os.urandom(_NONCE_SIZE)
        sealed = self._ciphers[self.primary].encrypt(nonce, plaintext.encode(), column.encode())
        return f"{self.primary}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def encrypt_many(self, plaintexts: Iterable[str], column: str) -> list[str]:
        """`encrypt` for many values of one column: the same stored format, a fresh random
        nonce per value, drawn for up to `_NONCE_BATCH` values with one os.urandom call
        (that call is a third of `encrypt`'s cost)."""
        values = list(plaintexts)
        encrypt = self._ciphers[self.primary].encrypt
        associated = column.encode()
        prefix = f"{self.primary}:"
        out: list[str] = []
        for first in range(0, len(values), _NONCE_BATCH):
            batch = values[first : first + _NONCE_BATCH]
            nonces = os.urandom(_NONCE_SIZE * len(batch))
            for i, plaintext in enumerate(batch):
                nonce = nonces[i * _NONCE_SIZE : (i + 1) * _NONCE_SIZE]
                sealed = nonce + encrypt(nonce, plaintext.encode(), associated)
                out.append(prefix + binascii.b2a_base64(sealed, newline=False).decode("ascii"))
        return out

    def decrypt(self, stored: str, column: str) -> str:
        kid, sep, body = stored.partition(":")
        if not sep:
            raise KeyRingError(f"stored value in {column} has no key id")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise KeyRingError(
                f"value in {column} was encrypted with key {kid!r}, which is not in the key ring"
            )
        try:
            raw = base64.b64decode(body, validate=True)
            return cipher.decrypt(raw[:12], raw[12:], column.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise KeyRingError(f"key {kid!r} does not open the value in {column}") from exc

    # -- blind index --------------------------------------------------------------------
    def blind_index(self, nik: str) -> str:
        """HMAC-SHA256 of the NIK under the index key, as hex (`hmac.new(...).hexdigest()`)."""
        inner = self._index_inner.copy()
        inner.update(nik.encode())
        outer = self._index_outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def fingerprint(self) -> str:
        """A short public fingerprint of the index key: detects a wrong key at start."""
        return hmac.new(self.index_key, b"jamsos-index-check", hashlib.sha256).hexdigest()[:16]

    # -- (de)serialisation ---------------------------------------------------------------
    def to_env(self) -> dict[str, str]:
        keys = [self.primary] + [k for k in self.data_keys if k != self.primary]
        return {
            "JAMSOS_DATA_KEYS": ",".join(f"{k}:{_b64(self.data_keys[k])}" for k in keys),
            "JAMSOS_INDEX_KEY": _b64(self.index_key),
        }


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyRingError(f"{what} is not valid base64") from exc


def generate_keyring(key_id: str | None = None) -> KeyRing:
    kid = key_id or f"k{secrets.token_hex(3)}"
    return KeyRing({kid: AESGCM.generate_key(bit_length=256)}, kid, secrets.token_bytes(32))


def parse_keyring(data_keys: str, index_key: str) -> KeyRing:
    """Parse `kid:base64,kid2:base64` (the first entry encrypts) and a base64 index key."""
    keys: dict[str, bytes] = {}
    for i, part in enumerate(p for p in data_keys.split(",") if p.strip()):
        kid, sep, b64 = part.strip().partition(":")
        if not sep or not kid:
            raise KeyRingError(f"data key #{i + 1} must be written as KEYID:BASE64")
        keys[kid] = _unb64(b64, f"data key {kid!r}")
    if not keys:
        raise KeyRingError("no data key given")
    return KeyRing(keys, next(iter(keys)), _unb64(index_key, "the index key"))


def load_keyring(config: dict, *, create: bool = True) -> tuple[KeyRing, str | None]:
    """The key ring from configuration, else from the instance key file.

    With neither, and `create`, a key file is written (mode 0600) and a notice is returned so
    the caller can say so: a development install works with no setup, and production is told
    to put its keys somewhere safer.
    """
    if config.get("DATA_KEYS") or config.get("INDEX_KEY"):
        if not (config.get("DATA_KEYS") and config.get("INDEX_KEY")):
            raise KeyRingError("set both JAMSOS_DATA_KEYS and JAMSOS_INDEX_KEY, or neither")
        return parse_keyring(config["DATA_KEYS"], config["INDEX_KEY"]), None
    path = Path(config["INSTANCE_PATH"]) / KEY_FILE_NAME
    if path.exists():
        return _read_key_file(path), None
    if not create:
        raise KeyRingError(f"no keys configured and no key file at {path}")
    ring = generate_keyring()
    env = ring.to_env()
    text = json.dumps({"data_keys": env["JAMSOS_DATA_KEYS"], "index_key": env["JAMSOS_INDEX_KEY"]})
    # Processes starting at once on a new instance (a CLI submit beside the server) share one
    # key file: the first placed wins, the others read it (security/private_files.py).
    if not place_once(path, text.encode()):
        return _read_key_file(path), None
    notice = (
        f"Created a new encryption key file at {path} (mode 0600). Back it up: without it the "
        "stored NIKs and names cannot be read. For production set JAMSOS_DATA_KEYS and "
        "JAMSOS_INDEX_KEY instead (`jamsos keys generate`)."
    )
    print(notice, file=sys.stderr)
    return ring, notice


def _read_key_file(path: Path) -> KeyRing:
    def parse(data: bytes) -> KeyRing:
        found = json.loads(data)
        return parse_keyring(found["data_keys"], found["index_key"])

    try:  # a file another process is still writing is read again (private_files.py)
        return read_complete(path, parse, json.JSONDecodeError)
    except (OSError, ValueError, KeyError) as exc:
        raise KeyRingError(f"key file {path} is unreadable or malformed: {exc}") from exc
