"""Reading BPJS's answer file on its own (real .xlsx and .csv files, no registry): the
columns SIPP's exports vary in, and every way a line can be wrong."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from jamsos_bpjs_sipp import SippDestination
from openpyxl import Workbook

from gateway import AnswerFileError, Employer, OutgoingMutation, make_nik

EMPLOYER = Employer(id=1, agency="15.05", kind="npp", npp="12345678", division="001")
NIKS = [make_nik("15.05", date(1990, 1, 1 + i), "L", serial=i + 1) for i in range(3)]


def _mutation(i: int, kind: str = "new") -> OutgoingMutation:
    return OutgoingMutation(key=f"{kind}-{i}", kind=kind, month="2026-12", employer=EMPLOYER,
                            nik=NIKS[i], name=f"Pekerja {i}", birth_date=date(1990, 1, 1),
                            gender="L", wage=3_000_000, start_date=date(2024, 1, 1),
                            kpj="26010000001" if kind != "new" else None)  # fmt: skip


def _csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "jawaban.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_status_and_kind_columns_pick_the_mutation(tmp_path):
    batch = [_mutation(0), _mutation(0, "wage"), _mutation(1)]
    path = _csv(tmp_path, f"NIK,Jenis,Status,No KPJ,Keterangan\n"
                          f"{NIKS[0]},Tambah TK,Berhasil,26011111111,\n"
                          f"{NIKS[0]},Upah,Berhasil,,\n"
                          f"{NIKS[1]},Tambah TK,Gagal,,Upah di bawah UMK\n")  # fmt: skip
    acks = {a.key: a for a in SippDestination().read_answers(path, mutations=batch)}
    assert acks["new-0"].outcome == "accepted" and acks["new-0"].kpj == "26011111111"
    assert acks["wage-0"].outcome == "accepted" and acks["wage-0"].kpj == "26010000001"
    assert acks["new-1"].outcome == "rejected" and acks["new-1"].reason_code == "wage_below_minimum"
    assert "BPJS: Upah di bawah UMK" in acks["new-1"].reason_id


def test_unknown_reason_kept_in_bpjs_words(tmp_path):
    path = _csv(tmp_path, f"NIK;ALASAN\n{NIKS[0]};Format tanggal salah\n", "cp1252")
    (ack,) = SippDestination().read_answers(path, mutations=[_mutation(0)])
    assert ack.reason_code == "sipp_other" and ack.reason_id == "Ditolak BPJS: Format tanggal salah"


def test_every_bad_line_is_named(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["NIK", "KPJ", "STATUS", "JENIS"])
    ws.append(["123", None, None, None])  # row 2: NIK not 16 digits
    ws.append([NIKS[0], None, "Berhasil", None])  # row 3: accepted new worker without a KPJ
    ws.append([NIKS[1], "2601111111A", None, None])  # row 4: KPJ not digits
    ws.append([NIKS[2], None, "Mungkin", "Pindah"])  # row 5: unknown status and kind
    ws.append([None, None, None, None])  # blank lines are skipped
    path = tmp_path / "jawaban.xlsx"
    wb.save(path)
    batch = [_mutation(i) for i in range(3)]
    with pytest.raises(AnswerFileError) as caught:
        SippDestination().read_answers(path, mutations=batch)
    assert sorted((p.row, p.code) for p in caught.value.problems) == [
        (2, "bad_nik"), (3, "missing_kpj"), (4, "bad_kpj"), (5, "unknown_kind"),
        (5, "unknown_status")]  # fmt: skip


def test_unreadable_or_headerless_files_are_refused(tmp_path):
    broken = tmp_path / "rusak.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(AnswerFileError) as caught:
        SippDestination().read_answers(broken, mutations=[_mutation(0)])
    assert caught.value.problems[0].code == "answer_unreadable"
    headerless = _csv(tmp_path, "A,B\n1,2\n")
    with pytest.raises(AnswerFileError) as caught:
        SippDestination().read_answers(headerless, mutations=[_mutation(0)])
    assert caught.value.problems[0].code == "answer_no_header"
    empty = _csv(tmp_path, "NIK,KPJ\n")
    with pytest.raises(AnswerFileError, match="1 masalah"):
        SippDestination().read_answers(empty, mutations=[_mutation(0)])


def test_answer_headers_from_settings(tmp_path):
    dest = SippDestination({"answers": {"nik": ["NO_IDENTITAS_TK"], "kpj": ["NOMOR_PESERTA"]}})
    path = _csv(tmp_path, f"NO_IDENTITAS_TK,NOMOR_PESERTA\n{NIKS[0]},26012222222\n")
    (ack,) = dest.read_answers(path, mutations=[_mutation(0)])
    assert ack.kpj == "26012222222"


def test_a_workbook_that_unpacks_too_large_is_refused(tmp_path, monkeypatch):
    from jamsos_bpjs_sipp import answers

    wb = Workbook()
    wb.active.append(["NIK", "KPJ"])
    wb.active.append([NIKS[0], "26011111111"] + ["x" * 1000] * 200)
    path = tmp_path / "besar.xlsx"
    wb.save(path)
    monkeypatch.setattr(answers, "MAX_UNZIPPED", 100_000)  # the real cap is 512 MB
    with pytest.raises(AnswerFileError) as caught:
        SippDestination().read_answers(path, mutations=[_mutation(0)])
    (problem,) = caught.value.problems
    assert problem.code == "answer_unreadable" and "unpacks to" in problem.message_en
