"""E-mail the gateway's alerts through an SMTP server (issue 20).

Configured in config/gateway.toml; the password as a reference, never in the file:

    [alerts.notify_smtp]
    host = "smtp.example.go.id"
    port = 587                      # 465: implicit TLS (tls = "ssl")
    tls = "starttls"                # "starttls" (default), "ssl" or "none" (loopback relay only)
    username = "jamsos-alerts"      # optional: no login when absent
    password = "$env:JAMSOS_SMTP_PASSWORD"   # or "$file:/run/secrets/smtp_password"
    sender = "Jamsos Gateway <jamsos@example.go.id>"
    to = ["ops@example.go.id", "bpjs-liaison@example.go.id"]
    min_severity = "warning"        # info | warning | error | critical (the gateway filters)
    timeout = 20                    # seconds

One message per alert: the subject is the severity and both titles; the body the alert's
text (kind, agency, time, details). No NIK is ever in an alert (the gateway masks them).
Raises when the server refuses or cannot be reached: the gateway records the failure and
logs it, and the alert's raiser carries on.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from gateway import hookimpl

__version__ = "0.1.0"

TLS_MODES = ("starttls", "ssl", "none")


class SmtpSettingsError(ValueError):
    """The `[alerts.notify_smtp]` table cannot be used; the message says which setting."""


def _recipients(value: Any) -> list[str]:
    found = [value] if isinstance(value, str) else list(value or [])
    found = [str(a).strip() for a in found if str(a).strip()]
    if not found:
        raise SmtpSettingsError("[alerts.notify_smtp] to: give at least one address")
    return found


def message_of(alert: Any, sender: str, to: list[str]) -> EmailMessage:
    """The e-mail for one alert."""
    msg = EmailMessage()
    msg["Subject"] = f"Jamsos Gateway {alert.subject}"
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="jamsos-gateway")
    msg["X-Jamsos-Alert-Kind"] = alert.kind
    msg["X-Jamsos-Alert-Key"] = alert.key
    if alert.agency:
        msg["X-Jamsos-Agency"] = alert.agency
    msg.set_content(alert.text())
    return msg


@hookimpl
def send_alert(alert: Any, settings: Any) -> None:
    host = settings.setting("host")
    if not host:
        raise SmtpSettingsError("[alerts.notify_smtp] host: the SMTP server is not set")
    tls = str(settings.setting("tls", "starttls")).lower()
    if tls not in TLS_MODES:
        raise SmtpSettingsError(f"[alerts.notify_smtp] tls must be one of {TLS_MODES}, "
                                f"got {tls!r}")
    port = int(settings.setting("port", 465 if tls == "ssl" else 587))
    timeout = float(settings.setting("timeout", 20))
    sender = settings.setting("sender") or "jamsos-gateway@localhost"
    to = _recipients(settings.setting("to"))
    context = ssl.create_default_context()
    if tls == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if tls == "starttls":
            client.starttls(context=context)
        username = settings.setting("username")
        if username:
            client.login(username, settings.setting("password") or "")
        client.send_message(message_of(alert, sender, to))
