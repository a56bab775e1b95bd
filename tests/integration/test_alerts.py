"""Alerts through a real SMTP server (issue 20, item 3).

The notify_smtp plugin, installed as any plugin is (entry point), e-mails the gateway's alerts
to a real SMTP server on 127.0.0.1 (aiosmtpd) that requires a login; the password is a
`$file:` reference. The gateway notices by itself, from the feeds' health
(`gateway.alerts.check_alerts`, run by every process's sweep): a sync still failing after its
retries, a feed late past its schedule, a run that ended an unusual share of an agency's
workers; each once, however often it is checked. A NIK in an error text never leaves.
"""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from importlib.resources import files
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gateway.alerts import check_alerts, raise_alert
from gateway.domain.agencies import resolve_agency
from gateway.roster.endings import NO_LIMIT
from gateway.roster.submit import submit_roster
from gateway.roster.sync import sync_source
from gateway.store import alerts as stored
from tests.helpers.roster import worker_row, write_roster

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
SIPD_SAMPLE = Path(str(files("jamsos_apbd") / "samples" / "sipd_apbd_2025.csv"))
PASSWORD = "kata-sandi-rahasia"


class Inbox:
    """aiosmtpd handler: keeps each message delivered."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def _login(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)  # aiosmtpd then answers 535 itself


@pytest.fixture
def inbox():
    handler = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd's start() connects to it)
        probe.bind(("127.0.0.1", 0))
        handler.port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port,
                            authenticator=_login, auth_require_tls=False,
                            auth_required=True)  # fmt: skip
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def alerting(gw, inbox, tmp_path):
    """The gateway configured to e-mail alerts to `inbox`, the password in a secret file."""
    gw.ensure_ready()
    secret = tmp_path / "smtp_password"
    secret.write_text(PASSWORD + "\n")
    config = tmp_path / "gateway.toml"
    config.write_text(
        "[alerts.notify_smtp]\n"
        f'host = "127.0.0.1"\nport = {inbox.port}\ntls = "none"\n'
        f'username = "jamsos"\npassword = "$file:{secret}"\n'
        'sender = "Jamsos Gateway <jamsos@example.go.id>"\n'
        'to = ["ops@example.go.id", "liaison@example.go.id"]\n'
    )
    gw.config["CONFIG_FILE"] = str(config)
    return gw


def test_an_alert_is_e_mailed_through_smtp_without_its_nik(alerting, inbox):
    hooked = {i.plugin_name for i in alerting.plugins.hook.send_alert.get_hookimpls()}
    assert "notify_smtp" in hooked  # installed as any plugin is, by its entry point
    sent = raise_alert(alerting, kind="sync_failed", severity="error", agency="kemenkes",
                       title_id="Sinkronisasi kemenkes-ppnpn gagal setelah percobaan terakhir",
                       title_en="Sync kemenkes-ppnpn failed after its last retry",
                       details={"source": "kemenkes-ppnpn", "try_number": 4,
                                "error": "row for 1505014101900001 refused by SIMPEG"})
    assert sent is True
    [mail] = inbox.messages
    assert mail["Subject"] == ("Jamsos Gateway [ERROR] Sinkronisasi kemenkes-ppnpn gagal setelah "
                               "percobaan terakhir / Sync kemenkes-ppnpn failed after its last "
                               "retry")
    assert mail["X-Envelope-To"] == "ops@example.go.id, liaison@example.go.id"
    assert mail["X-Jamsos-Alert-Kind"] == "sync_failed" and mail["X-Jamsos-Agency"] == "kemenkes"
    body = mail.get_content()
    assert "try_number: 4" in body and "Instansi / agency: kemenkes" in body
    assert "1505014101900001" not in body and "1505********0001" in body
    [row] = stored.recent(alerting.engine)
    assert row["delivered"] == ["notify_smtp"] and row["failures"] == {}


def test_a_refused_login_is_recorded_and_the_raiser_carries_on(alerting, inbox, tmp_path):
    (tmp_path / "smtp_password").write_text("wrong")
    assert raise_alert(alerting, kind="feed_late", severity="warning", agency="kemendes",
                       title_id="Terlambat", title_en="Late") is True
    assert inbox.messages == []
    [row] = stored.recent(alerting.engine)
    assert row["delivered"] == []
    assert row["failures"]["notify_smtp"].startswith("SMTPAuthenticationError")


def test_the_gateway_notices_failing_late_and_unusual_feeds_once(alerting, inbox, tmp_path):
    gw, pm = alerting, alerting.plugins
    catalog = gw.sources()
    # A feed still failing: the Kemendes drop folder does not exist.
    kemendes = catalog["kemendes-pendamping"].cls({"folder": str(tmp_path / "nowhere")})
    failed = sync_source(gw.registry, pm, kemendes, today=date.today(), trigger="test")
    assert failed.status == "failed"
    # A feed that ran, and is late by the time its next due time has passed (monthly).
    sipd = catalog["apbd-sipd"].cls({"path": str(SIPD_SAMPLE)})
    assert sync_source(gw.registry, pm, sipd, today=date.today(), trigger="test").status == (
        "succeeded")
    # A run that ended 8 of an agency's 10 workers (let through, as a confirmed one would be).
    muaro_jambi = resolve_agency("15.05")
    for n in (10, 2):
        roster = write_roster(tmp_path / f"r{n}.csv", [worker_row(i) for i in range(n)])
        submit_roster(gw.registry, roster, agency=muaro_jambi, today=date.today(),
                      trigger="test", endings=NO_LIMIT)

    soon = datetime.now(UTC) + timedelta(minutes=30)  # within the retries: not yet
    assert {a.kind for a in check_alerts(gw, now=soon)} == {"endings_unusual"}
    later = datetime.now(UTC) + timedelta(days=40)  # past the retries and a monthly due time
    raised = {(a.kind, a.details.get("source")) for a in check_alerts(gw, now=later)}
    # The endings again: still the feed's last run, and ALERT_REPEAT_HOURS (24) went by.
    assert raised == {("sync_failed", "kemendes-pendamping"), ("feed_late", "apbd-sipd"),
                      ("endings_unusual", "upload")}
    assert check_alerts(gw, now=later + timedelta(minutes=1)) == []  # each once
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert len(subjects) == 4
    assert any("ended 8 of 15.05's workers" in s for s in subjects), subjects
    assert any("Feed apbd-sipd is late" in s for s in subjects), subjects
    assert any("Sync kemendes-pendamping is still failing" in s for s in subjects), subjects
