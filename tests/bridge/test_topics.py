"""Topics of DESIGN.md section 7, built in one module; ids outside [a-z0-9_-]{1,64} are refused."""

from __future__ import annotations

import pytest

from mqtt_bridge import TopicError, Topics
from mqtt_bridge.topics import (
    AppRequestTopic,
    BridgeRequestTopic,
    HAStatusTopic,
    InvalidTopic,
    SignalsSetTopic,
    task_level,
)

T = Topics("bench1")


def test_every_topic_of_the_design_table() -> None:
    assert T.bridge_state() == "wakebench/bench1/bridge/state"
    assert T.bridge_info() == "wakebench/bench1/bridge/info"
    assert T.signals() == "wakebench/bench1/signals"
    assert T.signals_set() == "wakebench/bench1/signals/set"
    assert T.bridge_request("set_signals") == "wakebench/bench1/bridge/request/set_signals"
    assert T.bridge_response("health_check") == "wakebench/bench1/bridge/response/health_check"
    assert T.app_request("mail", "before_exit") == "wakebench/bench1/apps/mail/request/before_exit"
    assert T.app_response("mail", "before_exit") == "wakebench/bench1/apps/mail/response/before_exit"
    assert T.app_events("mail") == "wakebench/bench1/apps/mail/events"
    assert T.app_task("mail", "task-1") == "wakebench/bench1/apps/mail/tasks/task-1"
    assert T.bridge_event() == "wakebench/bench1/bridge/event"
    assert T.ha_device_config() == "homeassistant/device/wakebench_bench1/config"
    assert T.ha_status() == "homeassistant/status"


@pytest.mark.parametrize("bad", ["Mail", "a/b", "+", "#", "", "x" * 65, "é", "a b", "a.b", "$sys"])
def test_builders_refuse_bad_ids(bad: str) -> None:
    with pytest.raises(TopicError, match="must match"):
        T.app_events(bad)
    with pytest.raises(TopicError):
        T.app_request("mail", bad)
    with pytest.raises(TopicError):
        Topics(bad)


def test_id_length_boundary() -> None:
    assert T.app_events("a" * 64).endswith("/" + "a" * 64 + "/events")
    with pytest.raises(TopicError):
        T.app_events("a" * 65)


def test_task_ids_outside_the_id_rule_get_a_stable_slug() -> None:
    assert task_level("task-1") == "task-1"
    slug = task_level("com.example.Refresh")
    assert slug.startswith("com_example_refresh-") and len(slug) == len("com_example_refresh-") + 8
    assert task_level("com.example.Refresh") == slug
    assert task_level("com.example.refresh") != slug  # distinct ids stay distinct
    assert task_level("a/b#+") != task_level("a_b")
    Topics("r").app_task("mail", "x" * 500)  # long ids still make a valid level


def test_parse_classifies_incoming_topics() -> None:
    assert T.parse("wakebench/bench1/apps/mail/request/register") == AppRequestTopic("mail", "register")
    assert T.parse("wakebench/bench1/bridge/request/info") == BridgeRequestTopic("info")
    assert T.parse("wakebench/bench1/signals/set") == SignalsSetTopic()
    assert T.parse("homeassistant/status") == HAStatusTopic()
    bad_app = T.parse("wakebench/bench1/apps/Mail/request/register")
    assert isinstance(bad_app, InvalidTopic) and bad_app.code == "invalid_app_id"
    bad_verb = T.parse("wakebench/bench1/apps/mail/request/Register")
    assert isinstance(bad_verb, InvalidTopic) and bad_verb.code == "invalid_verb" and bad_verb.app == "mail"
    deep = T.parse("wakebench/bench1/apps/mail/request/a/b")
    assert isinstance(deep, InvalidTopic) and deep.code == "invalid_topic"
    assert isinstance(T.parse("wakebench/other/apps/mail/request/x"), InvalidTopic)
    assert isinstance(T.parse("wakebench/bench1/bridge/request/a/b"), InvalidTopic)


def test_subscriptions_catch_extra_levels_to_refuse_them() -> None:
    assert T.subscriptions() == ("wakebench/bench1/apps/+/request/#", "wakebench/bench1/bridge/request/#",
                                 "wakebench/bench1/signals/set")
    assert T.subscriptions(ha=True)[-1] == "homeassistant/status"


def test_reply_topics_cannot_reach_into_rig_namespaces() -> None:
    assert T.may_reply_to("clients/mail/inbox", "mail")
    assert T.may_reply_to("wakebench/bench1/apps/mail/inbox", "mail")
    assert not T.may_reply_to("wakebench/bench1/apps/other/inbox", "mail")
    assert not T.may_reply_to("wakebench/bench1/bridge/state", "mail")
    assert not T.may_reply_to("wakebench/bench2/signals", None)
    assert not T.may_reply_to("homeassistant/device/x/config", "mail")
    assert not T.may_reply_to("$SYS/broker", "mail")
    assert not T.may_reply_to("a/+/b", "mail")
    assert not T.may_reply_to("", "mail")
    assert not T.may_reply_to("x" * 1025, "mail")
    assert T.may_reply_to("x" * 1024, "mail")


def test_custom_prefixes() -> None:
    t = Topics("r1", prefix="lab/wb", ha_prefix="ha")
    assert t.app_events("a") == "lab/wb/r1/apps/a/events"
    assert t.ha_device_config() == "ha/device/lab_wb_r1/config"
    with pytest.raises(TopicError, match="prefix"):
        Topics("r1", prefix="lab//wb")
