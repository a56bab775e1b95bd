"""Configuration: built-in defaults -> a TOML file -> environment variables `JAMSOS_*`.

Secrets are never written in the TOML file itself: a value may be a reference, `$env:NAME`
(read from the environment) or `$file:/path` (read from a file, e.g. a mounted secret).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "INSTANCE_PATH": "instance",
    "DATABASE_URL": None,  # None: a SQLite file in the instance folder
    "DATA_KEYS": None,  # "kid:base64key,kid2:base64key" (first encrypts); None: instance key file
    "INDEX_KEY": None,  # base64 HMAC key of the blind index
    "RECEIPT_KEY": None,  # PEM Ed25519 private key signing receipts; None: instance file
    "MAX_UPLOAD_MB": 64,
    "BATCH_SIZE": 2000,
    "CONFIG_FILE": None,  # default: config/gateway.toml in the working directory, if present
    # A roster ending more than this share of its agency's active workers needs a confirmation
    # of that number (gateway/roster/endings.py); a run that ended more, or rejected more
    # than REJECT_ATTENTION_SHARE of its rows, shows its feed as needing attention.
    "ENDING_CONFIRM_SHARE": 0.2,
    "REJECT_ATTENTION_SHARE": 0.1,
    "UPLOAD_THREADS": 2,  # rosters a server process applies at once (gateway/roster/queue.py)
    "SERVE_TIMEOUT": 120,  # seconds: gunicorn's worker timeout for `jamsos serve`
    # Operations (issue 20, docs/operations.md): every gateway process (server worker,
    # command, scheduler task) sweeps runs left `running` by a killed process this often; a
    # run whose process it cannot check (another machine or container) fails after
    # STALE_RUN_HOURS. A feed whose last run failed raises an alert once it stayed failed
    # ALERT_FAILED_AFTER_MINUTES (past Airflow's last retry; 0: never, Airflow's callback
    # alone); the same alert is not raised again within ALERT_REPEAT_HOURS.
    "SWEEP_SECONDS": 60,
    "STALE_RUN_HOURS": 6,
    "ALERT_FAILED_AFTER_MINUTES": 75,
    "ALERT_REPEAT_HOURS": 24,
    # Regional rosters without a schedule of their own start at a minute of their
    # government's own within this many minutes of the class's time (gateway/domain/schedules.py;
    # the DAGs and the feeds' health read it alike; 0: all at the class's time).
    "SCHEDULE_SPREAD_MINUTES": 180,
}

# Settings whose environment value is converted from text.
_INTS = {"MAX_UPLOAD_MB", "BATCH_SIZE", "UPLOAD_THREADS", "SERVE_TIMEOUT", "SWEEP_SECONDS",
         "STALE_RUN_HOURS", "ALERT_FAILED_AFTER_MINUTES", "ALERT_REPEAT_HOURS",
         "SCHEDULE_SPREAD_MINUTES"}
_FLOATS = {"ENDING_CONFIRM_SHARE", "REJECT_ATTENTION_SHARE"}


class ConfigError(Exception):
    """The configuration cannot be used; the message says which setting and why."""


def resolve_secret(value: str | None) -> str | None:
    """Resolve a `$env:NAME` or `$file:/path` reference; plain values pass through."""
    if value is None or not isinstance(value, str):
        return value
    if value.startswith("$env:"):
        name = value[5:]
        if name not in os.environ:
            raise ConfigError(f"environment variable {name} (referenced by {value}) is not set")
        return os.environ[name]
    if value.startswith("$file:"):
        path = Path(value[6:])
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {path}: {exc.strerror}") from exc
    return value


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the effective configuration.

    Order (later wins): DEFAULTS, the TOML file's `[gateway]` table (keys in any case),
    `JAMSOS_<KEY>` environment variables, then `overrides` (tests, create_app(config=...)).
    """
    config: dict[str, Any] = dict(DEFAULTS)
    overrides = dict(overrides or {})
    if "CONFIG_FILE" in overrides:  # explicit, even None: tests run without the repo's file
        config_file = overrides["CONFIG_FILE"]
    else:
        config_file = os.environ.get("JAMSOS_CONFIG_FILE") or (
            "config/gateway.toml" if Path("config/gateway.toml").is_file() else None
        )
    if config_file:
        try:
            with open(config_file, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read configuration file {config_file}: {exc}") from exc
        for key, value in data.get("gateway", {}).items():
            config[key.upper()] = value
        config["CONFIG_FILE"] = config_file
    for key in list(DEFAULTS):
        env = os.environ.get(f"JAMSOS_{key}")
        if env is not None and env != "":
            config[key] = env
    config.update(overrides)
    for key in _INTS:
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key} must be a whole number, got {config[key]!r}") from exc
    for key in _FLOATS:
        try:
            config[key] = float(config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key} must be a number, got {config[key]!r}") from exc
    for key in ("DATA_KEYS", "INDEX_KEY", "RECEIPT_KEY", "DATABASE_URL"):
        config[key] = resolve_secret(config.get(key))
    instance = Path(config["INSTANCE_PATH"]).expanduser().resolve()
    config["INSTANCE_PATH"] = str(instance)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance / 'jamsos.db'}"
    return config
