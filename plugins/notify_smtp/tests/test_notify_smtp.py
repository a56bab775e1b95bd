"""The SMTP plugin's own checks: the message it builds and the settings it refuses. Delivery
through a real SMTP server, with login and a $file: password: tests/integration/test_alerts.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from jamsos_notify_smtp import SmtpSettingsError, message_of, send_alert

from gateway import Alert, AlertSettings

ALERT = Alert("feed_late", "warning", "Sumber apbd-sipd terlambat", "Feed apbd-sipd is late",
              "kemendagri", {"source": "apbd-sipd", "due": "2026-12-01T05:00:00+00:00"},
              datetime(2026, 12, 2, 6, 0, tzinfo=UTC))


def test_the_message_says_what_happened_in_both_languages() -> None:
    msg = message_of(ALERT, "Jamsos <jamsos@example.go.id>", ["ops@example.go.id"])
    assert msg["Subject"] == ("Jamsos Gateway [WARNING] Sumber apbd-sipd terlambat / "
                              "Feed apbd-sipd is late")
    assert msg["X-Jamsos-Alert-Kind"] == "feed_late" and msg["X-Jamsos-Agency"] == "kemendagri"
    body = msg.get_content()
    assert "Instansi / agency: kemendagri" in body and "source: apbd-sipd" in body


@pytest.mark.parametrize(("values", "says"), [
    ({"to": ["ops@example.go.id"]}, "host"),
    ({"host": "127.0.0.1", "to": []}, "to"),
    ({"host": "127.0.0.1", "to": "ops@example.go.id", "tls": "maybe"}, "tls"),
])
def test_unusable_settings_are_refused_naming_the_setting(values, says) -> None:
    with pytest.raises(SmtpSettingsError, match=says):
        send_alert(ALERT, AlertSettings(values))
