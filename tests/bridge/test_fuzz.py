"""Random and malformed requests: every one is answered (error or valid response), nothing else is
published, the bridge stays up and its memory stays bounded.

Thousands of examples go through the request router in-process (the same code the bridge runs
for each MQTT message); a few hundred go through the real broker end to end.
"""

from __future__ import annotations

import json
import random
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim import COMMON_VERBS, SIGNAL_NAMES, Event, Scheduler, VirtualClock
from firmware_sim.clock import wall_now
from firmware_sim.driver import SchedulerDriver
from firmware_sim.platforms import POLICIES
from mqtt_bridge import BridgeConfig, Topics
from mqtt_bridge.config import MAX_REQUEST_BYTES
from mqtt_bridge.publisher import Outgoing
from mqtt_bridge.requests import RequestMeta, RequestRouter
from mqtt_bridge.schemas import first_error
from mqtt_bridge.topics import AppRequestTopic, BridgeRequestTopic, InvalidTopic, SignalsSetTopic
from tests.bridge.helpers import Requester, RigHarness, unique_id
from tests.mosquitto import Mosquitto

RIG = "fuzz"
TOPICS = Topics(RIG)
MAX_APPS = 40
INBOX = "inbox/fuzz"
PLATFORM_VERBS = sorted({v for cls in POLICIES.values() for v in cls.verbs()})

# -- strategies ------------------------------------------------------------------------------
#: Topic levels: anything MQTT allows in a published topic (no wildcards, NUL, control chars).
#: Unassigned code points (category Cn, which holds the noncharacters U+FDD0..U+FDEF and U+xFFFE/F)
#: are left out too: MQTT 5 section 1.5.4 says topics SHOULD NOT contain them and mosquitto
#: closes the connection ("Malformed UTF-8"), so they never reach a bridge.
level = st.text(st.characters(blacklist_characters="/+#", blacklist_categories=("Cs", "Cc", "Cn")),
                max_size=70)
app_ids = st.one_of(st.sampled_from(["fz", "mail", "a-1", "x_y", "z" * 64]), level)
verbs = st.one_of(st.sampled_from([*COMMON_VERBS, *PLATFORM_VERBS, "bogus"]), level)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([10**400, -(10**400), 2**53 + 1, 1e308, "1" + "0" * 400 + "s"])  # issue #11
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)
transactions = st.one_of(st.text(max_size=300), st.integers(), json_values)
known_args = st.fixed_dictionaries({}, optional={
    "delay": json_values, "mb": json_values, "repeat_interval": json_values,
    "expiration_time": json_values, "repeat_cycle_time": json_values, "earliest_begin": json_values,
    "platform": st.one_of(st.sampled_from(list(POLICIES)), json_values),
    "task_id": st.one_of(st.sampled_from(["task-1", "task-2"]), json_values),
    "state": st.one_of(st.sampled_from(["foreground", "background", "suspended", "terminated"]), json_values),
    "transaction": transactions,
    "charger": st.sampled_from(["none", "usb", "fusion"]),
    "battery_level": st.one_of(st.floats(-10, 110), json_values),
    "unknown": st.one_of(st.lists(st.sampled_from([*SIGNAL_NAMES[:3], "warp"]), max_size=3), json_values),
    "gauge": st.one_of(st.sampled_from(["nack", "clear", "melt"]), json_values),
    "for": st.one_of(st.sampled_from(["2m", "soon", 5]), json_values),
})
args = st.builds(lambda a, b: {**b, **a}, known_args, st.dictionaries(st.text(max_size=12), json_values, max_size=3))


def _padded(n: int) -> bytes:
    head = b'{"platform": "capacitor", "pad": "'
    return head + b"x" * max(0, n - len(head) - 2) + b'"}'


payloads = st.one_of(
    args.map(lambda a: json.dumps(a).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.just(b""),
    st.integers(MAX_REQUEST_BYTES - 2, MAX_REQUEST_BYTES + 2).map(_padded),
)


@st.composite
def topics(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["app", "app", "app", "bridge", "deep", "signals", "other"]))
    base = TOPICS.base
    if kind == "app":
        return f"{base}/apps/{draw(app_ids)}/request/{draw(verbs)}"
    if kind == "bridge":
        verb = draw(st.one_of(st.sampled_from(["set_signals", "health_check", "info", "inject_fault",
                                                "continue"]), level))
        return f"{base}/bridge/request/{verb}"
    if kind == "deep":
        return f"{base}/apps/{draw(app_ids)}/request/{draw(verbs)}/{draw(level)}"
    if kind == "signals":
        return TOPICS.signals_set()
    return f"{base}/{draw(level)}/request/{draw(level)}"


reply_topics = st.one_of(st.none(), st.just(INBOX), st.just(f"{TOPICS.base}/bridge/state"),
                         st.just("wakebench/other/apps/a/events"), st.just("$SYS/x"))


@dataclass
class Env:
    """A router on a scheduler in virtual time, with every outgoing message and event recorded."""

    router: RequestRouter
    sent: list[Outgoing]
    events: dict[str, list[int]]
    clock: VirtualClock
    driver: SchedulerDriver


def make_env(**options: Any) -> Env:
    scheduler = Scheduler(epoch=wall_now())
    clock = VirtualClock()
    driver = SchedulerDriver(scheduler, clock=clock)
    events: dict[str, list[int]] = {}

    def record(batch: list[Event]) -> None:
        for e in batch:
            events.setdefault(e.app, []).append(e.seq)

    driver.add_sink(record)
    sent: list[Outgoing] = []

    async def set_signals(values: Any) -> None:
        await driver.update_signals(values)

    config = BridgeConfig(rig=RIG, max_apps=MAX_APPS, **options)
    router = RequestRouter(driver, TOPICS, config, sent.append, set_signals=set_signals,
                           settable=frozenset(SIGNAL_NAMES) - {"battery_saver"},
                           info=lambda: {"rig": RIG}, health=lambda: {"healthy": True})
    return Env(router, sent, events, clock, driver)


def check_answer(env: Env, topic: str, payload: bytes, meta: RequestMeta, new: list[Outgoing]) -> None:
    """The invariant: exactly the expected answers, valid, correlated; nothing else published."""
    target = TOPICS.parse(topic)
    reply_ok = meta.response_topic is not None and TOPICS.may_reply_to(
        meta.response_topic, target.app if isinstance(target, AppRequestTopic | InvalidTopic) else None)
    replies = [m for m in new if m.topic == meta.response_topic] if reply_ok else []
    if isinstance(target, AppRequestTopic | BridgeRequestTopic):
        standard = (TOPICS.app_response(target.app, target.verb) if isinstance(target, AppRequestTopic)
                    else TOPICS.bridge_response(target.verb))
        answers = [m for m in new if m.topic == standard]
        assert len(answers) == 1, (topic, new)
        assert len(replies) == (1 if reply_ok else 0)
        assert len(new) == 1 + len(replies), [m.topic for m in new]
        body = json.loads(answers[0].payload)
        assert first_error("Response", body) is None, body
        assert body.get("code") != "internal_error", (topic, payload[:200], body)  # issue #11
        assert answers[0].correlation == meta.correlation
        sent_tx = _transaction_of(payload)
        if body["transaction"] is not None:
            assert body["transaction"] == sent_tx
        elif sent_tx is not None and first_error("Transaction", sent_tx) is None \
                and body["code"] != "payload_too_large":
            raise AssertionError(f"valid transaction {sent_tx!r} not echoed: {body}")
        for r in replies:
            assert r.payload == answers[0].payload and r.correlation == meta.correlation
    elif isinstance(target, SignalsSetTopic):
        assert all(m.topic == TOPICS.bridge_event() for m in new), [m.topic for m in new]
        assert len(new) <= 1
    else:
        assert isinstance(target, InvalidTopic)
        events = [m for m in new if m.topic == TOPICS.bridge_event()]
        assert len(events) == 1 and len(new) == 1 + len(replies)
        assert json.loads(events[0].payload)["data"]["code"] == target.code
        assert len(replies) == (1 if reply_ok else 0)
    for m in new:
        assert m.topic in (meta.response_topic, TOPICS.bridge_event()) or m.topic.startswith(TOPICS.base + "/")
        json.loads(m.payload)  # everything published is JSON


def _transaction_of(payload: bytes) -> Any:
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    return body.get("transaction") if isinstance(body, dict) else None


# -- in-process: thousands of examples -----------------------------------------------------------
@pytest.fixture(scope="module")
def env() -> Env:
    return make_env(rate_per_s=1e9, rate_burst=10**9)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(topic=topics(), payload=payloads, reply=reply_topics, corr=st.one_of(st.none(), st.binary(min_size=1, max_size=16)))
async def test_every_request_is_answered_in_process(env: Env, topic: str, payload: bytes,
                                                    reply: str | None, corr: bytes | None) -> None:
    meta = RequestMeta(response_topic=reply, correlation=corr)
    env.sent.clear()
    await env.router.handle(topic, payload, meta)
    check_answer(env, topic, payload, meta, list(env.sent))
    assert len(env.router.driver.scheduler.apps) <= MAX_APPS
    for seqs in env.events.values():  # events stay gap-free per app whatever the requests
        assert seqs == list(range(1, len(seqs) + 1))


def random_request(rng: random.Random) -> tuple[str, bytes]:
    app = rng.choice(["m1", "m2", "m3", "Bad", "x" * 70, f"a{rng.randrange(1000)}"])
    verb = rng.choice([*COMMON_VERBS, "before_exit", "finish", "bogus", "Nope"])
    body: Any = rng.choice([
        {"platform": "capacitor"}, {"task_id": f"task-{rng.randrange(5)}"}, {"state": "background"},
        {"transaction": "x" * rng.randrange(400)}, [1, 2], "text", {"junk": {"a": [1] * rng.randrange(50)}}])
    payload = rng.choice([json.dumps(body).encode(), rng.randbytes(rng.randrange(100)), b"", _padded(MAX_REQUEST_BYTES + 1)])
    return f"{TOPICS.base}/apps/{app}/request/{verb}", payload


async def test_memory_stays_bounded_over_many_requests() -> None:
    """5000 random requests (with time moving so tasks expire): traced memory and every
    per-app table stay bounded."""
    env = make_env(rate_per_s=1e9, rate_burst=10**9)
    rng = random.Random(7)

    async def batch(n: int) -> None:
        for i in range(n):
            topic, payload = random_request(rng)
            env.sent.clear()
            await env.router.handle(topic, payload, RequestMeta(INBOX, b"c"))
            if i % 50 == 0:  # 400 rig seconds: every Capacitor task expires and terminates
                env.clock.advance_to(env.clock.now() + 400)
                await env.driver.update_signals({})

    await batch(1000)  # warm up caches (schemas, validators, interned strings)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        await batch(4000)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    growth = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert growth < 512 * 1024, f"memory grew by {growth} bytes"
    assert len(env.router.driver.scheduler.apps) <= MAX_APPS
    assert len(env.router.limiter) <= MAX_APPS + 3
    assert env.router.handled == 5000


# -- through the broker: a few hundred examples ------------------------------------------------------
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def broker_rig(mosquitto: Mosquitto) -> AsyncIterator[tuple[RigHarness, Requester]]:
    options = {"rate_per_s": 1e9, "rate_burst": 10**9, "max_apps": MAX_APPS}
    async with RigHarness(mosquitto.url(), unique_id("fuzz"), options=options) as h, \
            Requester(mosquitto.url()) as req:
        yield h, req



@pytest.mark.broker
@pytest.mark.asyncio(loop_scope="module")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(kind=st.sampled_from(["app", "bridge", "deep"]), app=app_ids, verb=verbs, payload=payloads)
async def test_every_request_through_the_broker_is_answered(
        broker_rig: tuple[RigHarness, Requester], kind: str, app: str, verb: str, payload: bytes) -> None:
    h, req = broker_rig
    base = h.topics.base
    topic = {"app": f"{base}/apps/{app}/request/{verb}", "bridge": f"{base}/bridge/request/{verb}",
             "deep": f"{base}/apps/{app}/request/{verb}/x"}[kind]
    if len(topic.encode()) > 60000:
        return
    reply = (await req.ask(topic, payload, within=10)).json()
    assert first_error("Response", reply) is None, reply
    assert h.bridge.connected
    req.messages.clear()


@pytest.mark.broker
@pytest.mark.asyncio(loop_scope="module")
async def test_bridge_is_still_healthy_after_the_fuzz(broker_rig: tuple[RigHarness, Requester]) -> None:
    h, req = broker_rig
    reply = (await req.ask(h.topics.bridge_request("health_check"), b"")).json()
    assert reply["status"] == "ok" and reply["data"]["healthy"] and reply["data"]["connected"]
    assert reply["data"]["reconnects"] == 0
    assert len(h.scheduler.apps) <= MAX_APPS
