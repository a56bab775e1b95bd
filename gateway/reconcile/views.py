"""What people read of a reconciliation (CLI, API, dashboard): differences with the NIK
masked, the figures per government, each NPP's arrears; and the alerts it raises."""

from __future__ import annotations

from typing import Any

from gateway.alerts import raise_alert
from gateway.domain.nik import mask_nik
from gateway.reconcile.differences import KINDS
from gateway.reconcile.report import Reconciliation
from gateway.store import bpjs_feeds
from gateway.store.mutations import worker_niks
from gateway.store.reconcile import last_figures, save_figures


def difference_rows(gw: Any, rec: Reconciliation, *, agency: str | None = None,
                    kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:  # fmt: skip
    """Differences in a stable order (kind, agency), NIK masked; only the rows shown are
    decrypted, and only to be masked."""
    rows = [d for d in rec.findings.differences
            if (agency is None or d["agency"] == agency) and (kind is None or d["kind"] == kind)]
    rows = sorted(rows, key=lambda d: (list(KINDS).index(d["kind"]), d["agency"] or "",
                                       d.get("enrollment_id") or 0, d.get("member_id") or 0))
    rows = [dict(d) for d in rows[:limit]]
    with gw.engine.connect() as conn:
        workers = worker_niks(conn, [d["worker_id"] for d in rows if d.get("worker_id")])
    members = bpjs_feeds.member_identities(gw.engine, [d["member_id"] for d in rows
                                                       if d.get("member_id")])  # fmt: skip
    for d in rows:
        sealed = workers.get(d.get("worker_id")) if d.get("worker_id") else None
        column = "workers.nik"
        if sealed is None and d.get("member_id") in members:
            sealed, column = members[d["member_id"]][0], "bpjs_members.nik"
        d["nik_masked"] = mask_nik(gw.keyring.decrypt(sealed, column)) if sealed else None
    return rows


def figures(rec: Reconciliation) -> dict[str, Any]:
    """Rostered / registered / covered per agency and province, and per NPP its arrears."""
    return {
        "today": rec.today.isoformat(),
        "agencies": {a: f.as_dict() for a, f in sorted(rec.findings.agencies.items())},
        "provinces": {p: f.as_dict() for p, f in sorted(rec.findings.provinces.items())},
        "differences": rec.findings.counts(),
        "employers": [rec.employer_status(npp) for npp in sorted({r.npp for r in rec.rules})],
    }


def raise_reconcile_alerts(gw: Any, rec: Reconciliation) -> list[str]:
    """Overdue bills, wadah memberships about to lapse (or lapsed), and registered-but-not-
    covered counts rising since the last reconciliation; through the alert hook. Returns the
    kinds delivered now (each alert once per key)."""
    wanted = [*_arrears_alerts(rec), *_coverage_alerts(gw, rec)]
    return [a["kind"] for a in wanted if raise_alert(gw, **a)]


def _rupiah(n: int) -> str:
    return f"Rp {n:,}".replace(",", ".")


def _arrears_alerts(rec: Reconciliation) -> list[dict[str, Any]]:
    agency_of = {r.npp: r.agency for r in rec.rules}
    out: list[dict[str, Any]] = []
    for npp in sorted(agency_of):
        s = rec.employer_status(npp)
        if not s["billed"]:
            continue
        base = {"agency": agency_of[npp], "details": {"npp": npp}}
        if s["months_owed"]:
            days = s["days_overdue"]
            out.append({**base, "kind": "bill_overdue",
                        "severity": "error" if days > 30 else "warning",
                        "title_id": f"Tagihan BPJS NPP {npp} lewat jatuh tempo {days} hari: "
                                    f"{_rupiah(s['owed'])}",
                        "title_en": f"BPJS bill of NPP {npp} overdue {days} days: "
                                    f"{_rupiah(s['owed'])}",
                        "details": {"npp": npp, "owed": s["owed"], "months": s["months_owed"],
                                    "days_overdue": days},
                        "key": f"bill_overdue:{npp}:{s['months_owed']}"})  # fmt: skip
        if s["lapsed_from"]:
            out.append({**base, "kind": "membership_lapsed", "severity": "error",
                        "title_id": f"Kepesertaan wadah {npp} berakhir sejak {s['lapsed_from']} "
                                    "(3 bulan tidak dibayar)",
                        "title_en": f"Wadah {npp} membership lapsed from {s['lapsed_from']} "
                                    "(3 months unpaid)",
                        "key": f"membership_lapsed:{npp}:{s['lapsed_from']}"})  # fmt: skip
        elif s["warnings"]:
            out.append({**base, "kind": "lapse_coming", "severity": "warning",
                        "title_id": f"Wadah {npp}: 2 bulan belum dibayar; bulan depan "
                                    "kepesertaan berakhir",
                        "title_en": f"Wadah {npp}: 2 months unpaid; membership lapses next "
                                    "month",
                        "key": f"lapse_coming:{npp}:{s['warnings'][-1]}"})  # fmt: skip
    return out


def _coverage_alerts(gw: Any, rec: Reconciliation) -> list[dict[str, Any]]:
    """Registered-but-not-covered per agency, against the last reconciliation's; the figures
    are saved for the next one and for /metrics."""
    now = figures(rec)
    before = (last_figures(gw.engine) or {}).get("agencies", {})
    save_figures(gw.engine, now)
    out = []
    for agency, f in now["agencies"].items():
        gap, was = f["registered"] - f["covered"], before.get(agency)
        if was is None or gap <= was["registered"] - was["covered"]:
            continue
        out.append({"kind": "not_covered_rising", "severity": "warning", "agency": agency,
                    "title_id": f"{agency}: terdaftar tetapi tidak terlindungi naik menjadi {gap}",
                    "title_en": f"{agency}: registered but not covered rose to {gap}",
                    "details": {"registered": f["registered"], "covered": f["covered"]},
                    "key": f"not_covered_rising:{agency}:{gap}"})  # fmt: skip
    return out
