"""Delivery to BPJS on the dashboard (issue 17, docs/delivery.md): per employer and month the
mutations by state, the rejected ones with BPJS's reason and what to fix, and the workers no
employer rule takes. A user bound to an agency sees that agency only (web/auth.py)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from gateway.delivery.views import undeliverable_workers
from gateway.runtime import gateway
from gateway.store.mutations import employer_month_counts, rejected_page
from gateway.web.auth import login_required, scope
from gateway.web.blueprint import bp
from gateway.web.data import id_arg
from gateway.web.export import Column, key, xlsx_response
from gateway.web.i18n import tr
from gateway.web.masking import mask_name, mask_nik

PAGE = 50
KINDS = {"new": ("pendaftaran baru", "new registration"), "wage": ("perubahan upah", "wage"),
         "identity": ("koreksi identitas", "identity correction"),
         "ended": ("non-aktif", "deactivation")}  # fmt: skip


def _rejected(before: int | None, limit: int) -> list[dict[str, Any]]:
    gw = gateway()
    rows = rejected_page(gw.registry.engine, agency=scope(), before=before, limit=limit)
    for r in rows:  # only the rows shown are decrypted, and only to be masked
        r["nik"] = mask_nik(gw.keyring.decrypt(r.pop("nik_enc"), "workers.nik"))
        r["name"] = mask_name(gw.keyring.decrypt(r.pop("name_enc"), "workers.name"))
        r["kind_text"] = tr(*KINDS.get(r["kind"], (r["kind"], r["kind"])))
    return rows


@bp.get("/delivery")
@login_required
def delivery_page() -> Any:
    gw = gateway()
    rejected = _rejected(id_arg("before"), PAGE + 1)
    return render_template(
        "delivery.html", months=employer_month_counts(gw.registry.engine, scope()),
        rejected=rejected[:PAGE], more=len(rejected) > PAGE,
        undeliverable=undeliverable_workers(gw, scope(), limit=PAGE),
    )  # fmt: skip


@bp.get("/delivery/rejected.xlsx")
@login_required
def delivery_rejected_xlsx() -> Any:
    columns = [
        Column(tr("Bulan", "Month"), key("month")),
        Column(tr("Instansi", "Agency"), key("agency")),
        Column("NPP", key("npp")),
        Column("NIK", key("nik")),
        Column(tr("Nama", "Name"), key("name")),
        Column(tr("Jenis", "Kind"), key("kind_text")),
        Column(tr("Kode", "Code"), key("reason_code")),
        Column(tr("Alasan dan tindakan", "Reason and what to do"),
               key("reason_id" if tr("id", "en") == "id" else "reason_en")),
    ]  # fmt: skip
    return xlsx_response("mutasi-ditolak.xlsx", columns, _rejected(None, 100_000),
                         sheet=tr("Ditolak", "Rejected"))  # fmt: skip
