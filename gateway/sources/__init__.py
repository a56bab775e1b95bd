"""Sources: where rosters and budgets come from, and the plugins that bring them.

`base` holds the declarative classes a plugin subclasses (re-exported here and from `gateway`);
`hookspecs` the contract; `loader` the plugin manager; `csv`, `soap`, `transport` and `spool`
the kits' machinery; `sync` runs one source end to end; `scaffold` writes a new plugin.
"""

from gateway.sources.base import CsvSource, Fetch, SoapSource, Source

__all__ = ["CsvSource", "Fetch", "SoapSource", "Source"]
