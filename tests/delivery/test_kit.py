"""The destination contract kit run on destinations defined here: one that keeps the contract
passes every check, and one that answers a repeated key differently is caught."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import ClassVar

import pytest

from gateway import Ack, Destination, OutgoingMutation, hookimpl
from gateway.testing import DestinationContract

_numbers = itertools.count(1)


class Faithful(Destination):
    """Answers each key once and the same ever after, as BPJS does."""

    id = "faithful"
    title = "Faithful double"
    answered: ClassVar[dict[str, Ack]] = {}

    def send(self, mutations: Sequence[OutgoingMutation]) -> Sequence[Ack]:
        out = []
        for m in mutations:
            if m.key not in self.answered:
                self.answered[m.key] = Ack(m.key, "accepted", kpj=f"{next(_numbers):011d}")
            out.append(self.answered[m.key])
        return out


class Forgetful(Faithful):
    """Registers a repeated key again: a second KPJ for the same mutation."""

    id = "forgetful"

    def send(self, mutations: Sequence[OutgoingMutation]) -> Sequence[Ack]:
        return [Ack(m.key, "accepted", kpj=f"{next(_numbers):011d}") for m in mutations]


@hookimpl
def register_destinations() -> list[type[Destination]]:
    return [Faithful, Forgetful]


class TestFaithfulContract(DestinationContract):
    destination_class = Faithful


class TestForgetfulContract(DestinationContract):
    destination_class = Forgetful

    def test_the_same_batch_twice_is_answered_the_same(self, gateway) -> None:
        with pytest.raises(AssertionError, match="same answer"):
            super().test_the_same_batch_twice_is_answered_the_same(gateway)
