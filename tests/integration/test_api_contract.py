"""Every route's real answers, successes and errors, against the OpenAPI document: a field the
API sends and the document does not describe (or the reverse), a wrong type or an
undocumented status code fails here. (Five 200 answers had no schema at all.)"""

from __future__ import annotations

import io
import time
from typing import Any

import jsonschema
import pytest

from tests.helpers.roster import worker_row, write_roster


@pytest.fixture
def spec(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").json


def conforms(spec: dict, route: str, method: str, response: Any) -> None:
    """The answer's status is documented for the route and its body fits that schema."""
    answers = spec["paths"][route][method]["responses"]
    status = str(response.status_code)
    assert status in answers, f"{method.upper()} {route}: {status} is not documented"
    schema = answers[status].get("content", {}).get("application/json", {}).get("schema")
    assert schema is not None, f"{method.upper()} {route}: {status} has no schema"
    document = {**schema, "components": spec["components"]}
    jsonschema.Draft202012Validator(document).validate(response.json)


def test_every_route_answers_as_documented(app, client, gw, spec, tmp_path):
    key = gw.registry.create_api_key("15.05")
    other = gw.registry.create_api_key("31")
    auth = {"Authorization": f"Bearer {key}"}
    roster = write_roster(tmp_path / "r.csv", [worker_row(i, wage=1_000_000) for i in range(3)])
    bad = write_roster(tmp_path / "bad.csv", [["", "Budi", "L", "", "", "x", ""]])
    rosters = "/api/v1/agencies/{code}/rosters"
    check = "/api/v1/agencies/{code}/rosters/check"

    def post(url: str, path=None, headers=auth, **form: str) -> Any:
        data: dict[str, Any] = dict(form)
        if path is not None:
            data["file"] = (open(path, "rb"), path.name)  # noqa: SIM115 - closed by the client
        return client.post(url, headers=headers, data=data, content_type="multipart/form-data")

    submitted = post("/api/v1/agencies/15.05/rosters?wait=1", roster, fiscal_year="2025",
                     allocation="jkk=72.000")  # fmt: skip
    assert submitted.status_code == 201
    run_id = submitted.json["run_id"]
    cases = [
        (rosters, "post", submitted),
        (rosters, "post", post("/api/v1/agencies/15.05/rosters", roster)),  # 200 replay
        (rosters, "post", post("/api/v1/agencies/15.05/rosters?wait=1", bad, fiscal_year="2025",
                               allocation="jkk=1")),  # 422, with allocation_note
        (rosters, "post", post("/api/v1/agencies/15.05/rosters")),  # 400 no file
        (rosters, "post", post("/api/v1/agencies/15.05/rosters", roster, allocation="jkk=1")),
        (rosters, "post", post("/api/v1/agencies/15.05/rosters", roster, headers={})),  # 401
        (rosters, "post", post("/api/v1/agencies/31/rosters", roster)),  # 403
        (check, "post", post("/api/v1/agencies/15.05/rosters/check", roster)),
        ("/api/v1/runs", "get", client.get("/api/v1/runs", headers=auth)),
        ("/api/v1/runs", "get", client.get("/api/v1/runs?limit=0", headers=auth)),
        ("/api/v1/runs/{run_id}", "get", client.get(f"/api/v1/runs/{run_id}", headers=auth)),
        ("/api/v1/runs/{run_id}", "get", client.get("/api/v1/runs/999999", headers=auth)),
        ("/api/v1/runs/{run_id}", "get",
         client.get(f"/api/v1/runs/{run_id}", headers={"Authorization": f"Bearer {other}"})),
        ("/api/v1/workers/lookup", "post",
         client.post("/api/v1/workers/lookup", json={"nik": worker_row(0)[0]}, headers=auth)),
        ("/api/v1/workers/lookup", "post",
         client.post("/api/v1/workers/lookup", json={"nik": "1505010101800099"},
                     headers=auth)),
        ("/api/v1/workers/lookup", "post",
         client.post("/api/v1/workers/lookup", json={"nik": "15050101"}, headers=auth)),
        ("/api/v1/workers/{nik}", "get",
         client.get(f"/api/v1/workers/{worker_row(0)[0]}", headers=auth)),  # 410
        ("/api/v1/budget/{government}/{year}", "get",
         client.get("/api/v1/budget/15.05/2025?what_if_raise=5", headers=auth)),
        ("/api/v1/budget/{government}/{year}", "get",
         client.get("/api/v1/budget/15.05/2025?what_if_raise=x", headers=auth)),
        ("/api/v1/budget/{government}/{year}", "get",
         client.get("/api/v1/budget/15.05/2014", headers=auth)),  # 422 rates_not_in_force
        ("/api/v1/coverage", "get", client.get("/api/v1/coverage", headers=auth)),
        ("/api/v1/receipt-key", "get", client.get("/api/v1/receipt-key")),
        ("/api/v1/openapi.json", "get", client.get("/api/v1/openapi.json")),
    ]  # fmt: skip
    old = worker_row(9)
    old[6] = "01-01-2013"  # the 422 above needs a worker with months before the rate tables
    # It ends the three enrolled above: confirmed (issue 16: endings above 20 % need it).
    ended = post("/api/v1/agencies/15.05/rosters?wait=1", write_roster(tmp_path / "o.csv", [old]),
                 confirm_endings="3")  # fmt: skip
    assert ended.status_code == 201, ended.json
    # Unconfirmed, the same would be refused (409); without ?wait=1, accepted (202).
    cases.append((rosters, "post", post("/api/v1/agencies/15.05/rosters?wait=1", roster)))
    accepted = post("/api/v1/agencies/15.05/rosters", write_roster(tmp_path / "a.csv", [old,
                    worker_row(10)]))  # fmt: skip
    cases.append((rosters, "post", accepted))
    for _ in range(200):  # followed until applied, as a client does
        followed = client.get(accepted.headers["Location"], headers=auth)
        if followed.json["status"] != "running":
            break
        time.sleep(0.05)
    cases.append(("/api/v1/runs/{run_id}", "get", followed))
    at = next(i for i, case in enumerate(cases) if case[2].request.path.endswith("/2014"))
    cases[at] = (cases[at][0], "get", client.get("/api/v1/budget/15.05/2014", headers=auth))
    assert cases[at][2].status_code == 422
    app.config["MAX_CONTENT_LENGTH"] = 1024
    big = client.post("/api/v1/agencies/15.05/rosters", headers=auth,
                      data={"file": (io.BytesIO(b"x" * 4096), "big.csv")},
                      content_type="multipart/form-data")  # fmt: skip
    cases.append((rosters, "post", big))  # 413 with limit_mb
    statuses = set()
    for route, method, response in cases:
        conforms(spec, route, method, response)
        statuses.add(response.status_code)
    assert statuses >= {200, 201, 202, 400, 401, 403, 404, 409, 413, 422}
