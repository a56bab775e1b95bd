"""Sources: where rosters and budgets come from, and the plugins that bring them.

`base` holds the declarative classes a plugin subclasses (re-exported here and from `gateway`);
`hookspecs` the contract; `loader` the plugin manager; `csv`, `soap`, `transport` and `spool`
the kits' machinery; `scaffold` writes a new plugin. Nothing here touches the registry: running a
source into it is `gateway/roster/sync.py`.
"""

from gateway.sources.base import CsvSource, Fetch, SoapSource, Source

__all__ = ["CsvSource", "Fetch", "SoapSource", "Source"]
