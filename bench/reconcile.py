"""Reconciliation over a large registry (issue 18): BPJS's membership list, 12 months of bills
and payments per NPP, then `reconciliation()` and every NPP's months of the year.

    .venv/bin/python bench/reconcile.py                          # 1,000,000 enrollments, SQLite
    .venv/bin/python bench/reconcile.py --enrollments 100000
    .venv/bin/python bench/reconcile.py --backend postgresql     # a throwaway server (tests/pg.py)

The registry is filled directly (placeholder ciphertexts, real blind indexes: reconciliation
never decrypts), spread over every regency and city, each mapped to one NPP and one in ten to
three (two work units and a fallback). BPJS's side goes through the real bpjs_feeds sources,
as `jamsos sync` would: a membership list of about one row per enrollment with ~2 % of each
difference kind, and fiscal year 2025's bills and payments of every NPP (most paid on time;
one NPP in twenty each underpaid, paid late, stopped after September). The two measured steps
run in a fresh process, so their peak RSS is their own:

  reconciliation   `reconciliation(gw, today=2026-02-20)`: differences, coverage, ledgers
  months           `result.months(npp, 2025)` for every NPP: expected against billed and paid

Prints seconds and peak RSS (resource.getrusage) per step; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEAR = 2025
TODAY = date(2026, 2, 20)  # every month of YEAR due, the last one a month ago
SPLIT_UNITS = ("Dinas Kesehatan", "Puskesmas *")  # one agency in ten: an NPP per unit
UNITS = ("Dinas Kesehatan", "Puskesmas Kota Baru", "Puskesmas Sungai", "Sekretariat Daerah",
         "Dinas Pendidikan")  # fmt: skip
# Rough program rates for the bills BPJS sends (BPJS's own figures, not the gateway's
# arithmetic: "billed" is a fact to compare with "expected", not a copy of it).
BILL_RATES = {"honorer": {"jkk": 0.0024, "jkm": 0.003},
              "ppnpn": {"jkk": 0.0024, "jkm": 0.003, "jht": 0.057, "jp": 0.03}}  # fmt: skip


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def say(step: str, seconds: float, detail: str = "") -> None:
    print(f"  {step:<28} {seconds:8.1f} s   peak RSS {peak_mb():6.0f} MB   {detail}", flush=True)


def make_app(instance: Path, database_url: str | None):
    from gateway.app import create_app

    config = {"INSTANCE_PATH": str(instance), "CONFIG_FILE": None, "SWEEP_SECONDS": 0}
    if database_url:
        config.update(DATABASE_URL=database_url, AUTO_MIGRATE=True)
    app = create_app(config)
    gw = app.extensions["jamsos"]
    with app.app_context():
        gw.ensure_ready()
    return app, gw


def register_employers(gw) -> list:
    """Every regency and city an NPP; one in ten an NPP per work unit and a fallback."""
    from gateway.delivery.employers import register_employer
    from gateway.domain.regions import regencies_and_cities

    rules = []
    for k, region in enumerate(regencies_and_cities()):
        units = (*SPLIT_UNITS, None) if k % 10 == 0 else (None,)
        for unit in units:
            rules.append(register_employer(
                gw, agency=region.code, kind="npp", npp=f"{10_000_000 + len(rules)}",
                division="001", segment=None, work_unit=unit, destination="bpjs-h2h",
                actor="bench"))  # fmt: skip
    return rules


def enrollment(i: int, agencies: list[str], rng: random.Random) -> dict:
    agency = agencies[i % len(agencies)]
    ended = i % 33 == 0
    return {"id": i, "agency": agency, "nik": f"{agency.replace('.', '')}{i:012d}",
            "birth_date": date(1965 + i % 35, 1 + i % 12, 1 + i % 28),
            "category": "ppnpn" if i % 5 == 0 else "honorer", "work_unit": UNITS[i % 5],
            "wage": rng.randrange(2_500_000, 6_000_000, 50_000),
            "start_date": date(2016 + i % 10, 1 + i // 7 % 12, 1),
            "end_date": date(YEAR, 6, 30) if ended else None,
            "status": "ended" if ended else "active"}  # fmt: skip


def fill_registry(gw, n: int, agencies: list[str]) -> None:
    from sqlalchemy import insert

    from gateway.store.db import writing
    from gateway.store.tables import enrollments, runs, workers

    made = datetime(YEAR - 1, 12, 1, tzinfo=UTC)  # rostered long ago: past "N days"
    rng = random.Random(18)
    index = gw.keyring.blind_index
    # One sealed placeholder for every row: the key check at start opens stored values.
    nik_enc = gw.keyring.encrypt("0" * 16, "workers.nik")
    name_enc = gw.keyring.encrypt("Peserta", "workers.name")
    with writing(gw.engine) as conn:
        run_id = conn.execute(insert(runs).values(
            agency="31", source="bench", trigger="bench", status="succeeded",
            started_at=made).returning(runs.c.id)).scalar_one()  # fmt: skip
        for first in range(1, n + 1, 50_000):
            rows = [enrollment(i, agencies, rng) for i in range(first, min(first + 50_000, n + 1))]
            conn.execute(insert(workers), [
                {"id": r["id"], "nik_index": index(r["nik"]), "nik_enc": nik_enc,
                 "name_enc": name_enc, "birth_date": r["birth_date"], "gender": "L",
                 "nik_region": "31.74", "created_at": made, "updated_at": made}
                for r in rows])  # fmt: skip
            conn.execute(insert(enrollments), [
                {"id": r["id"], "worker_id": r["id"], "agency": r["agency"],
                 "category": r["category"], "position": "Tenaga Administrasi",
                 "work_unit": r["work_unit"], "wage": r["wage"], "start_date": r["start_date"],
                 "end_date": r["end_date"], "status": r["status"], "record_hash": "x",
                 "first_run_id": run_id, "last_run_id": run_id, "seen_run_id": run_id,
                 "created_at": made, "updated_at": made} for r in rows])  # fmt: skip


def write_feeds(folder: Path, n: int, agencies: list[str], rules: list) -> dict:
    """BPJS's membership list, bills and payments as CSV files; the kinds planted."""
    from gateway.delivery.employers import EmployerRule, employer_for
    from tests.helpers.bpjs import BILLS, MEMBERS, PAYMENTS, rupiah

    own = {}
    for r in rules:
        own.setdefault(r.agency, []).append(r)
    first_npp = {a: rs[0].npp for a, rs in own.items()}
    planted = Counter()
    bills: dict[tuple[str, int], Counter] = {}
    rng = random.Random(18)
    with open(folder / "kepesertaan.csv", "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        out.writerow(MEMBERS)
        for i in range(1, n + 1):
            e = enrollment(i, agencies, rng)
            rule = employer_for(own[e["agency"]], e["agency"], e["work_unit"])
            assert isinstance(rule, EmployerRule)
            for m in range(1, 13):
                if e["start_date"] <= date(YEAR, m, 28) and (
                        e["end_date"] is None or e["end_date"] >= date(YEAR, m, 1)):
                    bill = bills.setdefault((rule.npp, m), Counter())
                    for program, rate in BILL_RATES[e["category"]].items():
                        bill[program] += round(e["wage"] * rate)
            j = i * 7919 % 100  # spread the kinds over every agency
            npp, status, wage = rule.npp, "aktif", e["wage"]
            if e["status"] == "ended":
                status = "aktif" if j < 67 else "non-aktif"
                planted["ended_still_registered" if j < 67 else "ended, non-aktif"] += 1
            elif j < 2:
                planted["not_registered"] += 1
                continue
            elif j < 4:
                other = agencies[(i + 1) % len(agencies)]
                npp = first_npp[other]
                planted["other_employer"] += 1
            elif j < 6:
                wage += 100_000
                planted["wage_differs"] += 1
            born = e["birth_date"].strftime("%d-%m-%Y")
            out.writerow([npp, e["nik"], f"{i:011d}", f"Peserta {i}", born, status,
                          e["start_date"].strftime("%d-%m-%Y"), rupiah(wage)])  # fmt: skip
            if i % 50 == 0:  # someone BPJS lists under the NPP whom no roster has
                out.writerow([rule.npp, f"9{i:015d}", f"9{i:010d}", f"Bukan Daftar {i}", "",
                              "aktif", "01-01-2024", rupiah(e["wage"])])  # fmt: skip
                planted["not_on_roster"] += 1
    codes = {r.npp: k for k, r in enumerate(rules)}
    with open(folder / "tagihan.csv", "w", encoding="utf-8", newline="") as fh, \
            open(folder / "pembayaran.csv", "w", encoding="utf-8", newline="") as pay:  # fmt: skip
        out, paid = csv.writer(fh, delimiter=";", lineterminator="\r\n"), \
            csv.writer(pay, delimiter=";", lineterminator="\r\n")  # fmt: skip
        header = [*BILLS[:3], "JKK", "JKM", "JHT", "JP", *BILLS[5:]]
        out.writerow(header)
        paid.writerow(PAYMENTS)
        for (npp, m), amounts in sorted(bills.items()):
            k = codes[npp]
            if k % 20 == 11:
                amounts = Counter({p: round(a * 1.02) for p, a in amounts.items()})
            total = sum(amounts.values())
            code = f"{k:05d}{YEAR}{m:02d}"
            out.writerow([npp, f"{YEAR}-{m:02d}", code, *(rupiah(amounts.get(p, 0)) for p in
                          ("jkk", "jkm", "jht", "jp")), rupiah(total), ""])  # fmt: skip
            on = date(YEAR + (m == 12), m % 12 + 1, 10)  # on time: the 10th of the next month
            if k % 20 == 3:
                total = total * 95 // 100  # underpaid
            elif k % 20 == 5:
                on = date(on.year + (on.month == 12), on.month % 12 + 1, 10)  # a month late
            elif k % 20 == 7 and m >= 10:
                continue  # stopped paying
            paid.writerow([f"BNK{k:05d}{YEAR}{m:02d}", code, rupiah(total),
                           on.strftime("%d-%m-%Y")])  # fmt: skip
    planted["bills"] = len(bills)
    return dict(planted)


def sync(gw, source_id: str, path: Path) -> None:
    from tests.helpers.bpjs import sync_file

    t0 = time.perf_counter()
    result = sync_file(gw, source_id, path, today=TODAY)
    report = result.report
    say(f"sync {source_id}", time.perf_counter() - t0,
        f"{result.status}, {report.accepted:,} rows" if report else result.status)
    if result.status != "succeeded":
        problems = gw.registry.run_problems(result.run_id)[:5] if result.run_id else []
        raise SystemExit(f"{source_id}: {result.status} {problems}")


def measure(instance: Path, database_url: str | None) -> None:
    """The measured steps, in this fresh process."""
    from gateway.reconcile.report import reconciliation

    app, gw = make_app(instance, database_url)
    print(f"  (the process with the gateway loaded: peak RSS {peak_mb():.0f} MB)", flush=True)
    with app.app_context():
        t0 = time.perf_counter()
        result = reconciliation(gw, today=TODAY)
        took = time.perf_counter() - t0
        found = result.findings
        rostered = sum(f.rostered for f in found.agencies.values())
        registered = sum(f.registered for f in found.agencies.values())
        covered = sum(f.covered for f in found.agencies.values())
        say("reconciliation()", took, f"{len(found.differences):,} differences, "
            f"{len(result.ledgers)} ledgers, {len(result.paid_up)} NPPs paid up")  # fmt: skip
        print(f"    rostered {rostered:,}, registered {registered:,}, covered {covered:,}; "
              f"{json.dumps(found.counts())}")
        npps = sorted({r.npp for r in result.rules})
        statuses: Counter = Counter()
        t0 = time.perf_counter()
        for npp in npps:
            statuses.update(m.status for m in result.months(npp, YEAR))
        took = time.perf_counter() - t0
        say(f"months() x {len(npps)} NPPs", took,
            f"{took / len(npps) * 1000:.0f} ms an NPP; {dict(sorted(statuses.items()))}")
        gw.engine.dispose()


def build(folder: Path, n: int, database_url: str | None) -> None:
    """The registry and BPJS's files, synced (in a process of its own)."""
    app, gw = make_app(folder / "instance", database_url)
    with app.app_context():
        t0 = time.perf_counter()
        rules = register_employers(gw)
        agencies = sorted({r.agency for r in rules})
        fill_registry(gw, n, agencies)
        say("fill registry", time.perf_counter() - t0,
            f"{len(agencies)} agencies, {len(rules)} NPPs")
        t0 = time.perf_counter()
        planted = write_feeds(folder, n, agencies, rules)
        say("write BPJS files", time.perf_counter() - t0, json.dumps(planted))
        sync(gw, "bpjs-kepesertaan", folder / "kepesertaan.csv")
        sync(gw, "bpjs-tagihan", folder / "tagihan.csv")
        sync(gw, "bpjs-pembayaran", folder / "pembayaran.csv")
        gw.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--phase", choices=["build", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "build":
        build(args.folder, args.enrollments, args.database_url)
        return
    if args.phase == "measure":
        measure(args.folder / "instance", args.database_url)
        return
    # This process only starts the two phases, each in a process of its own: a child forked
    # from a large process inherits its peak RSS (Linux keeps ru_maxrss across fork + exec).
    with tempfile.TemporaryDirectory(prefix="jamsos-reconcile-") as tmp:
        server = None
        extra = ["--folder", tmp, "--enrollments", str(args.enrollments)]
        if args.backend == "postgresql":
            from tests.pg import PostgresServer, find_bindir

            server = PostgresServer(find_bindir())
            server.start()
            extra += ["--database-url", server.url("postgres")]
        try:
            print(f"{args.enrollments:,} enrollments, {args.backend}, fiscal year {YEAR}, "
                  f"today {TODAY}", flush=True)
            subprocess.run([sys.executable, __file__, "--phase", "build", *extra], check=True)
            print("measured in a fresh process:", flush=True)
            subprocess.run([sys.executable, __file__, "--phase", "measure", *extra], check=True)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
