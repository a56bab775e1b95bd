"""The demo's BPJS side: each demo agency registered as an employer with a made-up NPP, and a
delivery to the loopback BPJS service (`jamsos demo load`, `make run`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from gateway.delivery.employers import EmployerError, EmployerRule, register_employer
from gateway.store.dashboard import enrollment_counts
from gateway.store.employers import list_employers


def demo_npp(agency: str) -> str:
    """A stable made-up NPP for a demo agency (8 digits, starting 99: no real employer)."""
    return "99" + str(int(hashlib.sha256(agency.encode()).hexdigest(), 16))[:6]


def register_demo_employers(gw: Any, destination: str) -> list[EmployerRule]:
    """Map every agency with workers and no employer yet to one NPP (division 001) delivered
    by `destination`; the agencies already mapped keep their mapping."""
    mapped = {row["agency"] for row in list_employers(gw.engine)}
    made = []
    for agency in sorted(enrollment_counts(gw.engine)):
        if agency in mapped:
            continue
        try:
            made.append(register_employer(
                gw, agency=agency, kind="npp", npp=demo_npp(agency), division="001",
                segment=None, work_unit=None, destination=destination,
                name=f"Demo {agency}", actor="demo"))  # fmt: skip
        except EmployerError:
            continue  # an agency code the demo cannot map: left out, said by `employers list`
    return made


def deliver_demo(gw: Any, settings: dict[str, dict[str, Any]]) -> Iterable[str]:
    """Deliver to each destination a plugin's `prepare_demo` started; lines to print."""
    from gateway.delivery.catalog import collect_destinations, make_destination
    from gateway.delivery.outbox import deliver

    pm = gw.plugins
    for destination_id in collect_destinations(pm):
        if destination_id not in settings:
            continue
        register_demo_employers(gw, destination_id)
        dest = make_destination(pm, destination_id, settings)
        result = deliver(gw, destination_id, trigger="demo", destination=dest, answer_wait=20)
        c = result.counts
        yield (f"{'tujuan / destination ' + destination_id:<40} {c.get('accepted', 0):>5} "
               f"terdaftar / registered (KPJ), {c.get('rejected', 0):>3} ditolak / rejected  "
               f"(delivery {result.delivery_id}, {result.status})")  # fmt: skip
