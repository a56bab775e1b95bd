"""The delivery DAGs' Python API: one DAG per destination (gateway.delivery), as one sync DAG
per source.

    ids = delivery_ids()                      # cheap: entry points and class attributes
    summary = run_delivery("bpjs-h2h", external_id="jamsos_deliver_bpjs-h2h/<run id>")
    # = gateway.delivery.outbox.deliver(gw, "bpjs-h2h", trigger="airflow", external_id=...)

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
    """Every configured destination: registered by a plugin and given a `[destinations.<id>]`
    table (config/destinations.toml or $JAMSOS_DESTINATIONS_FILE; an empty table will do). An
    installed plugin whose destination nobody configured gets no DAG: it could only fail.
    [] while the gateway has no delivery layer. Reads no secret, opens no connection."""
    try:
        from gateway.delivery.catalog import destination_ids, load_destination_settings
    except ImportError:
        return []
    from gateway.sources.loader import make_plugin_manager

    config = load_config({**_NO_SECRETS, **(overrides or {})})
    configured = load_destination_settings(config)
    return [d for d in destination_ids(make_plugin_manager()) if d in configured]


class DeliveryFailed(Exception):
    """A delivery did not succeed; it is recorded already (deliveries table). Worth retrying:
    the counterpart was down past its retries, or another delivery held an employer."""

    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        super().__init__(
            f"delivery to {summary['destination']} {summary['status']} (delivery "
            f"{summary.get('delivery_id')}): {summary.get('error') or 'see the delivery'}"
        )


def run_delivery(
    destination_id: str,
    *,
    external_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Deliver what is due for `destination_id` now, as `jamsos deliver DESTINATION` does
    (gateway.delivery.outbox.deliver); its JSON-able summary (it becomes an XCom).

    Raises DeliveryFailed, after the delivery is recorded, when it failed or was refused
    (another delivery holds the employers): Airflow retries it, and alerts after the last try.
    """
    from gateway.delivery.outbox import deliver
    from gateway.orchestration import open_gateway

    with open_gateway(overrides) as gw:
        gw.ensure_ready()  # the schema migrated (SQLite) or checked, as a sync's run does
        result = deliver(gw, destination_id, trigger="airflow", external_id=external_id)
    summary = result.as_dict()
    summary["external_id"] = external_id
    if summary["status"] != "succeeded":
        raise DeliveryFailed(summary)
    return summary
