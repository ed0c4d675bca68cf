"""The scheduler loop: common verbs, error codes for bad requests, timers, seq numbering."""

from __future__ import annotations

import pytest

from firmware_sim import Scheduler
from firmware_sim.args import Args
from firmware_sim.errors import RequestError


@pytest.mark.parametrize(
    ("app", "verb", "args", "code"),
    [
        ("Bad App", "register", {"platform": "ios"}, "invalid_app_id"),
        ("a", "register", {"platform": "symbian"}, "invalid_args"),
        ("a", "register", {"platform": ["ios"]}, "invalid_args"),
        ("a", "register", "not an object", "invalid_args"),
        ("a", "register", {"platform": "capacitor", "bukcet": "rare"}, "invalid_args"),
        ("nobody", "before_exit", {}, "not_registered"),
    ],
)
def test_bad_requests_get_codes(app: str, verb: str, args: object, code: str) -> None:
    response, events = Scheduler().handle(0, app, verb, args)
    assert (response.status, response.code) == ("error", code), response
    assert events == []


def test_unknown_and_foreign_verbs() -> None:
    s = Scheduler()
    assert s.handle(0, "a", "register", {"platform": "capacitor"})[0].ok
    assert s.handle(0, "a", "teleport", {})[0].code == "unknown_verb"
    assert s.handle(0, "a", "add", {"name": "x", "type": "periodic"})[0].code == "wrong_platform"
    assert s.handle(0, "a", "register", {"platform": "ios"})[0].code == "platform_mismatch"


def test_state_and_status_common_verbs() -> None:
    s = Scheduler()
    s.handle(0, "a", "register", {"platform": "capacitor"})
    r, _ = s.handle(1, "a", "state", {"state": "background"})
    assert r.data == {"state": "background", "previous": "foreground"}
    assert s.handle(1, "a", "state", {"state": "asleep"})[0].code == "invalid_args"
    status = s.handle(2, "a", "status", {})[0].data
    assert status["app"]["state"] == "background" and status["seq"] == 0 and status["tasks"] == {}


def test_time_never_goes_back() -> None:
    s = Scheduler()
    s.advance(10)
    with pytest.raises(ValueError, match="cannot go back"):
        s.advance(5)


def test_enum_choice_refuses_unhashable_values() -> None:
    args = Args({"network_type": [1], "kind": {"a": 1}})
    with pytest.raises(RequestError):
        args.choice("network_type", {"wifi": 2, 2: 2})
    with pytest.raises(RequestError):
        args.choice("kind", ("a", "b"))


def test_camel_case_verbs_are_accepted() -> None:
    s = Scheduler()
    s.handle(0, "a", "register", {"platform": "capacitor"})
    r, events = s.handle(0, "a", "beforeExit", {})
    assert r.ok and events[0].type == "wake"
