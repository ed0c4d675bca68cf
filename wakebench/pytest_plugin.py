"""pytest fixtures for testing app prototypes against a wakebench rig (entry point ``pytest11``).

::

    async def test_sync_is_revoked_when_the_charger_goes(wakebench_rig, wakebench_app):
        await wakebench_rig.set(charger="ac", screen_locked=True, battery_level=95)
        mail = await wakebench_app("mail", platform="wp8")
        await mail.request("add", name="sync", type="resource_intensive")
        await mail.expect("wake", task_id="sync", within="1s")
        await wakebench_rig.set(charger="none")
        await mail.expect("revoke", reason="charger_removed", within="1s")

Fixtures (opt-in: nothing starts unless a test asks for one):

- ``wakebench_rig``: a simulated rig (``sim`` board, embedded broker, no state kept) started for
  the test, or, with ``--wakebench-broker URL [--wakebench-rig ID]``, a running rig attached to.
  ``await wakebench_rig.set(charger="none")`` is one atomic ``set_signals`` request.
- ``wakebench_app``: ``await wakebench_app(APP_ID, platform=..., **settings)`` connects an
  :class:`~mqtt_bridge.AppClient` (and registers it when ``platform`` is given); closed after
  the test. Its ``expect(type, within="1s", **fields)`` awaits the next matching event.

``within`` is rig time (``"500ms"``, ``"1s"``, ``"10m"`` or seconds): the wall-clock timeout is
``within / speed`` (the rig's ``speed`` from ``bridge/info``; at ``--speed 600`` one rig second
is 1/600 s) plus :data:`EXPECT_TRANSPORT_S` for the trip through the broker. Options:
``--wakebench-speed X`` sets the started rig's clock speed (default 1).

The module imports only pytest at load time (it is loaded into every pytest run of the
environment); the rig, MQTT and pytest-asyncio are imported when a fixture is used.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import pytest

if TYPE_CHECKING:
    from mqtt_bridge import AppClient
    from wakebench.rigctl import RigLink

__all__ = ["EXPECT_TRANSPORT_S", "WakebenchApp", "WakebenchRig"]

#: Wall seconds added to every ``expect`` timeout for the event's trip rig → broker → client
#: (measured p99 0.81 ms on loopback, see docs/benchmarks.md; generous for loaded CI machines).
EXPECT_TRANSPORT_S: Final = 2.0
#: Rig id of a rig the fixture starts.
DEFAULT_RIG_ID: Final = "pytest"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--wakebench-broker``, ``--wakebench-rig``, ``--wakebench-speed``."""
    group = parser.getgroup("wakebench", "wakebench rig fixtures")
    group.addoption("--wakebench-broker", metavar="URL", default=None,
                    help="attach the wakebench_rig fixture to the rig on this broker instead of starting one")
    group.addoption("--wakebench-rig", metavar="ID", default=None,
                    help="rig id with --wakebench-broker (default: bench)")
    group.addoption("--wakebench-speed", metavar="X", type=float, default=1.0,
                    help="clock speed of the sim rig the fixture starts (default 1)")


class WakebenchApp:
    """One app prototype's client: :class:`~mqtt_bridge.AppClient`'s ``request`` / ``send`` /
    ``register`` plus :meth:`expect`."""

    def __init__(self, client: AppClient, rig: WakebenchRig) -> None:
        self.client = client
        self.rig = rig
        #: every event received so far, in order
        self.events: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    async def expect(self, event_type: str, *, within: str | float = "1s", **fields: Any) -> dict[str, Any]:
        """The next event of ``event_type`` whose fields equal ``fields`` (``task_id``,
        ``reason``, ...); non-matching events on the way are kept in :attr:`events`.

        Raises:
            AssertionError: none within ``within`` rig time (lists what came instead).
        """
        from firmware_sim.clock import host_monotonic
        from firmware_sim.durations import parse_duration
        from mqtt_bridge.errors import RequestTimeoutError

        rig_s = parse_duration(within)
        wall = self.rig.wall_timeout(rig_s)
        passed: list[dict[str, Any]] = []
        deadline = host_monotonic() + wall
        while True:
            left = deadline - host_monotonic()
            try:
                event = await self.client.next_event(timeout=max(left, 0.0))
            except RequestTimeoutError:
                want = ", ".join([event_type, *(f"{k}={v}" for k, v in fields.items())])
                got = "; ".join(_short(e) for e in passed) or "no events"
                raise AssertionError(f"{self.client.app_id}: no {want} within {within} rig time "
                                     f"({wall:.3g} s wall at ×{self.rig.speed:g}); got: {got}") from None
            self.events.append(event)
            if event.get("type") == event_type and all(event.get(k) == v for k, v in fields.items()):
                return event
            passed.append(event)


def _short(event: dict[str, Any]) -> str:
    return " ".join(str(event.get(k)) for k in ("type", "task_id", "reason") if event.get(k)) + f" #{event.get('seq')}"


class WakebenchRig:
    """A rig under test: where it is (``broker_url``, ``rig_id``), its ``speed``, and
    :meth:`set` for its signals."""

    def __init__(self, broker_url: str, rig_id: str, speed: float, link: RigLink, rig: Any = None) -> None:
        self.broker_url = broker_url
        self.rig_id = rig_id
        self.speed = speed
        self.link = link
        #: the in-process :class:`wakebench.rig.Rig` when the fixture started it, else None
        self.rig = rig

    def wall_timeout(self, rig_seconds: float) -> float:
        """Wall seconds to wait for something ``rig_seconds`` of rig time away."""
        return rig_seconds / self.speed + EXPECT_TRANSPORT_S

    async def set(self, **values: Any) -> dict[str, Any]:
        """Set signals in one atomic ``set_signals`` request; returns what was applied.

        Raises:
            AssertionError: the rig refused (its code and message).
        """
        response = await self.link.bridge_request("set_signals", values)
        if response.get("status") != "ok":
            raise AssertionError(f"set_signals {json.dumps(values)}: {response.get('code')}: {response.get('error')}")
        applied: dict[str, Any] = response.get("data", {}).get("applied", {})
        return applied


def _async_fixture(func: Callable[..., Any]) -> Any:
    """``pytest_asyncio.fixture`` when pytest-asyncio is installed (works in strict mode too)."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - the fixtures then tell the user what is missing
        def missing(*_args: Any, **_kwargs: Any) -> Any:
            pytest.skip("the wakebench fixtures need pytest-asyncio (pip install pytest-asyncio)")

        missing.__doc__ = func.__doc__
        return pytest.fixture(name=func.__name__)(missing)
    return pytest_asyncio.fixture(func)


@_async_fixture
async def wakebench_rig(request: pytest.FixtureRequest) -> AsyncIterator[WakebenchRig]:
    """A wakebench rig: a sim rig with an embedded broker started for the test, or the rig given
    by ``--wakebench-broker`` / ``--wakebench-rig``. ``await wakebench_rig.set(charger="none")``."""
    from wakebench.rigctl import RigLink, RigRef

    broker = request.config.getoption("--wakebench-broker")
    if broker:
        ref = RigRef(request.config.getoption("--wakebench-rig") or "bench", broker)
        async with RigLink(ref) as link:
            info = await link.bridge_request("info")
            speed = float((info.get("data") or {}).get("speed") or 1.0)
            yield WakebenchRig(broker, ref.rig, speed, link)
        return
    from dataclasses import replace

    from wakebench.config import default_config
    from wakebench.rig import Rig

    speed = float(request.config.getoption("--wakebench-speed"))
    config = replace(default_config().with_overrides(rig=DEFAULT_RIG_ID, speed=speed), state_dir=None)
    async with Rig(config, persist=False) as rig, RigLink(RigRef(DEFAULT_RIG_ID, rig.broker_url)) as link:
        yield WakebenchRig(rig.broker_url, DEFAULT_RIG_ID, speed, link, rig)


@_async_fixture
async def wakebench_app(wakebench_rig: WakebenchRig) -> AsyncIterator[Callable[..., Awaitable[WakebenchApp]]]:
    """``await wakebench_app("mail", platform="wp8", **settings)`` → a connected (and registered)
    app client with ``expect(type, within="1s", **fields)``; disconnected after the test."""
    from mqtt_bridge import AppClient

    clients: list[AppClient] = []

    async def connect(app_id: str, platform: str | None = None, **settings: Any) -> WakebenchApp:
        client = AppClient(wakebench_rig.broker_url, app_id=app_id, rig=wakebench_rig.rig_id,
                           resume_session=False)
        await client.__aenter__()
        clients.append(client)
        if platform is not None:
            await client.register(platform, **settings)
        return WakebenchApp(client, wakebench_rig)

    try:
        yield connect
    finally:
        for client in clients:
            await client.close()
