"""`python -m jamsos_bpjs_h2h.server` (or `jamsos-bpjs-loopback`): the loopback BPJS service
on its own, for a demo or a manual test against a gateway (docs/bpjs-h2h.md)."""

from __future__ import annotations

import time

from jamsos_bpjs_h2h.rules import Rules
from jamsos_bpjs_h2h.server import BpjsServer


def main(argv: list[str] | None = None) -> None:
    import argparse
    import os

    parser = argparse.ArgumentParser(
        prog="python -m jamsos_bpjs_h2h.server",
        description="Loopback BPJS Ketenagakerjaan host-to-host service (tests and demos only)"
    )
    parser.add_argument("--port", type=int, default=8082, help="0: any free port")
    parser.add_argument("--log", default="bpjs-h2h-loopback.sqlite",
                        help="its own SQLite log (default: %(default)s)")  # fmt: skip
    parser.add_argument("--consumer", default="jamsos", help="consumer id (default: %(default)s)")
    parser.add_argument("--secret-env", default="BPJS_H2H_SECRET", metavar="NAME",
                        help="environment variable holding the consumer secret "
                             "(default: %(default)s; unset: 'rahasia-demo')")  # fmt: skip
    parser.add_argument("--unknown-nik", action="append", default=[], metavar="NIK",
                        help="a NIK the population registry does not know (repeatable)")
    parser.add_argument("--registered", action="append", metavar="NPP",
                        help="a registered NPP or wadah code (repeatable; default: all)")
    parser.add_argument("--minimum-wage", action="append", default=[], metavar="REGION=RUPIAH",
                        help="a UMP/UMK, e.g. 31=5396761 or 32.73=4482914 (repeatable)")
    parser.add_argument("--closed-through", metavar="YYYY-MM",
                        help="months up to this one are closed for new start dates")
    args = parser.parse_args(argv)
    wages = {}
    for item in args.minimum_wage:
        region, _, amount = item.partition("=")
        if not amount.isdigit():
            parser.error(f"--minimum-wage {item!r}: expected REGION=RUPIAH")
        wages[region] = int(amount)
    rules = Rules(
        registered=set(args.registered) if args.registered else None,
        unknown_niks=set(args.unknown_nik),
        minimum_wages=wages,
        closed_through=args.closed_through,
    )
    secret = os.environ.get(args.secret_env, "rahasia-demo")
    with BpjsServer(args.log, rules=rules, consumers={args.consumer: secret},
                    port=args.port) as server:  # fmt: skip
        print(f"BPJS H2H loopback at {server.url} (log: {args.log}); Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass

