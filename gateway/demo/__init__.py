"""The demo: agencies, synthetic rosters and feeds for `make run`, tests and benchmarks.

`rosters` generates and writes rosters, `agencies` lists the demo agencies `jamsos demo load`
enrols, `words` holds the generator's word lists, `feeds` writes the sources file a scheduler
reads.

Until the feature folders, `gateway.demo` was the roster generator itself, and a plugin's
`prepare_demo` imported `generate_roster` from it. Those names still resolve here, with a
DeprecationWarning: plugins take them from `gateway` now.
"""

from __future__ import annotations

import warnings
from typing import Any

_MOVED = ("generate_roster", "generate_labelled_roster", "write_csv", "write_xlsx")


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"gateway.demo.{name} moved: import it from gateway (generate_roster, write_csv) "
            f"or gateway.demo.rosters",
            DeprecationWarning,
            stacklevel=2,
        )
        from gateway.demo import rosters

        return getattr(rosters, name)
    raise AttributeError(f"module 'gateway.demo' has no attribute {name!r}")
