"""The README documents every problem code a user can meet."""

from __future__ import annotations

from pathlib import Path

from gateway.domain.parsing import WORDINGS
from gateway.domain.validation import ALL_MESSAGES
from gateway.roster.read.errors import MESSAGES as FILE_MESSAGES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_problem_code_is_in_the_readme_with_its_severity():
    for catalog in (ALL_MESSAGES, FILE_MESSAGES):
        for code, message in catalog.items():
            if code in WORDINGS:  # another code's wording (date_invalid for 31-02-1990)
                continue
            assert f"| `{code}` | {message.severity.value} |" in README, code
