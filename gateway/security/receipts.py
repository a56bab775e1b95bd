"""Signed receipts: proof of what a government submitted, and when, that it can keep.

A receipt is a small JSON object (run id, agency, SHA-256 of the input, counts, time) signed
with the gateway's Ed25519 key. Anyone holding the public key (served at
/api/v1/receipt-key) can check it offline with `jamsos receipt verify`: a changed count, a
changed hash or a signature from another key makes it "not genuine".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from gateway.security.private_files import place_once, read_complete, write_private

RECEIPT_KEY_FILE = "receipt-key.pem"
RECEIPT_VERSION = 1
# The fields a receipt states, in this order; signing covers exactly these.
FIELDS = (
    "version", "run_id", "agency", "source", "input_sha256", "status", "rows", "accepted",
    "rejected", "new", "changed", "unchanged", "ended", "finished_at", "key_id",
)
# A receipt of a run that recorded a budget allocation declared with the roster also states
# it ({"fiscal_year": 2025, "jkk": 24000000, ...}) and is version 2; every other receipt is
# version 1 exactly as before, so receipts already given out keep verifying.
ALLOCATION_FIELD = "declared_allocation"
ALLOCATION_VERSION = 2


# Counts and the fiscal year are far below this; a number longer than it is no receipt's
# (Python refuses to read an integer of more than 4,300 digits at all, with a ValueError).
MAX_NUMBER_DIGITS = 20
# A receipt is a few hundred bytes; a report saved whole with it is a few kilobytes.
MAX_RECEIPT_BYTES = 1 << 20


class ReceiptError(Exception):
    """A receipt could not be read, or the signing key could not be loaded."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys, but another reader (a spreadsheet import,
    # a JavaScript verifier) may show the first: one signed document, two meanings.
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ReceiptError(f"kunci JSON ganda / duplicated JSON key: {key!r}"[:120])
        seen[key] = value
    return seen


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ReceiptError(
            f"angka terlalu panjang ({len(text)} digit) / number too long ({len(text)} digits)"
        )
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > 2 * MAX_NUMBER_DIGITS:
        raise ReceiptError(f"angka terlalu panjang / number too long ({len(text)} characters)")
    value = float(text)
    if not math.isfinite(value):  # 1e999 reads as infinity
        raise ReceiptError(f"angka di luar jangkauan / number out of range: {text}")
    return value


def _no_constant(name: str) -> Any:
    raise ReceiptError(f"bukan angka JSON / not a JSON number: {name}")


def parse_receipt(text: str | bytes) -> Any:
    """A receipt file's JSON, read strictly: a duplicated key, a number of more than
    MAX_NUMBER_DIGITS digits, NaN/Infinity or more than MAX_RECEIPT_BYTES raise ReceiptError
    (in words, never a traceback); anything else that is not JSON raises ReceiptError too."""
    if len(text) > MAX_RECEIPT_BYTES:
        raise ReceiptError(f"terlalu besar untuk tanda terima / too large for a receipt "
                           f"({len(text)} bytes)")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_bounded_int,
                          parse_float=_bounded_float, parse_constant=_no_constant)
    except RecursionError as exc:
        raise ReceiptError("JSON terlalu dalam / JSON nested too deeply") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ReceiptError(f"bukan JSON / not JSON: {exc}"[:300]) from exc


def canonical(fields: dict[str, Any]) -> bytes:
    """The exact bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@dataclass(frozen=True)
class ReceiptSigner:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(
        self, run: dict[str, Any], declared_allocation: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A receipt for a finished run (a mapping of the `runs` row), stating the budget
        allocation recorded with it, if any."""
        finished = run.get("finished_at")
        fields = {
            "version": ALLOCATION_VERSION if declared_allocation else RECEIPT_VERSION,
            "run_id": run["id"],
            "agency": run["agency"],
            "source": run["source"],
            "input_sha256": run.get("input_sha256"),
            "status": run["status"],
            **{k: int(run.get(k) or 0) for k in ("rows", "accepted", "rejected", "new",
                                                  "changed", "unchanged", "ended")},
            "finished_at": finished.isoformat() if hasattr(finished, "isoformat") else finished,
            "key_id": self.key_id,
        }
        if declared_allocation:
            fields[ALLOCATION_FIELD] = declared_allocation
        signature = self.private.sign(canonical(fields))
        return {**fields, "signature": base64.b64encode(signature).decode("ascii")}


def sign_document(signer: ReceiptSigner, body: bytes) -> str:
    """A detached Ed25519 signature (base64) of `body` by the receipt key: audit checkpoints
    (store/audit.py) are signed with the key that signs receipts, which the database never
    holds, so whoever can write the database still cannot sign."""
    return base64.b64encode(signer.private.sign(body)).decode("ascii")


def document_genuine(public: Ed25519PublicKey, body: bytes, signature: str) -> bool:
    """Whether `signature` (base64) is `public`'s key's signature of exactly `body`."""
    try:
        public.verify(base64.b64decode(signature, validate=True), body)
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return False
    return True


def load_signer(config: dict[str, Any], *, create: bool = True) -> ReceiptSigner:
    """The signing key from JAMSOS_RECEIPT_KEY (PEM text or $file:), else the instance file,
    created on first use (mode 0600) like the data key file, unless `create` is false (a
    verifier: a key made there could only call a genuine receipt "signed with another key")."""
    pem = config.get("RECEIPT_KEY")
    if pem:
        return ReceiptSigner(_private_from_pem(pem.encode(), "JAMSOS_RECEIPT_KEY"))
    path = Path(config["INSTANCE_PATH"]) / RECEIPT_KEY_FILE
    if path.exists():
        return _read_signer(path)
    if not create:
        raise ReceiptError(
            f"tidak ada kunci tanda terima gateway di sini ({path}); berikan --public-key: "
            "jawaban /api/v1/receipt-key gateway yang menerbitkannya / no receipt key of a "
            f"gateway here ({path}); pass --public-key: the /api/v1/receipt-key answer of the "
            "gateway that issued it"
        )
    # Of processes starting at once on a new instance, the first key placed wins and the
    # others read it complete (security/private_files.py). An O_EXCL create of the file
    # itself let a loser read it half-written ("not a PEM private key").
    private = Ed25519PrivateKey.generate()
    if not place_once(path, _pem(private)):
        return _read_signer(path)
    return ReceiptSigner(private)


def _read_signer(path: Path) -> ReceiptSigner:
    # A file another process is still writing is read again (private_files.py).
    return read_complete(path, lambda data: ReceiptSigner(_private_from_pem(data, str(path))),
                         ReceiptError)  # fmt: skip


def _pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private_key(path: Path) -> Ed25519PrivateKey:
    """A new signing key in a new PEM file (mode 0600, synced); FileExistsError if `path`
    exists."""
    private = Ed25519PrivateKey.generate()
    write_private(path, _pem(private))
    return private


def _private_from_pem(data: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ReceiptError(f"receipt signing key in {where} is not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ReceiptError(f"receipt signing key in {where} is not an Ed25519 key")
    return key


@dataclass(frozen=True)
class Verdict:
    genuine: bool
    reason_id: str
    reason_en: str


def verify(receipt: dict[str, Any], public: Ed25519PublicKey) -> Verdict:
    """Is `receipt` exactly what the holder of `public`'s private key signed?"""
    if not isinstance(receipt, dict) or "signature" not in receipt:
        return Verdict(False, "bukan tanda terima: tidak ada tanda tangan",
                       "not a receipt: no signature")
    fields = {k: v for k, v in receipt.items() if k != "signature"}
    stated = set(FIELDS)
    if fields.get("version") == ALLOCATION_VERSION:
        stated.add(ALLOCATION_FIELD)
    if set(fields) != stated:
        return Verdict(False, "kolom tanda terima tidak lengkap atau berlebih",
                       "the receipt's fields are missing or extra")
    if not _plain_values(fields):
        return Verdict(False, "isi tanda terima tidak wajar (angka terlalu besar atau jenis "
                       "salah)", "the receipt's values are malformed (a number out of range "
                       "or a wrong type)")
    if fields["key_id"] != key_id(public):
        return Verdict(False, "ditandatangani dengan kunci lain",
                       "signed with another key")
    try:
        public.verify(base64.b64decode(receipt["signature"], validate=True), canonical(fields))
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return Verdict(False, "tanda tangan tidak cocok: isi tanda terima telah diubah",
                       "the signature does not match: the receipt was altered")
    return Verdict(True, "asli", "genuine")


def _plain_values(fields: dict[str, Any]) -> bool:
    """Each count a non-negative integer of bounded size (a receipt handed in as a dict, not
    read by parse_receipt, is held to the same bound), the key id text."""
    limit = 10**MAX_NUMBER_DIGITS
    for name in ("version", "run_id", "rows", "accepted", "rejected", "new", "changed",
                 "unchanged", "ended"):
        value = fields.get(name)
        if type(value) is not int or not 0 <= value < limit:
            return False
    return isinstance(fields.get("key_id"), str)


def load_public(pem: str | bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except ValueError as exc:
        raise ReceiptError("the public key is not PEM") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ReceiptError("the public key is not an Ed25519 key")
    return key
