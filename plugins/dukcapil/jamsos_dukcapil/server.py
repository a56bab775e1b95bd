"""A stand-in for Dukcapil's element-verification service, on 127.0.0.1: demo and tests.

Real HTTP over loopback, the JSON of protocol.py, a generated population (valid NIKs, no
real person), scores per element, and misbehaviour on request, so the gateway's handling of
each answer code, the daily quota, access hours, slowness and dropped connections is tested
against a real server:

    with DukcapilServer(demo_population(200)) as server:
        server.set_status(nik, "deceased")      # 11; "inactive" 14, "several" 12
        server.force(nik, "08")                 # any answer code for one NIK
        server.quota = 5                        # 05 after five answers today
        server.closed = True                    # 06: outside access hours (or:
        server.hours = (7, 17)                  #     answers 07:00-16:59 WIB only)
        server.fail("drop", times=1)            # drop | slow | http500 | malformed
        ... settings: url=server.url, user_id="jamsos", password=..., caller_ip="127.0.0.1"

Only the standard library (and the gateway's public face for the demo population).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from difflib import SequenceMatcher
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jamsos_dukcapil.protocol import CODES, FIELDS, GENDERS, score_text

PATH = "/dukcapil/get_json/VERIFY_BY_ELEMEN"
FAULTS = ("drop", "slow", "http500", "malformed")
STATUS_CODES = {"alive": "01", "deceased": "11", "several": "12", "inactive": "14"}


@dataclass
class Resident:
    nik: str
    name: str
    birth_date: date
    gender: str  # L | P
    birth_place: str = ""
    status: str = "alive"  # alive | deceased | inactive | several


MONTHS = {name: i + 1 for i, name in enumerate((
    "januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september",
    "oktober", "november", "desember"))}  # fmt: skip
MONTHS.update({name[:3]: i for name, i in MONTHS.items()}, agt=8)


def _date(text: str) -> date:
    """The demo rosters' date styles: 31-01-1977, 31/01/1977, 1977-01-31, 31 Januari 1977,
    31 Jan 1977."""
    text = text.strip()
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    parts = text.split()
    if len(parts) == 3 and parts[1].lower() in MONTHS:
        return date(int(parts[2]), MONTHS[parts[1].lower()], int(parts[0]))
    raise ValueError(f"unreadable date {text!r}")


def _gender(text: str) -> str:
    return "P" if text.strip().upper() in ("P", "PEREMPUAN", "WANITA") else "L"


def demo_population(n: int, *, seed: int = 19) -> list[Resident]:
    """`n` residents from the gateway's demo roster generator (the same people a demo roster
    of that seed names)."""
    from gateway import generate_roster

    return [Resident(r["NIK"], r["Nama Lengkap"], _date(r["Tanggal Lahir"]),
                     _gender(r["Jenis Kelamin"]), "JAKARTA")
            for r in generate_roster(n, seed=seed)]  # fmt: skip


def name_score(given: str, held: str) -> int:
    a, b = (" ".join(x.upper().split()) for x in (given, held))
    return round(SequenceMatcher(None, a, b).ratio() * 100)


@dataclass
class ServiceState:
    residents: dict[str, Resident]
    user_id: str
    password: str
    allowed_ips: set[str]
    quota: int | None = None
    used_today: int = 0
    closed: bool = False
    hours: tuple[int, int] | None = None  # access hours, WIB: (7, 17) is 07:00-16:59
    delay: float = 2.0  # seconds a "slow" answer takes
    forced: dict[str, str] = field(default_factory=dict)
    forced_all: str | None = None
    faults: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # the NIKs asked about, in order
    answered: list[tuple[str, str]] = field(default_factory=list)  # (NIK, code) answered
    lock: threading.Lock = field(default_factory=threading.Lock)


class DukcapilServer:
    """The loopback service in a background thread; a context manager."""

    def __init__(self, residents: list[Resident], *, user_id: str = "jamsos",
                 password: str = "rahasia-demo", allowed_ips: tuple[str, ...] = ("127.0.0.1",),
                 host: str = "127.0.0.1", port: int = 0) -> None:  # fmt: skip
        self.state = ServiceState({r.nik: r for r in residents}, user_id, password,
                                  set(allowed_ips))  # fmt: skip
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.state = self.state  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    def start(self) -> DukcapilServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> DukcapilServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting the service ---------------------------------------------------------------
    def add(self, resident: Resident) -> None:
        with self.state.lock:
            self.state.residents[resident.nik] = resident

    def set_status(self, nik: str, status: str) -> None:
        if status not in STATUS_CODES:
            raise ValueError(f"unknown status {status!r}; one of {tuple(STATUS_CODES)}")
        with self.state.lock:
            self.state.residents[nik].status = status

    def force(self, nik: str | None, code: str | None) -> None:
        """Answer `code` for `nik` (None: for everyone; code None: stop forcing)."""
        if code is not None and code not in CODES:
            raise ValueError(f"unknown answer code {code!r}")
        with self.state.lock:
            if nik is None:
                self.state.forced_all = code
            elif code is None:
                self.state.forced.pop(nik, None)
            else:
                self.state.forced[nik] = code

    def fail(self, kind: str, times: int = 1) -> None:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULTS}")
        with self.state.lock:
            self.state.faults.extend([kind] * times)

    def new_day(self) -> None:
        """Midnight: the daily quota starts again."""
        with self.state.lock:
            self.state.used_today = 0

    @property
    def quota(self) -> int | None:
        return self.state.quota

    @quota.setter
    def quota(self, value: int | None) -> None:
        self.state.quota = value

    @property
    def hours(self) -> tuple[int, int] | None:
        return self.state.hours

    @hours.setter
    def hours(self, value: tuple[int, int] | None) -> None:
        self.state.hours = value

    @property
    def closed(self) -> bool:
        return self.state.closed

    @closed.setter
    def closed(self, value: bool) -> None:
        self.state.closed = value

    @property
    def requests(self) -> list[str]:
        return self.state.requests

    @property
    def answered(self) -> list[tuple[str, str]]:
        """(NIK, answer code) of every answer made (a dropped or HTTP 500 one is not)."""
        return self.state.answered


def answer(state: ServiceState, body: dict[str, Any], caller: str) -> dict[str, Any]:
    """The answer document for one request (the service's rules, in the order it checks)."""
    nik = str(body.get("NIK") or "")
    if not body.get("user_id") or not body.get("password"):
        return _code("09")
    if body["user_id"] != state.user_id or body["password"] != state.password:
        return _code("03")
    if body.get("ip_user") not in state.allowed_ips or caller not in state.allowed_ips:
        return _code("04")
    forced = state.forced.get(nik) or state.forced_all
    if forced in ("16", "17"):
        return _code(forced)
    if state.closed or (state.hours is not None and not _within(state.hours)):
        return _code("06")
    if state.quota is not None and state.used_today >= state.quota:
        return _code("05")
    state.used_today += 1
    if forced:
        return _code(forced)
    if not nik or not body.get("NAMA_LGKP") or not body.get("TGL_LHR"):
        return _code("07")
    if len(nik) != 16 or not nik.isdigit():
        return _code("15")
    resident = state.residents.get(nik)
    if resident is None:
        return _code("13")
    if resident.status != "alive":
        return _code(STATUS_CODES[resident.status])
    try:
        threshold = int(body.get("TRESHOLD") or 90)
        born = _date(str(body["TGL_LHR"]))
    except ValueError:
        return _code("07")
    scores = {
        "nik": 100,
        "name": name_score(str(body["NAMA_LGKP"]), resident.name),
        "birth_date": 100 if born == resident.birth_date else 0,
        "gender": 100 if body.get("JENIS_KLMIN") == GENDERS[resident.gender] else 0,
    }
    if body.get("TMPT_LHR"):
        scores["birth_place"] = name_score(str(body["TMPT_LHR"]), resident.birth_place)
    content = {"RESPONSE_CODE": "01", "RESPONSE": CODES["01"][1]}
    content.update({FIELDS[k]: score_text(s, threshold) for k, s in scores.items()})
    return {"content": [content], "lastPage": True, "numberOfElements": 1}


def _within(hours: tuple[int, int]) -> bool:
    hour = datetime.now(timezone(timedelta(hours=7))).hour  # the service keeps WIB
    return hours[0] <= hour < hours[1]


def _code(code: str) -> dict[str, Any]:
    return {"content": [{"RESPONSE_CODE": code, "RESPONSE": CODES[code][1]}],
            "lastPage": True, "numberOfElements": 1}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DukcapilElemen/1.0"
    # Headers and body are two writes: with Nagle on, each answer waited for the client's
    # delayed ACK (40 ms), 22 answers a second instead of hundreds.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def state(self) -> ServiceState:
        return self.server.state  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != PATH:
            self._send(404, b'{"message": "not found"}')
            return
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            self._send(200, json.dumps(_code("07")).encode())
            return
        with self.state.lock:
            fault = self.state.faults.pop(0) if self.state.faults else None
            self.state.requests.append(str(body.get("NIK") or ""))
            if fault not in ("drop", "http500"):
                document = answer(self.state, body, self.client_address[0])
                code = document["content"][0]["RESPONSE_CODE"]
                self.state.answered.append((str(body.get("NIK") or ""), code))
        if fault == "drop":
            # Promise a body, send half of nothing, hang up: a connection lost mid-answer.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "400")
            self.end_headers()
            self.wfile.write(b'{"content": [{"RESPONSE_CODE": "0')
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == "http500":
            self._send(500, b"<html><body>Internal Server Error</body></html>", "text/html")
            return
        if fault == "slow":
            time.sleep(self.state.delay)
        data = json.dumps(document).encode()
        if fault == "malformed":
            data = data[: len(data) // 2]
        self._send(200, data)

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            self.close_connection = True


def main() -> None:  # pragma: no cover - manual use: python -m jamsos_dukcapil.server
    import argparse

    parser = argparse.ArgumentParser(description="Loopback Dukcapil element verification")
    parser.add_argument("--port", type=int, default=8083)
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    with DukcapilServer(demo_population(args.residents, seed=args.seed), port=args.port) as s:
        print(f"Dukcapil demo at {s.url} (user jamsos, password rahasia-demo); Ctrl-C to stop")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()
