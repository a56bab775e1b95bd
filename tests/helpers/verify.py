"""Identity verification in tests: the loopback Dukcapil service holding the people of
tests.helpers.roster's `worker_row`s, and the settings that point the gateway at it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jamsos_dukcapil.server import DukcapilServer, Resident

from gateway.verify.settings import VerificationSettings
from tests.helpers.roster import worker_row

PASSWORD_ENV = "JAMSOS_TEST_DUKCAPIL_PASSWORD"


def resident(i: int, **changes: Any) -> Resident:
    nik, name, gender, born, *_ = worker_row(i)
    person = Resident(nik, name, datetime.strptime(born, "%d-%m-%Y").date(), gender, "JAMBI")
    for key, value in changes.items():
        setattr(person, key, value)
    return person


def population(numbers: range | list[int]) -> list[Resident]:
    return [resident(i) for i in numbers]


def nik_of(i: int) -> str:
    return worker_row(i)[0]


def settings_for(server: DukcapilServer, **overrides: Any) -> dict[str, Any]:
    """`[verification]` as the app's configuration holds it (`VERIFICATION`)."""
    own = {"url": server.url, "user_id": "jamsos", "password": f"$env:{PASSWORD_ENV}",
           "caller_ip": "127.0.0.1", "timeout": 2}
    own.update(overrides.pop("dukcapil", {}))
    return {"provider": "dukcapil", "threshold": 90, "batch_size": 4, "dukcapil": own,
            **overrides}


def verification(server: DukcapilServer, **overrides: Any) -> VerificationSettings:
    from gateway.verify.settings import verification_settings

    return verification_settings({"VERIFICATION": settings_for(server, **overrides)})
