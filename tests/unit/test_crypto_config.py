"""Field encryption, blind index, key ring parsing and the configuration layers."""

from __future__ import annotations

import os
import stat

import pytest

from gateway.config import ConfigError, load_config
from gateway.security.crypto import (
    KeyRingError,
    generate_keyring,
    load_keyring,
    parse_keyring,
)


def test_encrypt_decrypt_round_trip_and_key_id_prefix():
    ring = generate_keyring("k1")
    stored = ring.encrypt("3171011708450001", "workers.nik")
    assert stored.startswith("k1:") and "3171011708450001" not in stored
    assert ring.decrypt(stored, "workers.nik") == "3171011708450001"
    # Fresh nonce each time: equal plaintexts do not give equal ciphertexts.
    assert ring.encrypt("3171011708450001", "workers.nik") != stored


def test_a_value_moved_to_another_column_does_not_decrypt():
    ring = generate_keyring()
    stored = ring.encrypt("Siti", "workers.name")
    with pytest.raises(KeyRingError, match="does not open"):
        ring.decrypt(stored, "workers.nik")


def test_old_keys_stay_readable_after_adding_a_new_primary():
    old = generate_keyring("old")
    stored = old.encrypt("Budi", "workers.name")
    env = old.to_env()
    new_key = generate_keyring("new").to_env()["JAMSOS_DATA_KEYS"]
    rotated = parse_keyring(f"{new_key},{env['JAMSOS_DATA_KEYS']}", env["JAMSOS_INDEX_KEY"])
    assert rotated.primary == "new"
    assert rotated.decrypt(stored, "workers.name") == "Budi"
    assert rotated.encrypt("Budi", "workers.name").startswith("new:")


def test_wrong_key_is_a_clear_error_not_garbage():
    stored = generate_keyring("k1").encrypt("Budi", "workers.name")
    with pytest.raises(KeyRingError, match="does not open"):
        generate_keyring("k1").decrypt(stored, "workers.name")
    with pytest.raises(KeyRingError, match="not in the key ring"):
        generate_keyring("k2").decrypt(stored, "workers.name")


def test_blind_index_is_keyed_and_stable():
    ring = generate_keyring()
    assert ring.blind_index("3171011708450001") == ring.blind_index("3171011708450001")
    assert ring.blind_index("3171011708450001") != generate_keyring().blind_index(
        "3171011708450001"
    )


@pytest.mark.parametrize(
    ("data_keys", "message"),
    [
        ("", "no data key"),
        ("nocolon", "KEYID:BASE64"),
        ("k1:!!!", "base64"),
        ("k1:c2hvcnQ=", "32 bytes"),
    ],
)
def test_malformed_keys_are_refused(data_keys, message):
    index = generate_keyring().to_env()["JAMSOS_INDEX_KEY"]
    with pytest.raises(KeyRingError, match=message):
        parse_keyring(data_keys, index)


def test_first_start_creates_a_private_key_file_and_reuses_it(tmp_path, capsys):
    config = {"INSTANCE_PATH": str(tmp_path), "DATA_KEYS": None, "INDEX_KEY": None}
    ring, notice = load_keyring(config)
    assert notice and "keys.json" in notice
    assert "keys.json" in capsys.readouterr().err
    mode = stat.S_IMODE(os.stat(tmp_path / "keys.json").st_mode)
    assert mode == 0o600
    again, notice2 = load_keyring(config)
    assert notice2 is None and again.fingerprint() == ring.fingerprint()


def test_processes_starting_at_once_share_the_key_file_one_of_them_wrote(tmp_path, monkeypatch):
    from gateway.security import crypto

    config = {"INSTANCE_PATH": str(tmp_path), "DATA_KEYS": None, "INDEX_KEY": None}
    real, others = crypto.generate_keyring, []

    def meanwhile(key_id=None):  # another process writes the key file while this one generates
        if not others:
            others.append(None)
            others[0] = crypto.load_keyring(config)[0]
        return real(key_id)

    monkeypatch.setattr(crypto, "generate_keyring", meanwhile)
    ring, notice = load_keyring(config)
    assert ring.fingerprint() == others[0].fingerprint()  # theirs, not a second key
    assert notice is None  # this process created nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]  # no temporary left


def test_without_hard_links_the_key_file_is_created_directly(tmp_path, monkeypatch):
    def no_links(*_args):
        raise PermissionError(1, "Operation not permitted")  # vfat, some network shares

    monkeypatch.setattr(os, "link", no_links)
    config = {"INSTANCE_PATH": str(tmp_path), "DATA_KEYS": None, "INDEX_KEY": None}
    ring, notice = load_keyring(config)
    assert notice is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]
    assert stat.S_IMODE(os.stat(tmp_path / "keys.json").st_mode) == 0o600
    assert load_keyring(config)[0].fingerprint() == ring.fingerprint()


def test_a_key_file_still_being_written_is_read_once_complete(tmp_path):
    import json
    import threading

    config = {"INSTANCE_PATH": str(tmp_path), "DATA_KEYS": None, "INDEX_KEY": None}
    env = generate_keyring("k1").to_env()
    path = tmp_path / "keys.json"
    path.write_text("")  # created by another process, not yet written

    def finish() -> None:
        path.write_text(json.dumps({"data_keys": env["JAMSOS_DATA_KEYS"],
                                    "index_key": env["JAMSOS_INDEX_KEY"]}))  # fmt: skip

    writer = threading.Timer(0.1, finish)
    writer.start()
    ring, notice = load_keyring(config)
    writer.join()
    assert notice is None and ring.primary == "k1"


def test_config_layers_and_secret_references(tmp_path, monkeypatch):
    toml = tmp_path / "gateway.toml"
    toml.write_text(
        '[gateway]\nbatch_size = 77\nindex_key = "$env:MY_INDEX"\n'
        f'data_keys = "$file:{tmp_path / "dk"}"\n'
    )
    (tmp_path / "dk").write_text("k1:abc\n")
    monkeypatch.setenv("MY_INDEX", "secret-index")
    monkeypatch.setenv("JAMSOS_MAX_UPLOAD_MB", "5")
    config = load_config({"CONFIG_FILE": str(toml), "INSTANCE_PATH": str(tmp_path)})
    assert config["BATCH_SIZE"] == 77
    assert config["MAX_UPLOAD_MB"] == 5
    assert config["INDEX_KEY"] == "secret-index" and config["DATA_KEYS"] == "k1:abc"
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'jamsos.db'}"


def test_config_errors_name_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("JAMSOS_BATCH_SIZE", "lots")
    with pytest.raises(ConfigError, match="BATCH_SIZE"):
        load_config({"CONFIG_FILE": None})
    monkeypatch.delenv("JAMSOS_BATCH_SIZE")
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE"):
        load_config({"CONFIG_FILE": None, "INDEX_KEY": "$env:NOT_SET_ANYWHERE"})

