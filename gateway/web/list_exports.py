"""The `.xlsx` export of every dashboard list (issue 21): feeds, runs, a run's problems, an
agency's workers, budget, coverage, identity conflicts. Each reads what its page reads, with
the page's filters and the user's scope (web/auth.py: another agency's list is not found),
and is written by web/export.py (formula injection neutralised, NIK masked).
"""

from __future__ import annotations

from typing import Any

from flask import abort, request

from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.runtime import gateway
from gateway.store import exports
from gateway.web import pages
from gateway.web.auth import current_user, login_required, readable_or_404, scope
from gateway.web.blueprint import bp
from gateway.web.data import MAX_SQL_INT, agency_name, budget_rows, display_name
from gateway.web.export import Column, attr, key, xlsx_response
from gateway.web.i18n import field_label, tr
from gateway.web.masking import mask_name
from gateway.web.runs_pages import RUN_STATUSES, _filters, _may_read

EXPORT_CHECK_SECONDS = 60.0


def _health_words() -> dict[str, str]:
    return {"failing": tr("gagal", "failing"),
            "attention": tr("perlu perhatian", "needs attention"),
            "stale": tr("terlambat", "stale"), "never": tr("belum pernah jalan", "never ran"),
            "running": tr("berjalan", "running"), "healthy": tr("sehat", "healthy")}


def _run_words() -> dict[str, str]:
    return {"succeeded": tr("berhasil", "succeeded"), "rejected": tr("ditolak", "rejected"),
            "failed": tr("gagal", "failed"), "running": tr("berjalan", "running")}  # fmt: skip


def _category_words() -> dict[str, str]:
    return {"ppnpn": "PPNPN", "honorer": tr("Honorer", "Honorary staff"),
            "pendamping_desa": tr("Pendamping desa", "Village facilitator"),
            "aparat_desa": tr("Aparat desa", "Village official"), "rt_rw": "RT/RW",
            "pekerja_rentan": tr("Pekerja rentan", "Vulnerable worker")}


def _budget_words() -> dict[str, str]:
    return {"no_budget": tr("tanpa anggaran", "no budget"), "shortfall": tr("kurang", "shortfall"),
            "sufficient": tr("cukup", "sufficient"),
            "unchecked": tr("belum dihitung", "not computed")}  # fmt: skip


def _filter_lines(**filters: Any) -> list[tuple[str, str]]:
    return [(tr("Saringan", "Filter") + f" {name}", str(value))
            for name, value in filters.items() if value not in (None, "")]


@bp.get("/feeds.xlsx")
@login_required
def feeds_xlsx() -> Any:
    shown = request.args.get("health")
    feeds = [f for f in pages.readable_feeds() if not shown or f.health == shown]
    health, status = _health_words(), _run_words()
    columns = [
        Column(tr("Kondisi", "Health"), lambda f: health.get(f.health, f.health)),
        Column(tr("Instansi", "Agency"), lambda f: agency_name(f.agency), width=34),
        Column(tr("Kode instansi", "Agency code"), attr("agency"), width=12),
        Column(tr("Sumber", "Source"), lambda f: tr("unggahan roster", "roster uploads")
               if f.source == "upload" else f.source),
        Column(tr("Run terakhir", "Last run"), lambda f: f.last["id"] if f.last else None, "int"),
        Column(tr("Status run terakhir", "Last run's status"),
               lambda f: status.get(f.last["status"]) if f.last else None),
        Column(tr("Mulai run terakhir", "Last run started"),
               lambda f: f.last["started_at"] if f.last else None, "date", 17),
        Column(tr("Terakhir berhasil", "Last success"), attr("last_ok_at"), "date", 17),
        Column(tr("Jadwal (cron, UTC)", "Schedule (cron, UTC)"), attr("schedule")),
        Column(tr("Baris", "Rows"), lambda f: f.last["rows"] if f.last else None, "int"),
        Column(tr("Ditolak", "Rejected"), lambda f: f.last["rejected"] if f.last else None,
               "int"),
        Column(tr("Ditolak (%)", "Rejected (%)"),
               lambda f: None if f.reject_rate is None else 100 * f.reject_rate, "percent"),
    ]
    return xlsx_response("sumber_data.xlsx", columns, feeds, sheet=tr("Sumber data", "Feeds"),
                         about=[(tr("Daftar", "List"), tr("Sumber data", "Feeds")),
                                *_filter_lines(health=shown)])


def _run_columns() -> list[Column]:
    status = _run_words()
    return [
        Column("Run", key("id"), "int", 8),
        Column(tr("Instansi", "Agency"), lambda r: agency_name(r["agency"]), width=34),
        Column(tr("Kode instansi", "Agency code"), key("agency"), width=12),
        Column(tr("Sumber", "Source"), key("source")),
        Column("Status", lambda r: status.get(r["status"], r["status"]), width=12),
        Column(tr("Mulai", "Started"), key("started_at"), "date", 17),
        Column(tr("Selesai", "Finished"), key("finished_at"), "date", 17),
        *(Column(header, key(name), "int") for name, header in (
            ("rows", tr("Baris", "Rows")), ("accepted", tr("Diterima", "Accepted")),
            ("rejected", tr("Ditolak", "Rejected")), ("warnings", tr("Peringatan", "Warnings")),
            ("new", tr("Baru", "New")), ("changed", tr("Berubah", "Changed")),
            ("ended", tr("Diakhiri", "Ended")))),
        Column(tr("Galat", "Error"), key("error"), width=50),
    ]


@bp.get("/runs.xlsx")
@login_required
def runs_xlsx() -> Any:
    agency, source = scope() or request.args.get("agency"), request.args.get("source")
    status = request.args.get("status")
    status = status if status in RUN_STATUSES else None
    rows = exports.runs_list(pages.engine(), agency=agency, source=source, status=status)
    return xlsx_response("run.xlsx", _run_columns(), rows, sheet="Run",
                         about=[(tr("Daftar", "List"), tr("Run (pengiriman dan sinkronisasi)",
                                                          "Runs (submissions and syncs)")),
                                *_filter_lines(agency=agency, source=source, status=status)])


@bp.get("/runs/<int:run_id>/problems.xlsx")
@login_required
def problems_xlsx(run_id: int) -> Any:
    run = gateway().registry.get_run(run_id) if run_id <= MAX_SQL_INT else None
    if run is None or not _may_read(run):
        abort(404)
    filters = _filters()
    severity = {"error": tr("galat", "error"), "warning": tr("peringatan", "warning")}
    columns = [
        Column(tr("Baris", "Row"), key("row"), "int", 8),
        Column(tr("Kolom", "Field"), lambda p: field_label(p["field"]), width=20),
        Column(tr("Kode", "Code"), key("code"), width=22),
        Column(tr("Tingkat", "Severity"), lambda p: severity.get(p["severity"]), width=12),
        Column(tr("Pesan", "Message"), key("message_en" if tr("id", "en") == "en"
                                             else "message_id"), width=80),
    ]
    rows = exports.run_problems(pages.engine(), run_id, filters)
    return xlsx_response(f"masalah_run_{run_id}.xlsx", columns, rows,
                         sheet=tr("Masalah", "Problems"),
                         about=[("Run", str(run_id)), (tr("Instansi", "Agency"),
                                                       agency_name(run["agency"])),
                                *_filter_lines(**filters)])


@bp.get("/agencies/<code>/workers.xlsx")
@login_required
def workers_xlsx(code: str) -> Any:
    try:
        found = resolve_agency(code)
    except UnknownAgency:
        abort(404)
    readable_or_404(found.code)
    status = request.args.get("status", "active")
    status = status if status in ("active", "ended", "all") else "active"
    ring = gateway().registry.keyring
    rows = exports.agency_workers(pages.engine(), found.code, None if status == "all" else status)
    columns = [
        Column("NIK", lambda w: ring.decrypt(w["nik_enc"], "workers.nik"), "nik"),
        Column(tr("Nama (tersamar)", "Name (masked)"),
               lambda w: mask_name(ring.decrypt(w["name_enc"], "workers.name"))),
        Column(tr("L/P", "Sex"), key("gender"), width=6),
        Column(tr("Kategori", "Category"), lambda w: _category_words().get(w["category"],
                                                                             w["category"])),
        Column(tr("Jabatan", "Position"), key("position"), width=28),
        Column(tr("Unit kerja", "Work unit"), key("work_unit"), width=28),
        Column(tr("Upah", "Wage"), key("wage"), "money"),
        Column("TMT", key("start_date"), "date"),
        Column("Status", lambda w: tr("aktif", "active") if w["status"] == "active"
               else tr("diakhiri", "ended"), width=10),
        Column(tr("Tanggal berakhir", "End date"), key("end_date"), "date"),
    ]
    return xlsx_response(f"pekerja_{found.code}.xlsx", columns, rows,
                         sheet=tr("Pekerja", "Workers"),
                         about=[(tr("Instansi", "Agency"), f"{agency_name(found.code)} "
                                 f"({found.code})"), *_filter_lines(status=status)])


@bp.get("/budget.xlsx")
@login_required
def budget_xlsx() -> Any:
    year = pages.fiscal_year()
    shown = request.args.get("status")
    # A spreadsheet is read as complete: the checks the page leaves for a click are computed
    # here, up to EXPORT_CHECK_SECONDS (a million enrollments take about 8 s).
    rows = [r for r in budget_rows(pages.engine(), year, agency=scope(),
                                   auto_seconds=EXPORT_CHECK_SECONDS)
            if not shown or r.status == shown]
    words = _budget_words()

    def checked(name: str) -> Any:
        return lambda r: getattr(r.check, name) if r.check is not None else None

    columns = [
        Column(tr("Pemerintah daerah", "Government"), attr("name"), width=34),
        Column(tr("Kode", "Code"), attr("code"), width=10),
        Column("Status", lambda r: words[r.status], width=16),
        Column(tr("Pekerja aktif", "Active workers"), attr("active"), "int"),
        Column(tr("Alokasi", "Allocation"), attr("allocated"), "money"),
        Column(tr("Sumber alokasi", "Allocation source"),
               lambda r: {"apbd": "APBD", "declared": tr("dideklarasikan", "declared")}.get(
                   r.allocation_source or "")),
        Column(tr("Kewajiban", "Obligation"), checked("obligation"), "money"),
        Column(tr("Kekurangan", "Shortfall"), checked("gap"), "money"),
        Column(tr("Bulan tertutup", "Months covered"), checked("months_covered"), "int"),
        Column(tr("Pekerja tertutup setahun", "Workers covered a full year"),
               checked("workers_covered"), "int"),
    ]
    return xlsx_response(f"anggaran_{year}.xlsx", columns, rows,
                         sheet=tr(f"Anggaran {year}", f"Budget {year}"),
                         about=[(tr("Tahun anggaran", "Fiscal year"), str(year)),
                                *_filter_lines(status=shown),
                                *([(tr("Belum dihitung", "Not computed"), tr(
                                    "Kewajiban pemerintah berstatus 'belum dihitung' tidak "
                                    "sempat dihitung; buka halamannya lalu ekspor lagi.",
                                    "Governments 'not computed' were not checked in time; "
                                    "open their page, then export again."))]
                                  if any(r.check is None for r in rows) else [])])


@bp.get("/coverage.xlsx")
@login_required
def coverage_xlsx() -> Any:
    province = pages.drilled_province()
    table = pages.coverage_tables(province)
    kinds = {"provinces": tr("Provinsi", "Province"), "regencies": tr("Kabupaten/kota",
                                                                      "Regency/city"),
             "agencies": tr("Kementerian/lembaga", "Ministry/agency")}
    rows = [(kinds[kind], r) for kind in ("provinces", "regencies", "agencies")
            for r in table[kind]]
    columns = [
        Column(tr("Jenis", "Kind"), lambda kr: kr[0], width=18),
        Column(tr("Wilayah/instansi", "Region/agency"), lambda kr: display_name(kr[1]["name"]),
               width=34),
        Column(tr("Kode", "Code"), lambda kr: kr[1]["code"], width=10),
        Column(tr("Terdaftar", "Enrolled"), lambda kr: kr[1]["enrolled"], "int"),
        Column("Target", lambda kr: kr[1]["target"], "int"),
        Column(tr("Tahun target", "Target year"), lambda kr: kr[1]["target_year"], "int"),
        Column(tr("Capaian (%)", "Reached (%)"), lambda kr: kr[1]["percent"], "percent"),
        Column(tr("Kekurangan", "Gap"), lambda kr: kr[1]["gap"], "int"),
        Column(tr("Dilaporkan BPJS (%)", "Reported by BPJS (%)"),
               lambda kr: kr[1]["reported_percent"], "percent"),
        Column(tr("Sumber target", "Target source"),
               lambda kr: tr(kr[1]["source"] or "", kr[1].get("source_en") or kr[1]["source"]
                             or ""), width=40),
    ]
    name = f"cakupan_{province}.xlsx" if province else "cakupan.xlsx"
    return xlsx_response(name, columns, rows, sheet=tr("Cakupan", "Coverage"),
                         about=_filter_lines(province=province))


@bp.get("/identity-conflicts.xlsx")
@login_required
def identity_conflicts_xlsx() -> Any:
    user = current_user()
    if user is None or user.agency is not None:
        abort(404)  # national view only, as the page (web/conflicts.py)
    resolved = request.args.get("state") == "resolved"
    agency = (request.args.get("agency") or "").strip()[:32] or None
    ring = gateway().registry.keyring
    rows = exports.identity_conflicts(pages.engine(), resolved=resolved, agency=agency)
    columns = [
        Column(tr("Terdeteksi", "Detected"), key("detected_at"), "date", 17),
        Column("NIK", lambda c: ring.decrypt(c["nik_enc"], "workers.nik"), "nik"),
        Column(tr("Nama terdaftar", "Registered name"),
               lambda c: mask_name(ring.decrypt(c["name_enc"], "workers.name"))),
        Column(tr("Nama yang dikirim", "Name sent"), key("claimed_name")),
        Column(tr("Berbeda", "Differs"),
               lambda c: ", ".join(field_label(f) for f in c["fields"] or [])),
        Column(tr("Instansi yang mengklaim", "Claiming agency"),
               lambda c: agency_name(c["agency"]), width=34),
        Column(tr("Terdaftar di", "Enrolled at"),
               lambda c: ", ".join(agency_name(h) for h in c["holders"] or []), width=40),
        Column(tr("Run pertama", "First run"), key("first_run_id"), "int"),
        Column(tr("Run terakhir", "Last run"), key("last_run_id"), "int"),
        Column(tr("Selesai", "Resolved"), key("resolved_at"), "date", 17),
    ]
    return xlsx_response("konflik_identitas.xlsx", columns, rows,
                         sheet=tr("Konflik identitas", "Identity conflicts"),
                         about=_filter_lines(state="resolved" if resolved else "open",
                                             agency=agency))
