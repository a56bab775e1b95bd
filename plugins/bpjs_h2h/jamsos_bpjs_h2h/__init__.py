"""BPJS Ketenagakerjaan over a host-to-host API: the outbound destination, and a loopback
service that stands in for BPJS in tests, benchmarks and `make run` (docs/bpjs-h2h.md).

    jamsos_bpjs_h2h.destination   BpjsHostToHost, the `bpjs-h2h` destination
    jamsos_bpjs_h2h.signing       the request signature both sides use
    jamsos_bpjs_h2h.server        the loopback service (`python -m jamsos_bpjs_h2h.server`)
    jamsos_bpjs_h2h.ledger        its own log: what it received, registered, acknowledged
    jamsos_bpjs_h2h.rules         its rejection rules and their words
"""

from __future__ import annotations

from typing import Any

from gateway import Destination, hookimpl
from jamsos_bpjs_h2h.destination import BpjsHostToHost

__version__ = "0.1.0"
__all__ = ["BpjsHostToHost"]

DEMO_SECRET = "rahasia-demo-h2h"


@hookimpl
def register_destinations() -> list[type[Destination]]:
    return [BpjsHostToHost]


@hookimpl
def prepare_demo(instance_path: str) -> dict[str, dict[str, Any]]:
    """Start the loopback BPJS service (a daemon thread of this process) with its log in the
    instance folder and the consumer secret in a file, as production reads it (`$file:`).
    It rejects a few of the demo agencies' workers, so the demo shows reasons beside KPJs."""
    import os
    from pathlib import Path

    from jamsos_bpjs_h2h.server import BpjsServer

    folder = Path(instance_path) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    secret = folder / "bpjs_h2h.secret"
    secret.write_text(DEMO_SECRET + "\n")
    os.chmod(secret, 0o600)
    server = BpjsServer(
        folder / "bpjs_h2h_loopback.sqlite",
        rules=demo_rules(),
        consumers={"jamsos-demo": DEMO_SECRET},
    ).start()
    return {
        BpjsHostToHost.id: {
            "url": server.url,
            "consumer_id": "jamsos-demo",
            "secret": f"$file:{secret}",
            "http_backoff": 0.5,
        }
    }


def demo_rules() -> Any:
    """Who the demo's BPJS refuses: the first two workers of the Muaro Jambi and DKI Jakarta
    demo rosters are unknown to the population registry, and Muaro Jambi (15.05) has a demo
    minimum wage of Rp 1,550,000 that its ten lowest-paid honorer fall under (the real UMK is
    about twice that: held to it, most demo honorer would be refused). The rosters are the
    ones `jamsos demo load` enrols (same generator, seeds and regions)."""
    from gateway import Category, generate_roster
    from jamsos_bpjs_h2h.rules import Rules

    unknown: set[str] = set()
    for n, seed, region, error_rate in ((300, 1505, "15.05", 0.03), (500, 31, "31", 0.01)):
        where = {"regency": region} if "." in region else {"province": region}
        rows = generate_roster(n, seed=seed, error_rate=error_rate,
                               category=Category.HONORER, **where)  # fmt: skip
        niks = [row["NIK"] for row in rows if row["NIK"].isdigit() and len(row["NIK"]) == 16]
        unknown.update(niks[:2])
    return Rules(unknown_niks=unknown, minimum_wages={"15.05": 1_550_000})
