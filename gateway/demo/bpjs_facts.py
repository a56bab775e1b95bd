"""The demo's BPJS side, as BPJS sends it back (`jamsos demo load`, after the delivery):
membership lists, bills and payments written into instance/demo/bpjs/ from the registry and
the outbox, then synced through the bpjs_feeds plugin's sources (docs/reconcile.md).

- **Membership list per NPP**: everyone BPJS gave a KPJ (the outbox's answers), aktif, as
  delivered; an ending BPJS took is non-aktif. A few of each difference kind are planted: one
  registered worker in fifty with another wage at BPJS, one under another demo agency's NPP,
  one ended at BPJS, and two people per NPP whom no roster names. An enrollment ended in the
  registry while BPJS still holds its KPJ aktif shows as "ended, still registered"; rostered
  workers BPJS has not registered show once `not_registered_after_days` (30) have passed.
- **Bills** for the three months before the current WIB month, per NPP: the reconciliation's
  expected amount per program (gateway/reconcile/billing.py).
- **Payments**, NPPs in the order of their agency codes: the first pays in full, the second
  underpays a month, the third pays two months late, the fourth nothing, the fifth is billed
  2 % more than expected and pays it, the rest pay in full.

Each source reads a drop folder of its own under instance/demo/bpjs/ (a folder's newest file
is processed once, so each NPP's membership list is a `bpjs-kepesertaan-<NPP>` instance of
the plugin's source). Bills and payments are written once a month (a payment reference sent
again with other facts would be refused); the membership lists are written from the registry
every time and differ only when it does: a second `demo load` finds nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from gateway import clock
from gateway.budget.rates import load_packages
from gateway.delivery.employers import EmployerRule, employer_for
from gateway.domain.billing import due_date
from gateway.reconcile.billing import expected_by_month
from gateway.reconcile.feeds import PROGRAMS
from gateway.store.employers import list_employers
from gateway.store.mutations import bpjs_status, enrollment_chunk, worker_niks

MEMBERS = ["NPP", "NIK", "KPJ", "Nama", "Tanggal Lahir", "Status", "TMT Kepesertaan", "Upah"]
BILLS = ["NPP", "Bulan Iuran", "Kode Iuran", "JKK", "JKM", "JHT", "JP", "JKP", "Total"]
PAYMENTS = ["Referensi", "Kode Iuran", "Jumlah", "Tanggal Bayar"]
# How each NPP pays, in the order of the employer list; the rest pay in full.
PAYERS = ("in_full", "underpaid", "late", "not_at_all", "billed_more")
EVERY = 50  # one registered worker in EVERY of each planted difference


def rupiah(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def dmy(day: date) -> str:
    return day.strftime("%d-%m-%Y")


@dataclass(frozen=True)
class _OneProgram:
    """The demo's packages narrowed to one program: the expected amount of that program."""

    packages: Any
    program: str

    def programs_for(self, category: Any, agency: str | None = None) -> frozenset[str]:
        return self.packages.programs_for(category, agency) & {self.program}

    def risk_class_for(self, agency: str | None = None, position: str | None = None) -> int:
        return self.packages.risk_class_for(agency, position)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    lines = [";".join(header), *(";".join(r) for r in rows)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def membership_rows(gw: Any, rules: list[EmployerRule]) -> dict[str, list[list[str]]]:
    """BPJS's membership list of each NPP, from the registry and the KPJs in the outbox."""
    keyring = gw.keyring
    npps = sorted({r.npp for r in rules})
    lists: dict[str, list[list[str]]] = {npp: [] for npp in npps}
    planted = 0
    for agency in sorted({r.agency for r in rules}):
        own = [r for r in rules if r.agency == agency]
        after = 0
        while True:
            with gw.engine.connect() as conn:
                chunk = enrollment_chunk(conn, agency, after)
                told = bpjs_status(conn, [e["id"] for e in chunk])
                niks = worker_niks(conn, [e["worker_id"] for e in chunk])
            if not chunk:
                break
            after = chunk[-1]["id"]
            for e in chunk:
                state = told.get(e["id"], {})
                rule = employer_for(own, agency, e["work_unit"])
                if not state.get("kpj") or not isinstance(rule, EmployerRule):
                    continue  # never registered at BPJS: not on its list
                npp, status, wage = rule.npp, "aktif", e["wage"]
                if state["status"] == "ended":
                    status = "non-aktif"
                elif state["status"] == "accepted" and e["status"] == "active":
                    planted += 1
                    if planted % EVERY == 7:  # BPJS holds an older wage
                        wage = max(wage - 150_000, 1_000_000)
                    elif planted % EVERY == 17:  # registered under another demo employer
                        npp = npps[(npps.index(rule.npp) + 1) % len(npps)]
                    elif planted % EVERY == 27:  # BPJS ended the membership
                        status = "non-aktif"
                month = state.get("month") or clock.today().strftime("%Y-%m")
                since = date.fromisoformat(f"{month}-01")  # registered in the month told
                lists[npp].append([
                    npp, keyring.decrypt(niks[e["worker_id"]], "workers.nik"), state["kpj"],
                    keyring.decrypt(e["name_enc"], "workers.name"), dmy(e["birth_date"]),
                    status, dmy(since), rupiah(wage)])  # fmt: skip
    from gateway.demo.rosters import generate_roster
    from gateway.store.workers import find_worker

    for k, npp in enumerate(npps):  # registered at BPJS, on no roster
        for j, person in enumerate(generate_roster(2, seed=9_000 + k, province="31")):
            if find_worker(gw.engine, keyring, person["NIK"]) is not None:
                continue  # by chance someone the registry has: not "on no roster"
            lists[npp].append([npp, person["NIK"], f"9{k:04d}{j:06d}", person["Nama Lengkap"],
                               "", "aktif", "01-01-2025", rupiah(3_000_000)])  # fmt: skip
    return lists


def last_months(today: date, count: int = 3) -> list[str]:
    """The `count` months before today's month, oldest first ("2026-09", ...)."""
    out, day = [], today.replace(day=1)
    for _ in range(count):
        day = (day - timedelta(days=1)).replace(day=1)
        out.append(day.strftime("%Y-%m"))
    return out[::-1]


def bill_and_payment_rows(gw: Any, rules: list[EmployerRule], today: date
                          ) -> tuple[list[list[str]], list[list[str]]]:  # fmt: skip
    """Bills of the last three months per NPP (the expected arithmetic), and payments."""
    packages = load_packages()
    months = last_months(today)
    bills, payments = [], []
    for k, rule in enumerate(sorted(rules, key=lambda r: (r.agency, r.id))):
        payer = PAYERS[k] if k < len(PAYERS) else "in_full"
        expected: dict[str, dict[str, int]] = {}
        for year in sorted({int(m[:4]) for m in months}):
            for program in PROGRAMS:
                found = expected_by_month(gw.engine, rule, rules, year,
                                          packages=_OneProgram(packages, program))  # type: ignore[arg-type]
                for month, amount in found.items():
                    expected.setdefault(month, {})[program] = amount
        for n, month in enumerate(months):
            amounts = expected[month]
            if payer == "billed_more":  # BPJS bills a little more than the registry calls for
                amounts = {p: a + a // 50 for p, a in amounts.items()}
            total = sum(amounts.values())
            if total == 0:
                continue
            code = f"{rule.npp}{month[3]}{month[5:]}"  # 8 + 3 digits: a kode iuran of 11
            bills.append([rule.npp, month, code, *(rupiah(amounts[p]) for p in PROGRAMS),
                          rupiah(total)])  # fmt: skip
            due = due_date(month)
            paid_on, amount = min(due - timedelta(days=5), today), total
            if payer == "not_at_all" or (payer == "underpaid" and n == len(months) - 1):
                continue
            if payer == "underpaid" and n == 1:
                amount = total * 8 // 10
            if payer == "late" and n < len(months) - 1:
                paid_on = min(due + timedelta(days=12), today)
            payments.append([f"DEMO-{rule.npp}-{month}", code, rupiah(amount), dmy(paid_on)])
    return bills, payments


def write_bpjs_facts(gw: Any, today: date) -> dict[str, dict[str, str]]:
    """Write the demo's BPJS files, each source's into a drop folder of its own; the sources'
    settings, in syncing order. A membership list per NPP is its own source (a drop folder
    processes its newest file once: one folder for all would apply only the newest list)."""
    folder = Path(gw.config["INSTANCE_PATH"]) / "demo" / "bpjs"
    rules = [EmployerRule(**row) for row in list_employers(gw.engine)]
    if not rules:
        return {}
    settings = {}
    for npp, rows in membership_rows(gw, rules).items():
        drop = folder / "kepesertaan" / npp
        drop.mkdir(parents=True, exist_ok=True)
        write_csv(drop / f"kepesertaan_{npp}.csv", MEMBERS, rows)
        settings[f"bpjs-kepesertaan-{npp}"] = {"type": "bpjs-kepesertaan", "folder": str(drop)}
    month = today.strftime("%Y-%m")
    bills, payments = (folder / "tagihan" / f"tagihan_{month}.csv",
                       folder / "pembayaran" / f"pembayaran_{month}.csv")  # fmt: skip
    if not (bills.exists() and payments.exists()):  # once a month: see the module's note
        bill_rows, payment_rows = bill_and_payment_rows(gw, rules, today)
        for path, header, rows in ((bills, BILLS, bill_rows), (payments, PAYMENTS, payment_rows)):
            path.parent.mkdir(parents=True, exist_ok=True)
            write_csv(path, header, rows)
    settings["bpjs-tagihan"] = {"folder": str(bills.parent)}
    settings["bpjs-pembayaran"] = {"folder": str(payments.parent)}
    return settings


def sync_bpjs_facts(gw: Any, today: date | None = None) -> Iterator[str]:
    """Write the demo's BPJS files and sync each through its source; a line for each."""
    from gateway.roster.sync import sync_source
    from gateway.sources.loader import source_catalog

    today = today or clock.today()
    settings = write_bpjs_facts(gw, today)
    catalog = source_catalog(gw.plugins, settings)
    for source_id in settings:
        if source_id not in catalog:
            yield f"{'sumber / source ' + source_id:<40} tidak terpasang / not installed"
            continue
        result = sync_source(gw.registry, gw.plugins, catalog[source_id].create(),
                             today=today, trigger="demo")  # fmt: skip
        report = result.report
        if report is None:
            detail = "tidak ada yang baru / nothing new"
        else:
            detail = (f"{report.accepted:>5} diterima / accepted, {report.rejected:>3} ditolak / "
                      f"rejected  (run {report.run_id}, {result.status})")  # fmt: skip
        yield f"{'sumber / source ' + source_id:<40} {detail}"
