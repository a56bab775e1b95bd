"""Schemathesis against the OpenAPI document: no 5xx, every response matches the schema.

Runs in-process on the WSGI app with a real SQLite registry holding a submitted roster, and a
valid key of that agency on every generated request (so the fuzzing reaches past the 401).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.app import create_app
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from tests.helpers.roster import worker_row, write_roster


def _fuzz_app():
    """Built at import: Schemathesis makes its test cases at collection time."""
    folder = Path(tempfile.mkdtemp(prefix="jamsos-fuzz-"))
    app = create_app({"INSTANCE_PATH": str(folder / "instance"), "CONFIG_FILE": None})
    gw = app.extensions["jamsos"]
    roster = write_roster(folder / "r.csv", [worker_row(i) for i in range(5)])
    submit_roster(gw.registry, roster, agency=resolve_agency("15.05"), today=date(2026, 1, 5),
                  trigger="test")
    app.config["FUZZ_KEY"] = gw.registry.create_api_key("15.05")
    app.config["FUZZ_FOLDER"] = folder
    return app


APP = _fuzz_app()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    shutil.rmtree(APP.config["FUZZ_FOLDER"], ignore_errors=True)


@schema.parametrize()
@hypothesis.settings(max_examples=25, deadline=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_api_never_fails_and_matches_its_schema(case):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {APP.config['FUZZ_KEY']}"},
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
