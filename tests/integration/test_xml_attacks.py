"""XML attacks on the SOAP path, from a real server on loopback: entity expansion (billion
laughs) and an external entity (XXE) are refused fast, with no memory blow-up, and the run
fails cleanly with nothing applied."""

from __future__ import annotations

import resource
import time
from datetime import date

import pytest
from jamsos_kemenkes.server import SimpegServer, demo_employees

from gateway.roster.sync import sync_source
from gateway.sources.loader import make_plugin_manager, source_catalog
from gateway.testing import registry_counts

TODAY = date(2025, 6, 2)


@pytest.fixture
def server():
    with SimpegServer(demo_employees(60, seed=5)) as srv:
        yield srv


def make_source(pm, server, monkeypatch):
    monkeypatch.setenv("SIMPEG_PASSWORD", "rahasia-demo")
    settings = {"url": server.url, "username": "jamsos", "password": "$env:SIMPEG_PASSWORD",
                "timeout": 2, "connect_timeout": 1, "retries": 0, "backoff": 0.01}
    return source_catalog(pm, {"kemenkes-ppnpn": settings})["kemenkes-ppnpn"].create()


@pytest.mark.parametrize("kind", ["billion_laughs", "xxe"])
def test_hostile_xml_is_refused_without_resource_blow_up(gw, server, monkeypatch, kind):
    pm = make_plugin_manager(allow=["kemenkes"])
    before = registry_counts(gw.registry)
    server.fail(page=1, kind=kind)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = sync_source(gw.registry, pm, make_source(pm, server, monkeypatch), today=TODAY,
                         trigger="test")
    elapsed = time.perf_counter() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert result.status == "failed"
    error = gw.registry.get_run(result.run_id)["error"]
    # zeep's forbid_dtd / forbid_entities, or libxml2's own amplification guard underneath.
    assert any(m in error for m in ("DTDForbidden", "EntitiesForbidden", "amplification")), error
    assert "root:" not in error  # /etc/passwd never read into the record
    assert registry_counts(gw.registry) == before
    # Expanded, the bomb is gigabytes; refused, it costs next to nothing. (Generous bounds:
    # these guard against an expansion, not a benchmark.)
    assert grown_mb < 50 and elapsed < 10
    print(f"\n{kind}: refused in {elapsed:.2f}s, peak RSS grew {grown_mb:.1f} MB")
