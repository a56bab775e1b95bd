"""The delivery DAGs' Python API: one DAG per destination (gateway.delivery), as one sync DAG
per source.

    ids = delivery_ids()                      # cheap: entry points and class attributes
    summary = run_delivery("bpjs-h2h", external_id="jamsos_deliver_bpjs-h2h/<run id>")

Nothing here imports Airflow (see gateway.orchestration).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.config import load_config

DELIVERY_DAG_PREFIX = "jamsos_deliver_"
# The monthly cut-off: deliveries also run on the 1st at 08:00 UTC (15:00 WIB), after the
# month's last syncs, even if no sync or upload changed the registry since.
DELIVERY_FLOOR = "0 8 1 * *"
_NO_SECRETS = {"DATA_KEYS": None, "INDEX_KEY": None, "RECEIPT_KEY": None, "DATABASE_URL": None}


def delivery_ids(overrides: Mapping[str, Any] | None = None) -> list[str]:
    """Every configured destination's id; [] while the gateway has no delivery layer."""
    try:
        from gateway.delivery.catalog import destination_ids
    except ImportError:
        return []
    from gateway.sources.loader import make_plugin_manager

    load_config({**_NO_SECRETS, **(overrides or {})})  # a broken config fails the parse here
    return destination_ids(make_plugin_manager())


def run_delivery(
    destination_id: str,
    *,
    external_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Deliver what the registry holds for `destination_id` now, as the gateway records it;
    a JSON-able summary (it becomes an XCom)."""
    from gateway.delivery.run import deliver
    from gateway.orchestration import open_gateway

    with open_gateway(overrides) as gw:
        result = deliver(gw, destination_id, trigger="airflow", external_id=external_id)
    if isinstance(result, Mapping):
        return dict(result)
    if hasattr(result, "summary"):
        return dict(result.summary())
    if hasattr(result, "__dict__"):
        return {k: v for k, v in vars(result).items() if isinstance(v, int | float | str | None)}
    return {"result": str(result)}
