"""What people see of verification, one shape for the API, `jamsos verify` and the dashboard:
a run's problems (by spreadsheet row), an agency's problems, counts per agency, and the
state of the passes (paused by the quota until when). NIKs masked, never a name or an
element; each problem says, in both languages, what it means and what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gateway.clock import aware
from gateway.domain.nik import mask_nik
from gateway.store import verification as store
from gateway.verify.elements import VERDICTS
from gateway.verify.words import CONDITION_WORDS, verdict_words

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gateway.security.crypto import KeyRing

STATES = (*VERDICTS, "pending")


def _when(value: Any) -> str | None:
    moment = aware(value)
    return moment.isoformat() if moment is not None else None


def problem_view(row: Mapping[str, Any], keyring: KeyRing) -> dict[str, Any]:
    words = verdict_words(row["outcome"], row["elements"], row["code"])
    view = {
        "worker_id": row["worker_id"],
        "row": row.get("row"),
        "nik": mask_nik(keyring.decrypt(row["nik_enc"], "workers.nik")),
        "outcome": row["outcome"],
        "elements": list(row["elements"] or []),
        "scores": dict(row["scores"] or {}),
        "code": row["code"],
        "checked_at": _when(row["checked_at"]),
        "message_id": words.id,
        "message_en": words.en,
    }
    if "run_id" in row:
        view.update(run_id=row["run_id"], filename=row.get("filename"))
    return view


def counts_view(counts: Mapping[str, int]) -> dict[str, int]:
    """Every state, zero included, and the total: the same keys whatever was found."""
    out = {state: int(counts.get(state, 0)) for state in STATES}
    out["problems"] = sum(n for s, n in out.items() if s not in ("match", "pending"))
    out["total"] = sum(int(n) for n in counts.values())
    return out


def run_verification(engine: Engine, keyring: KeyRing, run_id: int) -> dict[str, Any]:
    """The run's new and changed workers: counts by state and the problems, by row."""
    return {
        "run_id": run_id,
        "counts": counts_view(store.run_counts(engine, run_id)),
        "problems": [problem_view(r, keyring) for r in store.run_problems(engine, run_id)],
    }


def agency_verification(engine: Engine, keyring: KeyRing, agency: str, *,
                        before: int | None = None, limit: int = 50) -> dict[str, Any]:  # fmt: skip
    """An agency's active workers: counts by state and the problems, newest worker first."""
    counts = store.agency_counts(engine, agency).get(agency, {})
    rows = store.agency_problems(engine, agency, before=before, limit=limit)
    return {"agency": agency, "counts": counts_view(counts),
            "problems": [problem_view(r, keyring) for r in rows]}  # fmt: skip


def compliance_counts(engine: Engine, agency: str | None = None) -> list[dict[str, Any]]:
    """Counts per agency (`agency`: one only), for compliance staff."""
    return [{"agency": code, **counts_view(c)}
            for code, c in store.agency_counts(engine, agency).items()]  # fmt: skip


def pass_state(engine: Engine) -> dict[str, Any]:
    """The last pass: when, what it answered, and the pause it left, with its words."""
    with engine.connect() as conn:
        state = store.read_state(conn)
    stopped = state.get("stopped")
    if stopped in CONDITION_WORDS:
        words = CONDITION_WORDS[stopped]
        code = state.get("code") or "-"
        state["message_id"] = words.id.format(code=code)
        state["message_en"] = words.en.format(code=code)
    return state
