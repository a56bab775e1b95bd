"""A plugin written against the gateway before its feature folders keeps working.

The only module a shipped plugin imported from outside the public face was `gateway.demo`
(`generate_roster`, `write_csv` in its `prepare_demo`): those names still resolve there, with a
DeprecationWarning that says where they live now.
"""

from __future__ import annotations

import pytest

import gateway
from gateway.demo import rosters


@pytest.mark.parametrize("name", ["generate_roster", "write_csv"])
def test_an_old_demo_import_still_works_and_says_where_the_name_went(name):
    with pytest.warns(DeprecationWarning, match=rf"gateway\.demo\.{name} moved"):
        from gateway import demo

        moved = getattr(demo, name)
    assert moved is getattr(rosters, name)
    assert moved is getattr(gateway, name)  # the public face serves the same function


def test_an_unknown_name_is_still_an_attribute_error():
    from gateway import demo

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        demo.nothing_here  # noqa: B018
