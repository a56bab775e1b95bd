"""The scheduler's side of identity verification (docs/verification.md): `jamsos_verify`
asks Dukcapil about the people a sync or an upload brought (the registry asset) and, daily
just after midnight WIB, resumes a pass a quota or the access hours paused. A gateway server
verifies uploads in the background itself; syncs run as Airflow tasks have no such thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# 00:10 WIB (17:10 UTC): the service's daily quota has just been renewed.
VERIFY_FLOOR = "10 17 * * *"


def run_verify(*, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One verification pass; its counts for XCom (no NIK, no name). Verification not
    configured is a skipped pass (`off`), not a failure."""
    from gateway.orchestration import open_gateway
    from gateway.verify.run import VerificationOff, verify_pending
    from gateway.verify.settings import verification_settings

    with open_gateway(overrides) as gw:
        try:
            settings = verification_settings(gw.config)
            result = verify_pending(gw.registry.engine, gw.registry.keyring, gw.plugins,
                                    settings)  # fmt: skip
        except VerificationOff as exc:
            return {"off": True, "reason": str(exc)[:300]}
        return {"off": False, **result.as_dict()}
