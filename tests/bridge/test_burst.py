"""Every request gets exactly one answer, however many arrive at once (issue #11).

Against the real broker: 3,000 back-to-back requests from one app get 3,000 answers, each
carrying its request's ``transaction``; with a deliberately small intake queue the overflow is
answered ``overloaded`` instead of vanishing; an :class:`AppClient` in a burst gets
``AppRequestError("rate_limited")``, never a timeout. Retained requests are never executed.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable

import aiomqtt
import pytest

from mqtt_bridge import AppClient, AppRequestError, BrokerConfig, RequestTimeoutError
from mqtt_bridge.config import DEFAULT_RATE_BURST, MAX_QUEUED_REQUEST_BYTES, MAX_QUEUED_REQUESTS
from mqtt_bridge.publisher import NO_DELAY
from tests.bridge.helpers import RigHarness, Watcher, assert_schema, unique_id
from tests.mosquitto import Mosquitto
from wakebench.broker import DEFAULT_MAX_QUEUED_MOSQUITTO

pytestmark = pytest.mark.broker
BURST = 3000


@pytest.fixture
def rig_broker(mosquitto_factory: Callable[..., Mosquitto]) -> Mosquitto:
    """A mosquitto set up as the rig's embedded one: it queues up to 10,000 QoS 1 messages per
    client (its default 1,000 drops a burst before the rig can read it; README "MQTT API")."""
    return mosquitto_factory(tls=False, extra_conf=(f"max_queued_messages {DEFAULT_MAX_QUEUED_MOSQUITTO}",))


async def _burst(url: str, harness: RigHarness, app: str, n: int) -> Counter[str]:
    """Publish ``n`` requests as fast as the client can; return the answer codes by count."""
    topics = harness.topics
    answers: dict[int, str] = {}
    done = asyncio.Event()
    async with Watcher(url, topics.app_response(app, "status")) as watch:
        c = BrokerConfig.from_url(url)
        async with aiomqtt.Client(c.host, c.port, identifier=app, max_inflight_messages=1000,
                                  socket_options=NO_DELAY) as client:
            client.pending_calls_threshold = 2 * n  # the burst is the point: no warning per publish
            await asyncio.gather(*(client.publish(topics.app_request(app, "status"),
                                                  json.dumps({"transaction": i}), qos=1) for i in range(n)))

            async def collect() -> None:
                seen = 0
                while len(answers) < n:
                    async with watch._changed:
                        while len(watch.messages) == seen:
                            await watch._changed.wait()
                    for m in watch.messages[seen:]:
                        body = m.json()
                        assert_schema("Response", body)
                        assert body["transaction"] not in answers, "answered twice"
                        answers[body["transaction"]] = body.get("code") or body["status"]
                    seen = len(watch.messages)
                done.set()

            await asyncio.wait_for(collect(), 120)
    assert sorted(answers) == list(range(n))
    return Counter(answers.values())


async def test_3000_requests_from_one_app_get_3000_answers(rig_broker: Mosquitto) -> None:
    """MAX_QUEUED_REQUESTS: 5,000 requests queue before ``overloaded``; the rate limit answers the rest."""
    assert (MAX_QUEUED_REQUESTS, MAX_QUEUED_REQUEST_BYTES) == (5000, 16 * 1024 * 1024)
    async with RigHarness(rig_broker.url(), unique_id("burst"), options={"rate_per_s": 0.001}) as h:
        codes = await _burst(rig_broker.url(), h, "flood", BURST)
    assert codes["not_registered"] == DEFAULT_RATE_BURST  # served by the scheduler
    assert codes["rate_limited"] + codes["overloaded"] == BURST - DEFAULT_RATE_BURST


async def test_a_full_intake_queue_answers_overloaded(rig_broker: Mosquitto) -> None:
    async with RigHarness(rig_broker.url(), unique_id("shed"),
                          options={"rate_per_s": 0.001, "max_queued_requests": 5}) as h:
        codes = await _burst(rig_broker.url(), h, "flood", 500)
        assert codes["overloaded"] > 0, codes  # the queue of 5 overflowed, and was answered
        assert h.bridge.router.shed_total == codes["overloaded"]
    assert sum(codes.values()) == 500


async def test_app_client_in_a_burst_raises_rate_limited_not_timeouts(mosquitto: Mosquitto) -> None:
    rig = unique_id("aburst")
    async with RigHarness(mosquitto.url(), rig, options={"rate_per_s": 0.001}), \
            AppClient(mosquitto.url(), app_id="eager", rig=rig, timeout=20) as app:
        results = await asyncio.gather(*(app.request("status") for _ in range(30)), return_exceptions=True)
    codes = Counter(r.code if isinstance(r, AppRequestError) else type(r).__name__ for r in results)
    assert not any(isinstance(r, RequestTimeoutError) for r in results)
    assert codes == {"not_registered": DEFAULT_RATE_BURST, "rate_limited": 30 - DEFAULT_RATE_BURST}


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_retained_requests_are_never_executed(mosquitto: Mosquitto, protocol: str) -> None:
    rig = unique_id("retain")
    opts = {"protocol": protocol}
    async with RigHarness(mosquitto.url(), rig, broker_options=opts) as h, \
            Watcher(mosquitto.url(), f"{h.topics.base}/#") as watch:
        c = BrokerConfig.from_url(mosquitto.url())
        crash = h.topics.app_request("victim", "crash")
        async with aiomqtt.Client(c.host, c.port) as client:
            await client.publish(h.topics.app_request("victim", "register"), b'{"platform": "capacitor"}', qos=1)
            await watch.topic(h.topics.app_response("victim", "register"))
            await client.publish(crash, b'{"transaction": "boom"}', qos=1, retain=True)
            if protocol == "5":  # Retain As Published: even the live delivery is refused
                answer = (await watch.topic(h.topics.app_response("victim", "crash"))).json()
                assert (answer["code"], answer["transaction"]) == ("retained_request", "boom")
    # a new connection of the same rig: MQTT 5 gets no stored request (retain handling 2),
    # 3.1.1 gets it flagged RETAIN and answers it retained_request; neither runs it
    async with RigHarness(mosquitto.url(), rig, broker_options=opts) as again, \
            Watcher(mosquitto.url(), f"{again.topics.app_root('victim')}/response/#") as watch2:
        c = BrokerConfig.from_url(mosquitto.url())
        async with aiomqtt.Client(c.host, c.port) as client:
            await client.publish(again.topics.app_request("victim", "status"), b"", qos=1)
            await watch2.topic(again.topics.app_response("victim", "status"))
        assert again.bridge.router.retained_refused == (0 if protocol == "5" else 1)
        assert [m for m in watch2.messages if m.topic.endswith("/crash")
                and m.json().get("code") != "retained_request"] == []
    async with aiomqtt.Client(c.host, c.port) as client:  # clear it while no rig listens
        await client.publish(crash, b"", qos=1, retain=True)
