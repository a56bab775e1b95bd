"""A stand-in for SIMPEG's PPNPN SOAP service, on 127.0.0.1: for tests and `make run`.

Real HTTP over loopback, the packaged WSDL, document/literal SOAP 1.1 answered with lxml,
WS-Security UsernameToken checked, paging and "changed since" as the real service does. It
can misbehave on request, page by page, so the gateway's failure handling is tested against
a real server rather than a mock:

    with SimpegServer(demo_employees(1200)) as server:
        server.fail(page=3, kind="drop")   # timeout | http500 | soap_fault | malformed | drop | dtd
        ... sync with url=server.url ...

spyne was considered: it generates its own WSDL from Python classes, while here the
hand-written WSDL is the contract, and faults need control of the raw socket. This module
uses only the standard library and lxml (already a zeep dependency).
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from gateway import Gender, make_nik

NS = "urn:id:go:kemkes:simpeg:ppnpn:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PATH = "/simpeg/ppnpn"
FAULT_KINDS = (
    "timeout", "http500", "soap_fault", "malformed", "drop", "dtd", "billion_laughs", "xxe",
)

# Classic attacks a hostile or compromised endpoint could send: ten levels of ten-fold entity
# expansion (a few hundred bytes that expand to 10^10 "lol"s, gigabytes), and an external
# entity reading a local file.
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(
        b'<!ENTITY lol%d "' % i + b"&lol%d;" % (i - 1) * 10 + b'">' for i in range(1, 11)
    )
    + b"]>"
)
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


UNITS = (
    "Ditjen Farmalkes",
    "Ditjen Kesehatan Masyarakat",
    "Ditjen Pelayanan Kesehatan",
    "Sekretariat Jenderal",
    "Inspektorat Jenderal",
    "BKPK",
    "RSUP Dr. Mohammad Hoesin Palembang",
    "RSUP Fatmawati",
    "KKP Kelas I Jambi",
    "Poltekkes Kemenkes Bengkulu",
)
POSITIONS = (
    "Pramubakti",
    "Pengemudi",
    "Petugas Keamanan",
    "Tenaga Kebersihan",
    "Operator Komputer",
    "Teknisi Farmasi",
    "Pramu Kantor",
)
GIVEN = ("Agus", "Siti", "Budi", "Dewi", "Rahmat", "Nur", "Andi", "Putri", "Hendra", "Wulan")
FAMILY = ("Saputra", "Lestari", "Hidayat", "Rahmawati", "Siregar", "Nasution", "Pratama")
REGIONS = ("31.74", "16.71", "15.71", "17.71", "18.71", "19.71", "32.73", "33.74")


def demo_employees(n: int, *, seed: int = 14, error_rate: float = 0.0) -> list[dict[str, Any]]:
    """`n` synthetic PPNPN staff (valid NIKs, no real person); a share with realistic typos."""
    rng = random.Random(seed)
    changed = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        gender = Gender.FEMALE if rng.random() < 0.45 else Gender.MALE
        born = date(1970, 1, 1) + timedelta(days=rng.randrange(0, 365 * 33))
        nik = make_nik(REGIONS[i % len(REGIONS)], born, gender, serial=1 + i // len(REGIONS))
        given = GIVEN[rng.randrange(len(GIVEN))]
        emp = {
            "nik": nik,
            "nama": f"{given} {FAMILY[rng.randrange(len(FAMILY))]}",
            "tanggalLahir": born.isoformat(),
            "jenisKelamin": gender.value,
            "unitKerja": UNITS[rng.randrange(len(UNITS))],
            "jabatan": POSITIONS[rng.randrange(len(POSITIONS))],
            "honorarium": str(rng.randrange(3_000_000, 5_500_000, 50_000)),
            "tmt": date(2019 + rng.randrange(6), 1 + rng.randrange(12), 1).isoformat(),
            "status": "AKTIF",
            "diubahPada": changed,
        }
        if rng.random() < error_rate:
            emp["tanggalLahir" if rng.random() < 0.5 else "honorarium"] = "31-02-1990"
        out.append(emp)
    return out


@dataclass
class Fault:
    kind: str
    times: int  # how many requests for that page misbehave


@dataclass
class ServerState:
    employees: dict[str, dict[str, Any]]
    username: str
    password: str
    faults: dict[int, Fault] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    timeout_seconds: float = 3.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class SimpegServer:
    """The fake SIMPEG service in a background thread; a context manager."""

    def __init__(
        self,
        employees: list[dict[str, Any]],
        *,
        username: str = "jamsos",
        password: str = "rahasia-demo",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state = ServerState({e["nik"]: dict(e) for e in employees}, username, password)
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.state = self.state  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    def start(self) -> SimpegServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SimpegServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting the service ---------------------------------------------------------------
    def fail(self, *, page: int, kind: str, times: int = 100) -> None:
        """Make requests for `page` misbehave (`times` times, default: until cleared)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        with self.state.lock:
            self.state.faults[page] = Fault(kind, times)

    def heal(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def update(self, nik: str, **changes: Any) -> None:
        """Change (or add) an employee, stamping diubahPada with the server's clock."""
        with self.state.lock:
            emp = self.state.employees.setdefault(nik, {"nik": nik})
            emp.update(changes, diubahPada=datetime.now(UTC))

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.state.requests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SimpegPPNPN/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def state(self) -> ServerState:
        return self.server.state  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        if self.path.split("?")[0] != PATH:
            self._send(404, b"not found", "text/plain")
            return
        wsdl = (files(__package__) / "simpeg_ppnpn.wsdl").read_bytes()
        host, port = self.server.server_address[:2]
        wsdl = wsdl.replace(
            b"http://127.0.0.1:1/simpeg/ppnpn", f"http://{host}:{port}{PATH}".encode()
        )
        self._send(200, wsdl, "text/xml; charset=utf-8")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
            envelope = etree.fromstring(body, parser)
        except etree.XMLSyntaxError:
            self._fault("soap:Client", "Permintaan bukan XML yang sah / request is not valid XML")
            return
        if not self._authenticated(envelope):
            self._fault("wsse:FailedAuthentication", "Autentikasi gagal / authentication failed")
            return
        req = envelope.find(f"{{{SOAP_ENV}}}Body/{{{NS}}}DaftarPPNPNRequest")
        if req is None:
            self._fault("soap:Client", "Operasi tidak dikenal / unknown operation")
            return
        page = int(req.findtext(f"{{{NS}}}halaman") or 1)
        size = max(1, min(1000, int(req.findtext(f"{{{NS}}}ukuranHalaman") or 100)))
        since_text = req.findtext(f"{{{NS}}}berubahSejak")
        since = datetime.fromisoformat(since_text) if since_text else None
        with self.state.lock:
            self.state.requests.append({"page": page, "size": size, "since": since_text})
            fault = self.state.faults.get(page)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.state.faults[page]
            now = datetime.now(UTC)
            chosen = [
                e for e in self.state.employees.values() if since is None or e["diubahPada"] > since
            ]
        if fault is not None and self._misbehave(fault.kind):
            return
        chosen.sort(key=lambda e: e["nik"])
        pages = max(1, math.ceil(len(chosen) / size))
        items = chosen[(page - 1) * size : page * size]
        self._send(200, _response(now, page, pages, len(chosen), items), "text/xml; charset=utf-8")

    def _authenticated(self, envelope: Any) -> bool:
        token = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if token is None:
            return False
        user = token.findtext(f"{{{WSSE}}}Username")
        password = token.findtext(f"{{{WSSE}}}Password")
        return user == self.state.username and password == self.state.password

    def _misbehave(self, kind: str) -> bool:
        """Answer badly; True when the request is answered (or deliberately not)."""
        if kind == "timeout":
            time.sleep(self.state.timeout_seconds)
            return False  # then answer normally, too late for the client
        if kind == "http500":
            self._send(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        elif kind == "soap_fault":
            self._fault("soap:Server", "Basis data SIMPEG sedang dipelihara / database maintenance")
        elif kind == "malformed":
            self._send(200, _response(datetime.now(UTC), 1, 9, 9, [])[:-60], "text/xml")
        elif kind == "dtd":
            bomb = (
                b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
                b'<soap:Envelope xmlns:soap="' + SOAP_ENV.encode() + b'"><soap:Body>&lol2;'
                b"</soap:Body></soap:Envelope>"
            )
            self._send(200, bomb, "text/xml")
        elif kind in ("billion_laughs", "xxe"):
            prolog, entity = (BILLION_LAUGHS, b"&lol10;") if kind == "billion_laughs" else (
                XXE, b"&xxe;")
            body = (
                prolog + b'<soap:Envelope xmlns:soap="' + SOAP_ENV.encode() + b'"><soap:Body>'
                + entity + b"</soap:Body></soap:Envelope>"
            )
            self._send(200, body, "text/xml")
        elif kind == "drop":
            # Promise a long body, send a part of it, hang up: a connection lost mid-response.
            body = _response(datetime.now(UTC), 1, 9, 9, [])
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body) + 5000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        return True

    def _fault(self, code: str, text: str) -> None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:wsse="{WSSE}"><soap:Body>'
            f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{escape(text)}</faultstring>"
            f"</soap:Fault></soap:Body></soap:Envelope>"
        ).encode()
        self._send(500, body, "text/xml; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _response(now: datetime, page: int, pages: int, total: int, items: list[dict]) -> bytes:
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}">'
        f'<soap:Body><DaftarPPNPNResponse xmlns="{NS}">'
        f"<waktuServer>{now.isoformat()}</waktuServer><halaman>{page}</halaman>"
        f"<jumlahHalaman>{pages}</jumlahHalaman><jumlahData>{total}</jumlahData>"
    ]
    for e in items:
        fields = "".join(
            f"<{k}>{escape(str(e[k]))}</{k}>"
            for k in ("nik", "nama", "tanggalLahir", "jenisKelamin", "unitKerja", "jabatan",
                      "honorarium", "tmt", "status")
            if e.get(k) is not None
        )  # fmt: skip
        parts.append(
            f"<pegawai>{fields}<diubahPada>{e['diubahPada'].isoformat()}</diubahPada></pegawai>"
        )
    parts.append("</DaftarPPNPNResponse></soap:Body></soap:Envelope>")
    return "".join(parts).encode()


def main() -> None:  # pragma: no cover - manual use: python -m jamsos_kemenkes.server
    import argparse

    parser = argparse.ArgumentParser(description="Demo SIMPEG PPNPN SOAP service (loopback)")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--employees", type=int, default=1000)
    args = parser.parse_args()
    with SimpegServer(demo_employees(args.employees), port=args.port) as server:
        print(f"SIMPEG demo at {server.url} (WSDL: {server.url}?wsdl); Ctrl-C to stop")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()
