"""Retained ``apps/<app>/state`` (issue 13): a viewer that starts after the apps registered
(``watch``, the web view) still sees each app's platform and state."""

from __future__ import annotations

import pytest

from tests.bridge.helpers import RigHarness, Watcher, assert_schema, unique_id
from tests.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


async def test_a_late_viewer_sees_platform_and_state_of_every_app(mosquitto: Mosquitto) -> None:
    rig = unique_id("appstate")
    topic = f"wakebench/{rig}/apps/+/state"
    async with RigHarness(mosquitto.url(), rig) as h, Watcher(mosquitto.url(), topic) as early:
        for app, platform in (("mail", "wp8"), ("news", "ios")):
            await h.bridge.router.handle(h.topics.app_request(app, "register"),
                                         f'{{"platform": "{platform}"}}'.encode())
        await h.bridge.router.handle(h.topics.app_request("news", "state"), b'{"state": "background"}')
        await h.bridge.router.handle(h.topics.app_request("mail", "state"), b'{"state": "nonsense"}')
        # the broker has them once an early subscriber does; only then does the late viewer come
        await early.topic(h.topics.app_state("news"), where=lambda p: p["state"] == "background")
        await early.topic(h.topics.app_state("mail"))
        async with Watcher(mosquitto.url(), f"wakebench/{rig}/apps/+/state") as late:
            news = await late.topic(h.topics.app_state("news"), where=lambda p: p["state"] == "background")
            mail = await late.topic(h.topics.app_state("mail"))
        assert news.retain and mail.retain
        assert_schema("AppState", news.json())
        assert (news.json()["platform"], mail.json()["platform"], mail.json()["state"]) == ("ios", "wp8", "foreground")


async def test_app_state_is_published_once_per_change(mosquitto: Mosquitto) -> None:
    rig = unique_id("appstate1")
    async with RigHarness(mosquitto.url(), rig) as h, Watcher(mosquitto.url(), f"wakebench/{rig}/apps/+/state") as w:
        for _ in range(3):
            await h.bridge.router.handle(h.topics.app_request("mail", "register"), b'{"platform": "wp8"}')
        await h.bridge.router.handle(h.topics.app_request("mail", "state"), b'{"state": "background"}')
        await w.topic(h.topics.app_state("mail"), where=lambda p: p["state"] == "background")
        assert [m.json()["state"] for m in w.on(h.topics.app_state("mail"))] == ["foreground", "background"]
