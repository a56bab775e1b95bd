"""The Prometheus alert rules (deploy/prometheus/jamsos-rules.yml) and the metrics they read
(issue 20, item 4).

`promtool test rules` runs the rules' own unit tests (when it fires, when it must not, the
words it says); and every series a rule selects is checked against a real scrape of the
gateway's /metrics with runs in it, so renaming a metric or a label breaks this test rather
than silently muting an alert.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from gateway.alerts import raise_alert
from gateway.roster.sync import sync_source

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
_SELECTOR = re.compile(r"(jamsos_\w+)(?:\{([^}]*)\})?")


def test_promtool_checks_and_unit_tests_pass() -> None:
    if PROMTOOL is None:
        if os.environ.get("CI") == "true":  # .ci/run installs it: never skipped in CI
            pytest.fail("promtool not found; .ci/run installs Debian's prometheus package")
        pytest.skip("promtool not installed (apt install prometheus): rule unit tests skipped")
    for args in (["check", "rules", "jamsos-rules.yml"],
                 ["test", "rules", "jamsos-rules.test.yml"]):
        done = subprocess.run([PROMTOOL, *args], cwd=RULES, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS" in done.stdout


def _samples(client) -> list[tuple[str, dict[str, str], float]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return [(s.name, s.labels, s.value)
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for s in family.samples]  # fmt: skip


def test_every_series_a_rule_reads_is_on_the_gateway_s_metrics(gw, client, tmp_path) -> None:
    gw.ensure_ready()
    kemendes = gw.sources()["kemendes-pendamping"].cls({"folder": str(tmp_path / "nowhere")})
    assert sync_source(gw.registry, gw.plugins, kemendes, today=date.today(),
                       trigger="test").status == "failed"  # fmt: skip
    running = gw.registry.start_run(agency="15.05", source="upload", trigger="test")
    raise_alert(gw, kind="feed_late", severity="warning", agency="kemendes",
                title_id="Terlambat", title_en="Late")  # no plugin configured: undelivered
    samples = _samples(client)

    rules = yaml.safe_load((RULES / "jamsos-rules.yml").read_text())["groups"][0]["rules"]
    checked = 0
    for rule in rules:
        for name, matchers in _SELECTOR.findall(str(rule["expr"])):
            wanted = dict(re.findall(r'(\w+)="([^"]*)"', matchers))
            assert any(n == name and wanted.items() <= labels.items()
                       for n, labels, _ in samples), (rule["alert"], name, wanted)  # fmt: skip
            checked += 1
    assert checked >= 6

    def value(name: str, **labels: str) -> float:
        return next(v for n, ls, v in samples if n == name and labels.items() <= ls.items())

    assert value("jamsos_run_oldest_running_seconds") > 0  # the started run is running
    assert gw.registry.get_run(running)["status"] == "running"
    assert value("jamsos_source_health", source="kemendes-pendamping", state="failing") == 1
    assert value("jamsos_runs", status="failed") == 1
    assert value("jamsos_alerts_raised", kind="feed_late", severity="warning") == 1
    assert value("jamsos_alerts_undelivered") == 1
