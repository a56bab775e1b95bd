"""Coverage against targets as compliance staff read it: people covered today, once each."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gateway import clock
from gateway.budget.coverage import TargetsError, coverage, load_targets
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from tests.helpers.roster import worker_row, write_roster


def submit(gw, tmp_path: Path, agency: str, rows: list[list[str]]) -> None:
    path = write_roster(tmp_path / f"{agency}.csv", rows)
    report = submit_roster(gw.registry, path, agency=resolve_agency(agency),
                           today=clock.today(), trigger="test")  # fmt: skip
    assert report.status == "succeeded", report.problems


def by_code(result: dict, kind: str) -> dict[str, dict]:
    return {r["code"]: r for r in result[kind]}


def test_a_person_enrolled_by_a_regency_and_its_province_counts_once(gw, tmp_path):
    submit(gw, tmp_path, "15.05", [worker_row(0), worker_row(1)])
    submit(gw, tmp_path, "15", [worker_row(0)])  # the same person, also on the province's roster
    result = coverage(gw.engine, [])
    assert by_code(result, "regencies")["15.05"]["enrolled"] == 2
    assert by_code(result, "provinces")["15"]["enrolled"] == 2  # was 3: one person twice


def test_a_worker_who_has_not_started_yet_is_not_covered_yet(gw, tmp_path):
    later = worker_row(1)
    later[6] = date(clock.today().year + 1, 6, 1).strftime("%d-%m-%Y")  # TMT next year
    submit(gw, tmp_path, "15.05", [worker_row(0), later])
    result = coverage(gw.engine, [])
    assert by_code(result, "regencies")["15.05"]["enrolled"] == 1
    assert by_code(result, "provinces")["15"]["enrolled"] == 1


def targets_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_target_codes_are_read_as_the_gateway_writes_them(tmp_path):
    path = targets_file(
        tmp_path,
        """
[[targets]]
code = "1505"
year = 2025
target = 10
[[targets]]
code = "KEMENDES"
year = 2025
target = 5
""",
    )
    # "1505" was a province of its own, with nobody enrolled; KEMENDES a second ministry.
    assert [t.code for t in load_targets(path)] == ["15.05", "kemendes"]


@pytest.mark.parametrize(
    ("entry", "says"),
    [('code = "99"\nyear = 2025\ntarget = 10', "99"),
     ('code = "15.05"\nyear = 2025\ntarget = -3', "more than 0"),
     ('code = "15.05"\nyear = 2025\nreported_percent = 135', "0 to 100")],
)  # fmt: skip
def test_a_target_that_cannot_be_right_is_refused(tmp_path, entry, says):
    with pytest.raises(TargetsError) as caught:  # a -66.667 % coverage was shown
        load_targets(targets_file(tmp_path, f"[[targets]]\n{entry}\n"))
    assert says in str(caught.value)


def test_a_later_reported_percentage_keeps_the_last_numeric_target(gw, tmp_path):
    path = targets_file(
        tmp_path,
        """
[[targets]]
code = "31"
year = 2024
target = 8_200_000
[[targets]]
code = "31"
year = 2025
reported_percent = 35
""",
    )
    gw.registry  # noqa: B018 - migrated: nobody enrolled yet
    row = by_code(coverage(gw.engine, load_targets(path)), "provinces")["31"]
    assert (row["target"], row["target_year"], row["reported_percent"]) == (8_200_000, 2024, 35)
