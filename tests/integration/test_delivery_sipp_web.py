"""The SIPP upload files through the dashboard (Flask test client, real SQLite) and the
`jamsos deliver` commands: download, mark uploaded, import the answer file."""

from __future__ import annotations

import io
import stat

from openpyxl import load_workbook

from gateway.cli.deliver import deliver_group
from gateway.store.delivery_batches import list_batches
from gateway.store.users import create_user
from tests.helpers.sipp import add_employer, answer_xlsx, mutation_rows, nik_of, roster, run, submit
from tests.helpers.web import PASSWORD, csrf_of, log_in


def _prepared(app, tmp_path) -> tuple[int, str]:
    gw = app.extensions["jamsos"]
    with app.app_context():
        submit(gw, tmp_path, roster((1, 2)))
        add_employer(gw)
        run(gw)
        (batch,) = list_batches(gw.engine)
        create_user(gw.engine, "ops", PASSWORD, role="operator")
        create_user(gw.engine, "lihat", PASSWORD, role="viewer")
    return batch["id"], batch["files"][0]["name"]


def test_download_mark_uploaded_and_answer_upload(app, client, tmp_path):
    batch_id, name = _prepared(app, tmp_path)
    assert log_in(client, "ops").status_code == 302
    page = client.get("/dashboard/delivery/files")
    assert page.status_code == 200 and f'id="batch-{batch_id}"' in page.text
    assert "Sudah diunggah" in page.text and name in page.text
    english = client.get("/dashboard/delivery/files?lang=en")
    assert "Mark uploaded" in english.text and "SIPP upload files" in english.text
    client.get("/dashboard/delivery/files?lang=id")  # the choice sticks: back to Indonesian

    got = client.get(f"/dashboard/delivery/files/{batch_id}/{name}")
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(got.data)).worksheets[0]
    assert {r[10] for r in ws.iter_rows(min_row=2, values_only=True)} == {nik_of(1), nik_of(2)}
    assert client.get(f"/dashboard/delivery/files/{batch_id}/..%2Fkeys.json").status_code == 404

    token = csrf_of(page.text)
    assert client.post(f"/dashboard/delivery/files/{batch_id}/uploaded").status_code == 400
    marked = client.post(f"/dashboard/delivery/files/{batch_id}/uploaded",
                         data={"csrf_token": token}, follow_redirects=True)  # fmt: skip
    assert 'id="files-marked"' in marked.text and "ditandai sudah diunggah" in marked.text
    again = client.post(f"/dashboard/delivery/files/{batch_id}/uploaded",
                        data={"csrf_token": token}, follow_redirects=True)  # fmt: skip
    assert "sudah ditandai diunggah sebelumnya" in again.text
    gw = app.extensions["jamsos"]
    with app.app_context():
        assert {m["state"] for m in mutation_rows(gw)} == {"sent"}
        (batch,) = list_batches(gw.engine)
        assert batch["uploaded_by"] == "user:ops"

    bad = answer_xlsx(tmp_path / "bad.xlsx", [[nik_of(1), "123", None]])
    refused = client.post(f"/dashboard/delivery/files/{batch_id}/answers", data={
        "csrf_token": token, "answers": (io.BytesIO(bad.read_bytes()), "hasil.xlsx")})  # fmt: skip
    assert refused.status_code == 422 and 'id="answer-problems"' in refused.text
    assert "baris 3" in refused.text and "KPJ harus 11 angka" in refused.text
    good = answer_xlsx(tmp_path / "good.xlsx", [[nik_of(1), "26011234567", None],
                                                [nik_of(2), None, "Upah di bawah UMK"]])
    done = client.post(f"/dashboard/delivery/files/{batch_id}/answers", data={
        "csrf_token": token, "answers": (io.BytesIO(good.read_bytes()), "hasil.xlsx")})  # fmt: skip
    assert done.status_code == 200 and "diterima 1, ditolak 1" in done.text
    with app.app_context():
        states = {m["state"]: m for m in mutation_rows(gw)}
        assert states["accepted"]["kpj"] == "26011234567"
        assert states["rejected"]["reason_code"] == "wage_below_minimum"


def test_viewers_see_batches_but_not_the_files(app, client, tmp_path):
    batch_id, name = _prepared(app, tmp_path)
    log_in(client, "lihat")
    page = client.get("/dashboard/delivery/files")
    assert page.status_code == 200 and f'id="batch-{batch_id}"' in page.text
    assert "hanya operator" in page.text and "mark-uploaded" not in page.text
    assert client.get(f"/dashboard/delivery/files/{batch_id}/{name}").status_code == 403
    token = csrf_of(client.get("/dashboard/login").text)
    assert client.post(f"/dashboard/delivery/files/{batch_id}/uploaded",
                       data={"csrf_token": token}).status_code == 403  # fmt: skip


def test_cli_download_uploaded_answers(app, tmp_path):
    batch_id, name = _prepared(app, tmp_path)
    runner = app.test_cli_runner()
    listed = runner.invoke(deliver_group, ["batches"])
    assert listed.exit_code == 0 and f"#{batch_id}" in listed.output and name in listed.output
    out = tmp_path / "unduh"
    got = runner.invoke(deliver_group, ["download", str(batch_id), "--to", str(out)])
    assert got.exit_code == 0, got.output
    assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    clash = runner.invoke(deliver_group, ["download", str(batch_id), "--to", str(out)])
    assert clash.exit_code == 1 and "--force" in clash.output  # never overwritten unasked
    first = runner.invoke(deliver_group, ["uploaded", str(batch_id)])
    assert first.exit_code == 0 and "marked uploaded" in first.output
    second = runner.invoke(deliver_group, ["uploaded", str(batch_id)])
    assert second.exit_code == 0 and "nothing changed" in second.output
    bad = answer_xlsx(tmp_path / "bad.xlsx", [[nik_of(7), "26011234567", None]])
    refused = runner.invoke(deliver_group, ["answers", str(batch_id), str(bad)])
    assert refused.exit_code == 1 and "line 3" in refused.output
    good = answer_xlsx(tmp_path / "good.xlsx", [[nik_of(1), "26011234567", None],
                                                [nik_of(2), "26011234568", None]])
    done = runner.invoke(deliver_group, ["answers", str(batch_id), str(good)])
    assert done.exit_code == 0 and "accepted 2" in done.output
    again = runner.invoke(deliver_group, ["answers", str(batch_id), str(good)])
    assert again.exit_code == 0 and "imported before" in again.output
    assert runner.invoke(deliver_group, ["uploaded", "999"]).exit_code == 1
