"""The scheduler's side of reconciliation (docs/reconcile.md): `jamsos_reconcile` runs
`jamsos reconcile run` when BPJS's facts changed (a membership list, bills or payments
synced: their assets) and monthly after the due date, at the latest."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from gateway.orchestration.plan import asset_uri, publishes

# The BPJS feeds' kinds (gateway/reconcile/feeds.py FEED_KINDS), named here so that parsing
# the DAG file imports nothing of the reconciliation.
FEED_KINDS = ("bpjs_members", "bpjs_bills", "bpjs_payments")
# The 17th, 03:00 UTC: after the 15th's due date, or the Monday after when the 15th falls on
# a weekend (docs/domain.md §7).
RECONCILE_FLOOR = "0 3 17 * *"


def reconcile_assets() -> list[tuple[str, str]]:
    """(name, uri) of the assets the BPJS feeds' syncs publish."""
    return [(publishes(kind), asset_uri(publishes(kind))) for kind in FEED_KINDS]


def run_reconcile(*, today: date | None = None,
                  overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Reconcile, save the figures (for /metrics) and raise the alerts; the summary for
    Airflow's XCom (counts only, no NIK)."""
    from gateway import clock
    from gateway.orchestration import open_gateway
    from gateway.reconcile.report import reconciliation
    from gateway.reconcile.views import figures, raise_reconcile_alerts

    with open_gateway(overrides) as gw:
        rec = reconciliation(gw, today=today or clock.today())
        alerts = raise_reconcile_alerts(gw, rec)
        out = figures(rec)
        return {"today": out["today"], "differences": out["differences"],
                "agencies": len(out["agencies"]), "alerts": alerts,
                "owed_npps": sum(1 for e in out["employers"] if e.get("months_owed"))}
