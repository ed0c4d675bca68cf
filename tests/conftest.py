"""Fixtures shared by every test directory: a private Mosquitto (see ``tests/mosquitto.py``).

- ``mosquitto``: one broker for the whole session (anonymous, password + ACL, TLS and
  mutual-TLS listeners); tests keep apart by using their own rig ids.
- ``mosquitto_factory``: extra brokers for one test (custom users / ACL / persistence), which
  the test may kill and restart; all are stopped when the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.mosquitto import Mosquitto, mosquitto_binary

#: Users of the session broker's authenticated listener, and its ACL (every user everywhere;
#: tests of confinement build their own broker from ``wakebench acl``).
SESSION_USERS = {"wakebench-test": "test-password", "dashboard": "dash-pw"}
SESSION_ACL = "".join(f"user {name}\ntopic readwrite #\n\n" for name in SESSION_USERS)


def _require_mosquitto() -> None:
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto mosquitto-clients)")


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A running broker shared by the session."""
    _require_mosquitto()
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"), users=SESSION_USERS, acl=SESSION_ACL)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def mosquitto_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Mosquitto]]:
    """``make(**Mosquitto kwargs)`` → a started broker of this test (stopped afterwards)."""
    _require_mosquitto()
    made: list[Mosquitto] = []

    def make(**kwargs: Any) -> Mosquitto:
        broker = Mosquitto(tmp_path_factory.mktemp("broker"), **kwargs)
        made.append(broker)
        return broker.start()

    yield make
    for broker in made:
        broker.stop()
