"""Sources: where rosters and budgets come from, and the plugins that bring them.

`base` holds the declarative classes a plugin subclasses and `fetch` the plan of one sync
(re-exported here and from `gateway`); `hookspecs` the contract; `loader` the plugin manager;
`csv`, `soap`, `transport` and `spool` the kits' machinery; `replay` the contract kit's SOAP
stand-in; `scaffold` writes a new plugin; `health` judges each feed against its schedule.
Nothing here touches the registry (an import-linter contract holds it): running a source into
it is `gateway/roster/sync.py`, the runs a feed's health is judged from are read by
`gateway/store/feed_health.py`.
"""

from gateway.sources.base import CsvSource, Fetch, SoapSource, Source, StatusFlag

__all__ = ["CsvSource", "Fetch", "SoapSource", "Source", "StatusFlag"]
