"""The outbound side: what BPJS Ketenagakerjaan is told, and its answers (docs/delivery.md).

employers.py   how BPJS knows each agency as an employer (NPP + division, per work unit, wadah)
mutations.py   what BPJS must be told, derived from the registry's history per employer and month
outbox.py      delivering mutations through a destination plugin, exactly once at the far end
base.py        the Destination class a plugin subclasses, the values it is given and returns
catalog.py     finding destinations (`register_destinations`) with their settings
kit.py         the contract kit for destination plugins (re-exported by gateway.testing)
"""
