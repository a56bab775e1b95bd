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


# The demo government whose office uploads SIPP files by hand instead (docs/delivery-sipp.md).
FILE_AGENCY = "17"  # Provinsi Bengkulu


def register_demo_employers(gw: Any, destination: str, *, file_destination: bool = False,
                            ) -> list[EmployerRule]:  # fmt: skip
    """Map agencies with workers and no employer yet to one NPP (division 001) delivered by
    `destination`: FILE_AGENCY only for a file destination, every other agency for a push one;
    the agencies already mapped keep their mapping."""
    mapped = {row["agency"] for row in list_employers(gw.engine)}
    made = []
    for agency in sorted(enrollment_counts(gw.engine)):
        if agency in mapped or (agency == FILE_AGENCY) != file_destination:
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
    found = collect_destinations(pm)
    # File destinations first: Bengkulu's office takes SIPP files; every other agency goes to
    # the push destination whose loopback service a plugin's prepare_demo started.
    for destination_id in sorted(found, key=lambda d: found[d].cls.channel != "file"):
        is_file = found[destination_id].cls.channel == "file"
        if not is_file and destination_id not in settings:
            continue
        register_demo_employers(gw, destination_id, file_destination=is_file)
        dest = make_destination(pm, destination_id, settings)
        result = deliver(gw, destination_id, trigger="demo", destination=dest, answer_wait=20)
        c = result.counts
        label = f"{'tujuan / destination ' + destination_id:<40}"
        if is_file:
            yield (f"{label} {c.get('batches', 0):>5} berkas SIPP disiapkan / SIPP batches "
                   f"prepared  (delivery {result.delivery_id}, {result.status})")  # fmt: skip
            continue
        yield (f"{label} {c.get('accepted', 0):>5} terdaftar / registered (KPJ), "
               f"{c.get('rejected', 0):>3} ditolak / rejected  "
               f"(delivery {result.delivery_id}, {result.status})")  # fmt: skip
