"""Verification's configuration: the `[verification]` table of config/gateway.toml, then
`JAMSOS_VERIFY_<KEY>` environment variables, then `VERIFICATION` in the app's configuration
(tests, `create_app(config=...)`). docs/verification.md lists every key.

    [verification]
    provider = "dukcapil"        # the plugin that answers; absent: verification is off
    threshold = 90               # the score (0-100) an element needs
    recheck_days = 365           # an answer older than this is asked for again
    before_delivery = "wait"     # wait | send | hold (gateway/verify/gate.py)
    batch_size = 50              # people per call of the plugin
    retry_minutes = 30           # after the service was down, refused or closed

    [verification.dukcapil]      # the provider's own settings; secrets as $env:/$file:
    url = "https://..."
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.config import ConfigError

POLICIES = ("wait", "send", "hold")
_INTS = {"threshold": (0, 100), "recheck_days": (1, 36500), "batch_size": (1, 1000),
         "retry_minutes": (1, 10080)}  # fmt: skip


@dataclass(frozen=True)
class VerificationSettings:
    provider: str | None = None
    threshold: int = 90
    recheck_days: int = 365
    before_delivery: str = "wait"
    batch_size: int = 50
    retry_minutes: int = 30
    provider_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.provider)


def _file_table(config: Mapping[str, Any]) -> dict[str, Any]:
    path = config.get("CONFIG_FILE")
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            return dict(tomllib.load(fh).get("verification", {}))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc}") from exc


def verification_settings(config: Mapping[str, Any]) -> VerificationSettings:
    """The effective settings for the gateway configuration `config` (gateway.config)."""
    table = _file_table(config)
    for key in ("provider", "before_delivery", *_INTS):
        env = os.environ.get(f"JAMSOS_VERIFY_{key.upper()}")
        if env:
            table[key] = env
    table.update(config.get("VERIFICATION") or {})
    provider = table.get("provider") or None
    values: dict[str, Any] = {"provider": provider}
    for key, (low, high) in _INTS.items():
        if key not in table:
            continue
        try:
            number = int(table[key])
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            raise ConfigError(
                f"verification.{key} harus bilangan bulat {low}-{high} / must be a whole "
                f"number from {low} to {high}, got {table[key]!r}"
            )
        values[key] = number
    policy = str(table.get("before_delivery", "wait")).strip().lower()
    if policy not in POLICIES:
        raise ConfigError(
            f"verification.before_delivery harus salah satu dari / must be one of "
            f"{', '.join(POLICIES)}, got {table.get('before_delivery')!r}"
        )
    values["before_delivery"] = policy
    own = table.get(provider) if provider else None
    values["provider_settings"] = dict(own) if isinstance(own, Mapping) else {}
    return VerificationSettings(**values)
