"""The fast paths of row validation and sealing give exactly what the plain code gives:
cached parsers, the NIK check without NikInfo, direct record construction, the precomputed
HMAC states of the blind index and batched nonces."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
import pickle
from datetime import date

import pytest

from gateway.demo.rosters import generate_roster
from gateway.domain import nik as nik_module
from gateway.domain import parsing, validation
from gateway.domain.nik import NikError, NikInfo, parse_nik, read_nik
from gateway.domain.parsing import ParseError
from gateway.domain.records import (
    Category,
    EnrollmentRecord,
    Gender,
    RawRow,
    new_enrollment_record,
)
from gateway.domain.validation import validate_row
from gateway.roster.read.headers import build_alias_index, match_header
from gateway.security.crypto import KeyRing, KeyRingError, generate_keyring

TODAY = date(2025, 6, 1)

# --- parsers: read_* (cached, no exceptions) agree with parse_* ---------------------------------

TEXTS = {
    "date": ["17-08-1990", " 1990/08/17 ", "17 Agustus 1990", "31-02-1990", "17-08-90", "x", ""],
    "money": ["Rp 3.500.000", "3500000.0", "0", "-5", "3.50", "Rp 1.000.000.001", "abc", ""],
    "gender": ["L", " laki  laki ", "Perempuan", "x", ""],
    "category": ["Honorer", "RT/RW", "pendamping-desa", "xx", ""],
}
READERS = {
    "date": (parsing.read_date, parsing.parse_date),
    "money": (parsing.read_money, parsing.parse_money),
    "gender": (parsing.read_gender, parsing.parse_gender),
    "category": (parsing.read_category, parsing.parse_category),
}


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_read_functions_agree_with_the_parsers(kind):
    read, parse = READERS[kind]
    for text in TEXTS[kind] * 2:  # the second time from the cache
        value = read(text)
        try:
            parsed = parse(text)
        except ParseError as error:
            if kind == "money":
                assert value == error.code
            else:
                assert value is None
            assert error.code in parsing.MESSAGES
        else:
            assert value == parsed and value is not None
            assert kind != "money" or isinstance(value, int)


def test_a_parse_error_is_fresh_each_time():
    with pytest.raises(ParseError) as first:
        parsing.parse_category("xx")
    first.value.params["allowed"] = "changed"
    with pytest.raises(ParseError) as second:
        parsing.parse_category("xx")
    assert second.value is not first.value and second.value.params["allowed"] != "changed"


def test_parser_caches_are_bounded():
    for read in (parsing.read_date, parsing.read_money, parsing.read_gender, parsing.read_category):
        assert read.cache_info().maxsize is not None
    for cached in (nik_module._place, nik_module._decode_birth, nik_module._guess_birth_date):
        assert cached.cache_info().maxsize is not None


# --- NIK: read_nik is parse_nik without the NikInfo ---------------------------------------------

NIKS = [
    "1505011708850001",
    "1505015708850002",
    "1505011708050001",  # century from the age rule
    "0005011708850001",  # unknown province
    "1570011708850001",  # impossible regency
    "1505001708850001",  # district 00
    "1505013208850001",  # no such day
    "1505011708850000",  # serial 0000
    "150501170885001",  # 15 digits
    "1.50501E+15",
    " '1505.0117.0885.0001 ",
    "-",
    None,
]


@pytest.mark.parametrize("roster", [None, date(1985, 8, 17), date(2085, 8, 17), date(1990, 1, 1)])
def test_read_nik_agrees_with_parse_nik(roster):
    for value in NIKS * 2:
        info = parse_nik(value, birth_date=roster, today=TODAY)
        quick = read_nik(value, birth_date=roster, today=TODAY)
        if isinstance(info, NikInfo):
            assert quick == (info.nik, info.gender, info.birth_date)
            assert info.regency == f"{info.nik[:2]}.{info.nik[2:4]}"
            assert info.district == f"{info.regency}.{info.nik[4:6]}"
        else:
            assert quick == info


def test_the_roster_birth_date_settles_the_century():
    # 17-08-85 with a roster date in 2085 (a typo, reported as a future date) is that date.
    assert parse_nik("1505011708850001", birth_date=date(2085, 8, 17), today=TODAY).birth_date == (
        date(2085, 8, 17)
    )
    assert parse_nik("1505011708850001", today=TODAY).birth_date == date(1985, 8, 17)


def test_a_cached_nik_error_is_never_shared():
    first = parse_nik("0005011708850001", today=TODAY)
    assert isinstance(first, NikError)
    first.params["prefix"] = "changed"
    again = parse_nik("0005011708850001", today=TODAY)
    assert again.params == {"prefix": "00"}


# --- records: new_enrollment_record is EnrollmentRecord(...) ------------------------------------


def test_new_enrollment_record_builds_the_same_record():
    args = (
        "1505011708850001",
        "Budi",
        date(1985, 8, 17),
        Gender.MALE,
        Category.HONORER,
        3_500_000,
        date(2024, 1, 1),
        None,
        "Dinas",
        "123",
    )
    fast, plain = new_enrollment_record(*args), EnrollmentRecord(*args)
    assert type(fast) is EnrollmentRecord
    assert fast == plain and repr(fast) == repr(plain) and hash(fast) == hash(plain)
    assert pickle.loads(pickle.dumps(fast)) == plain
    assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.name = "Siti"  # type: ignore[misc]
    assert fast.extra == {} and fast.extra is not new_enrollment_record(*args).extra


# --- validate_row: the same results with cold and warm caches ------------------------------------


def _demo_rows(n: int) -> list[RawRow]:
    index = build_alias_index()
    rows = generate_roster(n, seed=11, province="15", error_rate=0.3)
    return [
        RawRow(i + 2, {match_header(k, index): v or None for k, v in row.items()})
        for i, row in enumerate(rows)
    ]


def _clear_caches() -> None:
    for module in (parsing, nik_module, validation):
        for value in vars(module).values():
            if hasattr(value, "cache_clear"):
                value.cache_clear()


def test_validation_does_not_depend_on_what_is_cached():
    rows = _demo_rows(600)
    _clear_caches()
    cold = [validate_row(raw, today=TODAY) for raw in rows]
    warm = [validate_row(raw, today=TODAY) for raw in rows]
    assert [(r.row, r.record, r.problems) for r in cold] == [
        (r.row, r.record, r.problems) for r in warm
    ]
    assert {r.accepted for r in cold} == {True, False}


# --- crypto: the blind index is HMAC-SHA256, encrypt_many is encrypt ------------------------------


@pytest.mark.parametrize("length", [32, 63, 64, 65, 100, 200])
def test_blind_index_is_hmac_sha256(length):
    key = os.urandom(length)
    ring = KeyRing({"k1": os.urandom(32)}, "k1", key)
    for nik in ("3171011708450001", "1505015708850002", "", "é", "9" * 300):
        assert ring.blind_index(nik) == hmac.new(key, nik.encode(), hashlib.sha256).hexdigest()
    # Fixed vector: a change here would orphan every stored index.
    fixed = KeyRing({"k1": bytes(32)}, "k1", bytes(range(100)))
    assert fixed.blind_index("3171011708450001") == (
        hmac.new(bytes(range(100)), b"3171011708450001", hashlib.sha256).hexdigest()
    )


def test_blind_index_is_the_same_across_rings_with_the_same_key():
    ring = generate_keyring("k1")
    again = KeyRing(dict(ring.data_keys), "k1", ring.index_key)
    assert ring.blind_index("3171011708450001") == again.blind_index("3171011708450001")
    other = dataclasses.replace(ring, index_key=os.urandom(32))
    assert other.blind_index("3171011708450001") != ring.blind_index("3171011708450001")


@pytest.mark.parametrize("count", [0, 1, 3, 1030])  # 1030: more than one batch of nonces
def test_encrypt_many_gives_what_encrypt_gives(count):
    ring = generate_keyring("k1")
    values = [f"{3171011708450001 + i}" for i in range(count)]
    stored = ring.encrypt_many(iter(values), "workers.nik")
    assert len(stored) == count
    assert [ring.decrypt(s, "workers.nik") for s in stored] == values
    nonces = set()
    for s in stored:
        kid, _, body = s.partition(":")
        raw = base64.b64decode(body, validate=True)
        assert kid == "k1" and len(raw) == 12 + 16 + 16  # nonce, 16-digit NIK, tag
        nonces.add(raw[:12])
    assert len(nonces) == count
    if count:
        single = ring.encrypt(values[0], "workers.nik")
        assert len(single) == len(stored[0]) and single.startswith("k1:")
        with pytest.raises(KeyRingError, match="does not open"):
            ring.decrypt(stored[0], "workers.name")


@pytest.mark.parametrize(
    ("position", "work_unit"),
    [("Bidan", None), (None, None), ('Staf "Umum" \\ TU', "Dinas Kesehatan\n"), ("Guru é ✓", "")],
)
def test_history_snapshot_template_is_the_json_of_the_facts(position, work_unit) -> None:
    import json

    from gateway.store.sealed import active_snapshot

    facts = {
        "category": "honorer",
        "position": position,
        "work_unit": work_unit,
        "wage": 5_100_000,
        "start_date": "2016-01-01",
        "end_date": None,
        "status": "active",
    }
    snapshot = active_snapshot("honorer", position, work_unit, 5_100_000, "2016-01-01")
    assert snapshot == json.dumps(facts)


def test_worker_processes_do_not_import_sqlalchemy():
    """The fork server preloads `gateway.roster.parallel` for the worker processes: with
    SQLAlchemy in its imports a worker was ready 0.28 s after the pool started instead of
    0.13 s, and the fork server and worker took 54 MB instead of 36 (store/sealed.py)."""
    import subprocess
    import sys

    code = (
        "import sys, gateway.roster.parallel; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
