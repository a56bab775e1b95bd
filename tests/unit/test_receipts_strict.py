"""A receipt file is read strictly: one meaning per document, and words, never a traceback.

Issue 16, finding 10: a receipt with a duplicated JSON key verified as genuine (json.loads kept
the last copy, which a reader of the file may not see), and a 5,000-digit integer crashed
`jamsos receipt verify` with Python's "Exceeds the limit (4300 digits)" ValueError.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.app import create_app
from gateway.cli import main
from gateway.security.receipts import (
    ReceiptError,
    ReceiptSigner,
    parse_receipt,
    public_pem,
    verify,
)

RUN = {"id": 7, "agency": "15.05", "source": "upload", "input_sha256": "ab" * 32,
       "status": "succeeded", "rows": 3, "accepted": 3, "rejected": 0, "new": 3, "changed": 0,
       "unchanged": 0, "ended": 0, "finished_at": "2026-01-05T01:02:03+00:00"}


@pytest.fixture
def signer() -> ReceiptSigner:
    return ReceiptSigner(Ed25519PrivateKey.generate())


def _verify_cli(tmp_path: Path, signer: ReceiptSigner, text: str):
    (tmp_path / "receipt.json").write_text(text)
    (tmp_path / "key.pem").write_text(public_pem(signer.public))
    app = create_app({"INSTANCE_PATH": str(tmp_path / "inst"), "CONFIG_FILE": None})
    with app.app_context():
        return CliRunner().invoke(main, ["receipt", "verify", str(tmp_path / "receipt.json"),
                                         "--public-key", str(tmp_path / "key.pem")])


def test_a_genuine_receipt_still_verifies(tmp_path, signer):
    result = _verify_cli(tmp_path, signer, json.dumps(signer.sign(RUN)))
    assert result.exit_code == 0 and "ASLI / GENUINE" in result.output, result.output


def test_a_duplicated_key_is_refused_not_genuine(tmp_path, signer):
    receipt = signer.sign(RUN)
    text = json.dumps(receipt)
    # The signed value last, a forged one first: json.loads kept the last and said genuine;
    # a reader of the file sees 300 accepted.
    forged = text.replace('"accepted": 3,', '"accepted": 300, "accepted": 3,')
    assert forged != text
    assert verify(json.loads(forged), signer.public).genuine  # the old reading
    with pytest.raises(ReceiptError, match="duplicated JSON key"):
        parse_receipt(forged)
    result = _verify_cli(tmp_path, signer, forged)
    assert result.exit_code == 1 and "duplicated JSON key: 'accepted'" in result.output
    assert "GENUINE" not in result.output.replace("NOT GENUINE", "")


def test_a_duplicated_key_in_a_nested_object_is_refused(signer):
    receipt = signer.sign(RUN, {"fiscal_year": 2026, "jkk": 1000})
    forged = json.dumps(receipt).replace('"jkk": 1000', '"jkk": 9, "jkk": 1000')
    with pytest.raises(ReceiptError, match="duplicated JSON key"):
        parse_receipt(forged)


def test_a_5000_digit_number_is_refused_in_words(tmp_path, signer):
    text = json.dumps(signer.sign(RUN)).replace('"run_id": 7', '"run_id": ' + "9" * 5000)
    with pytest.raises(ValueError, match="4300"):
        json.loads(text)  # what `receipt verify` met: an uncaught ValueError, a traceback
    with pytest.raises(ReceiptError, match="number too long"):
        parse_receipt(text)
    result = _verify_cli(tmp_path, signer, text)
    assert result.exit_code == 1 and "number too long (5000 digits)" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999999", "1" + "0" * 30])
def test_other_unreadable_numbers_are_refused(signer, value):
    text = json.dumps(signer.sign(RUN)).replace('"rows": 3', f'"rows": {value}')
    with pytest.raises(ReceiptError):
        parse_receipt(text)


def test_a_receipt_handed_in_as_a_dict_holds_bounded_counts(signer):
    receipt = signer.sign(RUN)
    for bad in (10**25, -1, True, 3.0, "3"):
        verdict = verify(dict(receipt, accepted=bad), signer.public)
        assert not verdict.genuine and "malformed" in verdict.reason_en


def test_deeply_nested_json_is_refused_in_words(tmp_path, signer):
    result = _verify_cli(tmp_path, signer, "[" * 100_000 + "]" * 100_000)
    assert result.exit_code == 1 and "nested too deeply" in result.output, result.output
