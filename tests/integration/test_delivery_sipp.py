"""The SIPP upload-file destination end to end on a real registry: `jamsos deliver bpjs-sipp`
derives the mutations and writes the workbooks (read back with openpyxl), staff mark the
batch uploaded, BPJS's answer file puts KPJs and rejections on the right workers, all or
nothing (docs/delivery-sipp.md)."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gateway.delivery import batches
from gateway.delivery.base import AnswerFileError
from gateway.delivery.outbox import derive_all
from gateway.store.delivery_batches import list_batches
from tests.helpers.sipp import (
    AGENCY,
    add_employer,
    answer_xlsx,
    mutation_rows,
    nik_of,
    roster,
    run,
    sipp,
    submit,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def _only_batch(gw) -> dict:
    (batch,) = [b for b in list_batches(gw.engine) if b["state"] != "answered"]
    return batch


def _import(gw, batch_id: int, path: Path, actor: str = "user:siti"):
    return batches.import_answers(gw, sipp(gw), batch_id, path, actor=actor)


def test_workbooks_read_back(gw, tmp_path):
    submit(gw, tmp_path, roster((1, 2, 3), wage=2_750_000))
    add_employer(gw)
    assert run(gw).counts["batches"] == 1
    batch = _only_batch(gw)
    assert batch["state"] == "prepared" and batch["mutations"] == 3
    (path,) = batches.batch_files(gw, batch["id"])
    assert path.name == f"12345678-001_{batch['month']}_tambah-tk-massal.xlsx"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # NIKs in clear: owner only
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ws = load_workbook(path).worksheets[0]
    header = [c.value for c in ws[1]]
    assert len(header) == 33 and header[10] == "NOMOR_IDENTITAS" and header[18] == "UPAH"
    # Empty columns keep their format for what staff type in: a phone number stays text.
    assert header[3] == "NO_HANDPHONE" and ws.column_dimensions["D"].number_format == "@"
    assert ws.column_dimensions["K"].number_format == "@"  # NOMOR_IDENTITAS
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2)]
    assert len(rows) == 3  # one row per mutation
    assert sorted(r["NOMOR_IDENTITAS"].value for r in rows) == sorted(map(nik_of, (1, 2, 3)))
    for r in rows:
        nik = r["NOMOR_IDENTITAS"]
        assert nik.data_type == "s" and nik.number_format == "@"  # text, never a number
        assert r["UPAH"].value == 2_750_000 and r["UPAH"].number_format == "0"
        assert r["TANGGAL_MULAI_KERJA"].value == "01-01-2024"
        assert r["TANGGAL_MULAI_KERJA"].number_format == "@"
        assert r["JENIS_IDENTITAS"].value == "KTP" and r["KEWARGANEGARAAN"].value == "WNI"
        assert r["NAMA_LENGKAP"].value.startswith("Pekerja Nomor")
        assert r["LOKASI_KERJA"].value == "Dinas Kesehatan"


def test_custom_layout_from_settings(gw, tmp_path):
    submit(gw, tmp_path, roster((1, 2)))
    add_employer(gw)
    dest = sipp(gw, date_pattern="%d/%m/%Y", workbooks={"new": {
        "file": "tk-{npp}-{month}.xlsx", "sheet": "Data", "columns": [
            {"header": "No KTP", "field": "nik"},
            {"header": "Nama", "field": "name"},
            {"header": "Tgl Lahir", "field": "birth_date", "format": "excel-date"},
            {"header": "Gaji", "field": "wage", "format": "money-text"},
            {"header": "Mulai", "field": "start_date", "format": "date"},
            {"header": "Kode", "value": "SG"},
        ]}})  # fmt: skip
    run(gw, dest)
    batch = _only_batch(gw)
    (path,) = batches.batch_files(gw, batch["id"])
    assert path.name == f"tk-12345678-{batch['month']}.xlsx"
    ws = load_workbook(path)["Data"]
    assert [c.value for c in ws[1]] == ["No KTP", "Nama", "Tgl Lahir", "Gaji", "Mulai", "Kode"]
    assert ws.max_row == 3
    nik, _, born, wage, start, code = ws[2]
    assert nik.data_type == "s" and nik.number_format == "@"
    assert born.is_date and born.number_format == "dd-mm-yyyy"
    assert wage.value == "3500000" and wage.data_type == "s"
    assert start.value == "01/01/2024" and code.value == "SG"


def test_bad_layout_is_refused_before_any_file(gw):
    from jamsos_bpjs_sipp import LayoutError

    with pytest.raises(LayoutError, match=r"tidak dikenal.*unknown field 'nama'"):
        sipp(gw, workbooks={"new": {"columns": [{"header": "Nama", "field": "nama"}]}})
    with pytest.raises(LayoutError, match="nik must have format text"):
        sipp(gw, workbooks={"wage": {"columns": [{"header": "NIK", "field": "nik",
                                                 "format": "money"}]}})  # fmt: skip


def test_answer_file_round_trips_kpjs_onto_workers(gw, tmp_path):
    submit(gw, tmp_path, roster((1, 2, 3)))
    add_employer(gw)
    run(gw)
    batch = _only_batch(gw)
    assert batches.mark_uploaded(gw, batch["id"], actor="user:siti")[0]
    assert {m["state"] for m in mutation_rows(gw)} == {"sent"}
    answer = answer_xlsx(tmp_path / "hasil.xlsx", [
        [nik_of(2), "26011234567", "Berhasil"],
        [nik_of(1), None, "NIK sudah terdaftar di perusahaan lain"],
        [int(nik_of(3)), 26011234569, None],  # numbers where SIPP's Excel kept them so
    ])  # fmt: skip
    done = _import(gw, batch["id"], answer)
    assert (done.applied, done.accepted, done.rejected, done.waiting) == (True, 2, 1, 0)
    assert batches.get(gw.engine, batch["id"])["state"] == "answered"

    def bpjs(i):
        (e,) = gw.registry.find_worker(nik_of(i))["enrollments"]
        return e["bpjs"]

    # The lookup (CLI, API, dashboard) shows each worker's KPJ and BPJS status.
    assert (bpjs(2)["status"], bpjs(2)["kpj"]) == ("accepted", "26011234567")
    assert (bpjs(3)["status"], bpjs(3)["kpj"]) == ("accepted", "26011234569")
    assert (bpjs(1)["status"], bpjs(1)["kpj"]) == ("rejected", None)
    assert bpjs(1)["reason_code"] == "active_elsewhere"
    rejected = next(m for m in mutation_rows(gw) if m["state"] == "rejected")
    assert rejected["reason_code"] == "active_elsewhere"
    assert rejected["reason_id"].startswith("NIK masih aktif")
    assert "another employer" in rejected["reason_en"]

    again = _import(gw, batch["id"], answer, actor="user:budi")
    assert not again.applied and again.accepted == 2  # recognised: nothing applied twice
    entries = [f for f in batches.get(gw.engine, batch["id"])["files"] if f["kind"] == "answers"]
    assert len(entries) == 1 and entries[0]["by"] == "user:siti"

    # Worker 1 leaves: the next delivery writes a non-aktif workbook with the KPJ BPJS gave.
    submit(gw, tmp_path, roster((1, 3)), name="later")
    run(gw)
    ended = _only_batch(gw)
    (path,) = batches.batch_files(gw, ended["id"])
    assert path.name.endswith("_non-aktif.xlsx")
    ws = load_workbook(path).worksheets[0]
    assert [c.value for c in ws[1]] == ["NO_KPJ", "NIK", "NAMA_LENGKAP", "TANGGAL_NON_AKTIF",
                                        "ALASAN"]  # fmt: skip
    (row,) = list(ws.iter_rows(min_row=2, values_only=True))
    assert row[:2] == ("26011234567", nik_of(2)) and row[4] == "Tidak bekerja lagi"
    assert len(row[3]) == 10 and row[3][2] == "-"  # DD-MM-YYYY


def test_broken_answer_file_applies_nothing(gw, tmp_path):
    submit(gw, tmp_path, roster((1, 2, 3)))
    add_employer(gw)
    run(gw)
    batch = _only_batch(gw)
    batches.mark_uploaded(gw, batch["id"], actor="user:siti")
    answer = tmp_path / "hasil.csv"
    with open(answer, "w", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["NIK", "NO_KPJ", "ALASAN"])
        w.writerow([nik_of(1), "26011234567", ""])  # fine
        w.writerow([nik_of(2), "2601123", ""])  # KPJ not 11 digits
        w.writerow([nik_of(9), "26011234568", ""])  # not in the batch
        w.writerow([nik_of(1), "26011234567", ""])  # answered twice
        w.writerow([nik_of(3), "", ""])  # neither KPJ nor reason
    with pytest.raises(AnswerFileError) as caught:
        _import(gw, batch["id"], answer)
    problems = {(p.row, p.code) for p in caught.value.problems}
    assert problems == {(3, "bad_kpj"), (4, "unknown_nik"), (5, "duplicate_nik"),
                        (6, "missing_reason")}  # fmt: skip
    assert "tidak diterapkan" in str(caught.value) and "not applied" in str(caught.value)
    assert all(p.message_id and p.message_en for p in caught.value.problems)
    assert all(nik_of(i) not in str(caught.value) for i in (1, 2, 3, 9))  # no NIK echoed
    assert {m["state"] for m in mutation_rows(gw)} == {"sent"}
    assert {m["kpj"] for m in mutation_rows(gw)} == {None}
    assert batches.get(gw.engine, batch["id"])["state"] == "uploaded"


def test_mark_uploaded_twice_is_harmless(gw, tmp_path):
    submit(gw, tmp_path, roster((1, 2)))
    add_employer(gw)
    run(gw)
    batch = _only_batch(gw)
    changed, marked = batches.mark_uploaded(gw, batch["id"], actor="user:siti")
    assert changed and marked["state"] == "uploaded" and marked["uploaded_by"] == "user:siti"
    before = [(m["state"], m["sent_at"], m["attempts"]) for m in mutation_rows(gw)]
    changed, marked = batches.mark_uploaded(gw, batch["id"], actor="user:budi")
    assert not changed and marked["uploaded_by"] == "user:siti"
    assert [(m["state"], m["sent_at"], m["attempts"]) for m in mutation_rows(gw)] == before
    assert run(gw).counts.get("batches", 0) == 0  # sent: never in a second batch


def test_reprepare_keeps_one_batch_and_drops_superseded(gw, tmp_path):
    submit(gw, tmp_path, roster((1, 2, 3)))
    add_employer(gw)
    run(gw)
    first = _only_batch(gw)
    assert run(gw).counts.get("batches", 0) == 0  # nothing new: the open batch stays as it is
    # Worker 2's wage is corrected before the upload: its pending `new` is superseded by
    # one with the new wage, which joins the same open batch; the files are written again.
    submit(gw, tmp_path, [*roster((1, 3)), *roster((2,), wage=4_100_000)], name="fix")
    derive_all(gw, [AGENCY])  # derived, not yet prepared: the old files are stale
    with pytest.raises(batches.BatchStateError, match="superseded"):
        batches.mark_uploaded(gw, first["id"], actor="user:siti")
    run(gw)
    again = _only_batch(gw)
    assert again["id"] == first["id"] and again["mutations"] == 3
    assert {f["revision"] for f in again["files"]} == {2}
    (path,) = batches.batch_files(gw, again["id"])
    ws = load_workbook(path).worksheets[0]
    wages = {r[10]: r[18] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert wages == {nik_of(1): 3_500_000, nik_of(2): 4_100_000, nik_of(3): 3_500_000}
    rows = mutation_rows(gw)
    assert [m["batch_id"] for m in rows if m["state"] == "superseded"] == [None]
    assert {m["batch_id"] for m in rows if m["state"] == "pending"} == {first["id"]}
    batches.mark_uploaded(gw, first["id"], actor="user:siti")


def test_answers_before_upload_are_refused(gw, tmp_path):
    submit(gw, tmp_path, roster((1,)))
    add_employer(gw)
    run(gw)
    batch = _only_batch(gw)
    answer = answer_xlsx(tmp_path / "a.xlsx", [[nik_of(1), "26011234567", None]])
    with pytest.raises(batches.BatchStateError, match="not marked uploaded"):
        _import(gw, batch["id"], answer)
    assert {m["state"] for m in mutation_rows(gw)} == {"pending"}


def test_a_failed_prepare_is_visible_and_retried(gw, tmp_path):
    from jamsos_bpjs_sipp import SippDestination

    class DiskFull(SippDestination):
        def write_files(self, employer, month, mutations, folder):
            (folder / "half.xlsx").write_bytes(b"PK")  # a file half written, then the failure
            raise OSError("No space left on device")

    submit(gw, tmp_path, roster((1, 2)))
    add_employer(gw)
    with pytest.raises(OSError, match="No space"):
        run(gw, DiskFull({}))
    batch = _only_batch(gw)
    assert batch["state"] == "writing" and batch["files"] == []
    folder = batches.batch_folder(gw.config["INSTANCE_PATH"], "bpjs-sipp", batch["id"])
    assert not folder.exists() and not list(folder.parent.glob(".batch-*"))  # nothing half-offered
    with pytest.raises(batches.BatchStateError, match="not written completely"):
        batches.batch_files(gw, batch["id"])
    with pytest.raises(batches.BatchStateError, match="never written"):
        batches.mark_uploaded(gw, batch["id"], actor="user:siti")
    assert {m["state"] for m in mutation_rows(gw)} == {"pending"}
    from gateway.store.outbox import list_deliveries

    assert list_deliveries(gw.engine)[0]["status"] == "failed"  # recorded, with the cause
    assert "No space" in list_deliveries(gw.engine)[0]["error"]
    run(gw)  # the next delivery writes the same batch
    again = _only_batch(gw)
    assert again["id"] == batch["id"] and again["state"] == "prepared"
    assert [p.name for p in batches.batch_files(gw, again["id"])] == [again["files"][0]["name"]]
