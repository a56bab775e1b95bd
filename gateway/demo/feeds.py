"""The demo agencies' feeds for a scheduler: `python -m gateway.demo.feeds SOURCES_TOML`.

`jamsos sync` and Airflow's workers read each source's settings from a sources file. For the
demo, every plugin's `prepare_demo` hook makes its input (sample files in drop folders, a
SOAP service on 127.0.0.1) and says how to reach it; this module writes those settings as a
sources file and then keeps the process alive, because a demo service started by a hook is a
thread of this process. `make airflow` runs it in the background; tests call
`write_demo_sources` directly.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from gateway.config import load_config
from gateway.sources.loader import make_plugin_manager


def demo_settings(instance_path: str | Path) -> dict[str, dict[str, Any]]:
    """Every plugin's demo settings, by source id (a plugin that fails is left out)."""
    pm = make_plugin_manager()
    merged: dict[str, dict[str, Any]] = {}
    for impl in pm.hook.prepare_demo.get_hookimpls():
        try:
            found = impl.function(instance_path=str(instance_path)) or {}
        except Exception as exc:  # one broken demo must not stop the others
            print(f"demo of plugin {impl.plugin_name} failed: {exc}", file=sys.stderr)
            continue
        for sid, values in found.items():
            merged[sid] = dict(values)
    return merged


def toml_text(sources: dict[str, dict[str, Any]]) -> str:
    """`[sources."<id>"]` tables of plain values. JSON string escapes are valid TOML basic
    strings, which is all a sources file holds (paths, URLs, `$file:` references)."""
    lines = ["# Written by gateway.demo.feeds for the demo; do not edit.", ""]
    for sid, values in sorted(sources.items()):
        lines.append(f"[sources.{json.dumps(sid)}]")
        for key, value in values.items():
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, int | float):
                text = repr(value)
            else:
                text = json.dumps(str(value), ensure_ascii=False)
            lines.append(f"{json.dumps(key)} = {text}")
        lines.append("")
    return "\n".join(lines)


def write_demo_sources(target: str | Path, instance_path: str | Path | None = None) -> Path:
    """Prepare every plugin's demo input and write the sources file `target`."""
    instance = instance_path or load_config()["INSTANCE_PATH"]
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = toml_text(demo_settings(instance))
    # Written whole then renamed: `make airflow` waits for the file to appear complete.
    partial = target.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m gateway.demo.feeds SOURCES_TOML")
    path = write_demo_sources(args[0])
    print(f"demo feeds ready / umpan demo siap: {path}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()  # the demo services are daemon threads of this process


if __name__ == "__main__":  # pragma: no cover - exercised by `make airflow`
    main()
