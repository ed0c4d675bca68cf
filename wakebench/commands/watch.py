"""``wakebench watch [--broker URL] [--rig ID]``: a live terminal view of running rigs over MQTT.

The view is a pure function of a :class:`WatchState` that is fed MQTT messages one by one
(:meth:`WatchState.feed`), so it is tested without a terminal and without a broker; the command
itself only subscribes, feeds and redraws (rich ``Live``).

Rig time between messages is estimated from the last live (non-retained) message that carried
a rig ``t`` and the rig's ``speed`` from ``bridge/info``; task budgets count down from it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from wakebench.timefmt import clock


def _stamp(t: float) -> str:
    """Rig time with milliseconds (``0:03:40.330``)."""
    whole = int(t)
    return f"{clock(float(whole))}.{int((t - whole) * 1000):03d}"

#: Events kept per rig (and in the fleet view) for the "last events" table.
MAX_EVENTS: Final = 15
#: Redraws per second of the live view (the countdown of task budgets).
REFRESH_PER_S: Final = 4
#: Reconnect delay range (s) when the broker goes away: doubles from min to max.
RECONNECT_MIN_S: Final = 0.5
RECONNECT_MAX_S: Final = 10.0
DEFAULT_BROKER: Final = "mqtt://127.0.0.1:1883"
_EVENT_STYLE: Final = {"wake": "green", "expire": "yellow", "revoke": "red", "terminate": "bold red",
                       "unscheduled": "magenta"}


# -- state ----------------------------------------------------------------------------------------
@dataclass
class AppView:
    """What the watcher knows about one app."""

    platform: str | None = None
    state: str | None = None
    events: int = 0
    last_event: dict[str, Any] | None = None
    last_error: str | None = None


@dataclass
class RigView:
    """What the watcher knows about one rig."""

    rig: str
    online: bool | None = None
    info: dict[str, Any] = field(default_factory=dict)
    signals: dict[str, Any] = field(default_factory=dict)
    apps: dict[str, AppView] = field(default_factory=dict)
    tasks: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    anchor_t: float | None = None  # rig time of the last message that carried one
    anchor_wall: float = 0.0  # receiver's monotonic time when it arrived
    anchor_live: bool = False  # False while only retained (possibly old) times are known
    restarted: bool = False  # came online since the last live time

    @property
    def speed(self) -> float:
        """Rig clock speed from ``bridge/info`` (1 when unknown)."""
        speed = self.info.get("speed")
        return float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0

    def rig_time(self, now: float) -> float | None:
        """Estimated rig time at receiver time ``now`` (None before any timed message)."""
        if self.anchor_t is None:
            return None
        if self.online is False or not self.anchor_live:
            return self.anchor_t
        return self.anchor_t + max(0.0, now - self.anchor_wall) * self.speed

    def app(self, app_id: str) -> AppView:
        return self.apps.setdefault(app_id, AppView())


class WatchState:
    """Rigs seen on the broker, fed message by message.

    Args:
        prefix: base topic prefix (``wakebench``).
        max_events: events kept per rig.
    """

    def __init__(self, prefix: str = "wakebench", *, max_events: int = MAX_EVENTS) -> None:
        self.prefix = prefix
        self.rigs: dict[str, RigView] = {}
        self.connected: bool | None = None
        self.note: str = ""
        self.max_events = max_events
        self.ignored = 0  # messages that were not valid JSON / not understood

    def feed(self, topic: str, payload: bytes, *, now: float, retained: bool = False) -> None:
        """Apply one message received at receiver time ``now``. Never raises for bad input."""
        levels = topic.split("/")
        base = self.prefix.split("/")
        if levels[: len(base)] != base or len(levels) < len(base) + 2:
            return
        rig_id, rest = levels[len(base)], levels[len(base) + 1 :]
        rig = self.rigs.get(rig_id)
        if rig is None:
            rig = self.rigs[rig_id] = RigView(rig_id, events=deque(maxlen=self.max_events))
        if len(rest) >= 3 and rest[0] == "apps" and rest[2] == "tasks":
            if len(rest) == 4:
                self._task(rig, rest[1], rest[3], payload)
            return
        data = _json(payload)
        if data is None:
            if payload:
                self.ignored += 1
            return
        if rest == ["bridge", "state"]:
            state = data.get("state")
            if state not in ("online", "offline"):
                return
            if state == "offline" and rig.anchor_t is not None:
                rig.anchor_t, rig.anchor_wall = rig.rig_time(now), now  # the clock stops with the rig
            if state == "online" and rig.online is not True:
                rig.restarted = True  # its next live time re-bases the clock, even if earlier
            rig.online = state == "online"
        elif rest == ["bridge", "info"]:
            rig.info = data
        elif rest == ["signals"]:
            rig.signals = data
            self._anchor(rig, data.get("t"), now, retained)
        elif rest == ["bridge", "event"]:
            rig.events.appendleft({"kind": "bridge", **data})
            self._anchor(rig, data.get("t"), now, retained)
        elif len(rest) == 3 and rest[0] == "apps" and rest[2] == "events":
            self._event(rig, rest[1], data, now, retained)
        elif len(rest) == 4 and rest[0] == "apps" and rest[2] == "response":
            self._response(rig, rest[1], rest[3], data)

    def _anchor(self, rig: RigView, t: Any, now: float, retained: bool) -> None:
        """Re-base the rig clock estimate on a message's ``t``.

        A retained message may be old, so it only counts until a live one arrives. A live one
        moves the estimate forward, never back (the outbox replays old events after a
        reconnect), except right after the rig came (back) online, when anything goes.
        """
        if not isinstance(t, int | float) or isinstance(t, bool):
            return
        if retained and rig.anchor_live:
            return
        if not retained and rig.anchor_live and not rig.restarted:
            estimate = rig.rig_time(now)
            if estimate is not None and t < estimate:
                return
        rig.anchor_t, rig.anchor_wall, rig.anchor_live = float(t), now, not retained
        if not retained:
            rig.restarted = False

    def _event(self, rig: RigView, app_id: str, data: dict[str, Any], now: float, retained: bool) -> None:
        app = rig.app(app_id)
        app.events += 1
        app.last_event = data
        if isinstance(data.get("platform"), str):
            app.platform = data["platform"]
        rig.events.appendleft({"kind": "event", **data, "app": app_id})
        self._anchor(rig, data.get("t"), now, retained)

    def _response(self, rig: RigView, app_id: str, verb: str, data: dict[str, Any]) -> None:
        app = rig.app(app_id)
        payload = data.get("data") if isinstance(data.get("data"), dict) else {}
        assert isinstance(payload, dict)
        if data.get("status") == "error":
            app.last_error = f"{verb}: {data.get('code')}: {data.get('error')}"
            return
        if verb == "register":
            registered = payload.get("app")
            if isinstance(registered, dict) and isinstance(registered.get("platform"), str):
                app.platform = registered["platform"]
                app.state = registered.get("state") if isinstance(registered.get("state"), str) else app.state
        elif verb == "state" and isinstance(payload.get("state"), str):
            app.state = payload["state"]

    def _task(self, rig: RigView, app_id: str, level: str, payload: bytes) -> None:
        if not payload:
            rig.tasks.pop((app_id, level), None)
            return
        data = _json(payload)
        if data is None:
            self.ignored += 1
            return
        rig.app(app_id)
        rig.tasks[(app_id, level)] = data


def _json(payload: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


# -- rendering (pure) -----------------------------------------------------------------------------
def render(state: WatchState, *, now: float, rig: str | None = None) -> RenderableType:
    """The whole view at receiver time ``now``: one rig in detail, or the fleet when ``rig`` is
    None (or a wildcard) and more than one rig is known."""
    header = _connection_line(state)
    if rig in (None, "+", "#"):
        if len(state.rigs) == 1:
            return Group(header, render_rig(next(iter(state.rigs.values())), now=now))
        return Group(header, render_fleet(state, now=now))
    view = state.rigs.get(rig)
    if view is None:
        return Group(header, Text(f"waiting for rig {rig!r} (nothing under {state.prefix}/{rig}/ yet)", style="dim"))
    return Group(header, render_rig(view, now=now))


def _connection_line(state: WatchState) -> Text:
    if state.connected is None:
        return Text(f"connecting… {state.note}".rstrip(), style="dim")
    if not state.connected:
        return Text(f"broker unreachable, retrying… {state.note}".rstrip(), style="bold red")
    return Text(state.note, style="dim")


def render_rig(view: RigView, *, now: float) -> RenderableType:
    """One rig: header, signals, apps, running tasks with remaining budget, last events."""
    t_now = view.rig_time(now)
    title = Text.assemble(
        (f"rig {view.rig}  ", "bold"),
        _online(view.online),
        f"  board {view.info.get('board', '?')}",
        f"  speed ×{view.speed:g}",
        f"  rig time {clock(t_now) if t_now is not None else '?'}",
        f"  v{view.info['version']}" if "version" in view.info else "",
    )
    return Group(title, _signals_table(view.signals), _apps_table(view), _tasks_table(view, t_now),
                 _events_table(view.events, rig_column=False))


def render_fleet(state: WatchState, *, now: float) -> RenderableType:
    """Every rig in one table, then the latest events of all of them."""
    table = Table(title="rigs", expand=False, title_justify="left")
    for col in ("rig", "state", "board", "speed", "rig time", "apps", "tasks", "charger", "battery", "last event"):
        table.add_column(col)
    events: list[dict[str, Any]] = []
    for rig_id in sorted(state.rigs):
        view = state.rigs[rig_id]
        t_now = view.rig_time(now)
        last = view.events[0] if view.events else None
        table.add_row(
            rig_id, _online(view.online), str(view.info.get("board", "?")), f"×{view.speed:g}",
            clock(t_now) if t_now is not None else "?", str(len(view.apps)), str(len(view.tasks)),
            str(view.signals.get("charger", "?")), _battery(view.signals),
            _event_summary(last) if last else "",
        )
        events += [{**e, "rig": rig_id} for e in view.events]
    if not state.rigs:
        return Text("no rig has published yet", style="dim")
    events.sort(key=lambda e: (e.get("ts") or "", e.get("t") or 0.0), reverse=True)
    return Group(table, _events_table(deque(events[:MAX_EVENTS]), rig_column=True))


def _online(online: bool | None) -> Text:
    if online is None:
        return Text("unknown", style="dim")
    return Text("online", style="bold green") if online else Text("offline", style="bold red")


def _battery(signals: Mapping[str, Any]) -> str:
    level = signals.get("battery_level")
    return f"{level:.0f} %" if isinstance(level, int | float) else "?"


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


_UNITS: Final = {"battery_level": " %", "voltage": " V", "current": " A", "temperature": " °C"}


def _signals_table(signals: Mapping[str, Any]) -> RenderableType:
    if not signals:
        return Text("signals: none published yet", style="dim")
    raw_stale = signals.get("stale")
    stale = {n for n in raw_stale if isinstance(n, str)} if isinstance(raw_stale, list) else set()
    names = [n for n in signals if n not in ("t", "ts", "stale")]
    table = Table(title="signals", show_header=False, expand=False, title_justify="left", box=None, padding=(0, 1))
    for _ in range(3):
        table.add_column()
        table.add_column()
    cells: list[tuple[str, Text]] = []
    for name in names:
        value = signals[name]
        text = Text(_fmt(value) + (_UNITS.get(name, "") if value is not None else ""))
        if name in stale:
            text = Text(f"{text.plain} (stale)", style="yellow")
        cells.append((name, text))
    for i in range(0, len(cells), 3):
        row: list[str | Text] = []
        for name, text in cells[i : i + 3]:
            row += [Text(name, style="dim"), text]
        table.add_row(*row)
    return table


def _apps_table(view: RigView) -> RenderableType:
    if not view.apps:
        return Text("apps: none yet", style="dim")
    table = Table(title="apps", expand=False, title_justify="left")
    for col in ("app", "platform", "state", "events", "last event", "last error"):
        table.add_column(col)
    for app_id in sorted(view.apps):
        app = view.apps[app_id]
        table.add_row(app_id, app.platform or "–", app.state or "–", str(app.events),
                      _event_summary(app.last_event) if app.last_event else "",
                      Text(app.last_error or "", style="red"))
    return table


def _tasks_table(view: RigView, t_now: float | None) -> RenderableType:
    if not view.tasks:
        return Text("tasks: none", style="dim")
    table = Table(title="tasks", expand=False, title_justify="left")
    for col in ("app", "task", "kind", "state", "deadline", "remaining"):
        table.add_column(col)
    for (app_id, level), task in sorted(view.tasks.items()):
        deadline = task.get("deadline")
        remaining: Text = Text("")
        deadline_text = ""
        if isinstance(deadline, int | float) and not isinstance(deadline, bool):
            deadline_text = clock(float(deadline))
            if t_now is not None:
                left = float(deadline) - t_now
                remaining = Text(clock(max(0.0, left)), style="red" if left <= 0 else
                                 "yellow" if left < 60 else "green")
        table.add_row(app_id, str(task.get("task_id", level)), str(task.get("kind", task.get("type", ""))),
                      str(task.get("state", "?")), deadline_text, remaining)
    return table


def _event_summary(event: Mapping[str, Any]) -> str:
    t = event.get("t")
    when = _stamp(float(t)) if isinstance(t, int | float) and not isinstance(t, bool) else "?"
    if event.get("kind") == "bridge":
        return f"{event.get('type')} @{when}"
    reason = f" ({event['reason']})" if event.get("reason") else ""
    return f"{event.get('type')} {event.get('task_id') or ''}{reason} @{when}".replace("  ", " ")


def _events_table(events: deque[dict[str, Any]], *, rig_column: bool) -> RenderableType:
    if not events:
        return Text("events: none yet", style="dim")
    table = Table(title="last events", expand=False, title_justify="left")
    cols = (["rig"] if rig_column else []) + ["t", "event", "app", "task", "seq", "detail"]
    for col in cols:
        table.add_column(col)
    for e in events:
        t = e.get("t")
        when = _stamp(float(t)) if isinstance(t, int | float) and not isinstance(t, bool) else ""
        row: list[str | Text]
        if e.get("kind") == "bridge":
            data = e.get("data") if isinstance(e.get("data"), dict) else {}
            text = str(data.get("message") or data.get("error") or json.dumps(data)[:80]) if data else ""
            row = [when, Text(str(e.get("type", "")), style="cyan"), "", "", "", text]
        else:
            kind = str(e.get("type", ""))
            detail = [str(e["reason"])] if e.get("reason") else []
            if kind == "wake" and isinstance(e.get("deadline"), int | float):
                detail.append(f"until {clock(float(e['deadline']))}")
            row = [when, Text(kind.upper(), style=_EVENT_STYLE.get(kind, "")), str(e.get("app", "")),
                   str(e.get("task_id") or ""), f"#{e.get('seq', '')}", " ".join(detail)]
        table.add_row(*([str(e.get("rig", ""))] if rig_column else []), *row)
    return table


# -- the command ----------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``watch``."""
    parser.add_argument("--broker", default=DEFAULT_BROKER, metavar="URL",
                        help=f"broker URL, mqtt[s]://[user[:password]@]host[:port] (default {DEFAULT_BROKER})")
    parser.add_argument("--rig", default="+", metavar="ID",
                        help="rig id, or + for every rig on the broker (the fleet; default)")
    parser.add_argument("--prefix", default="wakebench", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """Subscribe and draw until Ctrl-C."""
    from mqtt_bridge.config import BrokerConfig
    from mqtt_bridge.errors import BridgeConfigError

    try:
        broker = _watch_broker(BrokerConfig, args.broker)
    except BridgeConfigError as exc:
        print(f"wakebench watch: --broker: {exc}", file=sys.stderr)
        return 2
    if args.rig not in ("+", "#"):
        from mqtt_bridge.topics import valid_id

        if not valid_id(args.rig):
            print(f"wakebench watch: --rig: must match [a-z0-9_-]{{1,64}} or be +, not {args.rig!r}", file=sys.stderr)
            return 2
    state = WatchState(args.prefix)
    rig = None if args.rig in ("+", "#") else args.rig

    from rich.console import Console
    from rich.live import Live

    console = Console()
    with Live(get_renderable=lambda: render(state, now=time.monotonic(), rig=rig), console=console,
              refresh_per_second=REFRESH_PER_S, screen=False, transient=False) as live, \
            contextlib.suppress(KeyboardInterrupt):
        asyncio.run(follow(broker, state, rig=args.rig, on_change=live.refresh))
    return 0


def _watch_broker(cls: Any, url: str) -> Any:
    # The view needs nothing of MQTT 5: speak 3.1.1 unless the URL asks otherwise, so it also
    # works with the in-process embedded broker.
    overrides: dict[str, Any] = {"client_id": None}
    if "protocol=" not in url:
        overrides["protocol"] = "3.1.1"
    return cls.from_url(url, **overrides)


async def follow(
    broker: Any,
    state: WatchState,
    *,
    rig: str = "+",
    on_change: Callable[[], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Subscribe to ``<prefix>/<rig>/#`` and feed every message into ``state`` until ``stop``
    is set (or forever), reconnecting with backoff when the broker goes away."""
    import aiomqtt

    topic = f"{state.prefix}/{rig}/#"
    delay = RECONNECT_MIN_S
    stop = stop or asyncio.Event()
    while not stop.is_set():
        client = aiomqtt.Client(
            broker.host, broker.port, username=broker.username, password=broker.password,
            identifier=broker.client_id, keepalive=broker.keepalive, tls_context=broker.ssl_context(),
            protocol=aiomqtt.ProtocolVersion.V5 if broker.mqtt5 else aiomqtt.ProtocolVersion.V311,
        )
        try:
            async with client:
                await client.subscribe(topic, qos=1)
                state.connected, state.note, delay = True, f"{broker.url()}  {topic}", RECONNECT_MIN_S
                if on_change:
                    on_change()
                stopper = asyncio.ensure_future(stop.wait())
                try:
                    async for message in _until(client, stopper):
                        payload = message.payload if isinstance(message.payload, bytes) else \
                            str(message.payload or "").encode()
                        state.feed(message.topic.value, payload, now=time.monotonic(), retained=message.retain)
                        if on_change:
                            on_change()
                finally:
                    stopper.cancel()
        except aiomqtt.MqttError as exc:
            state.connected, state.note = False, f"{broker.url()}: {exc}"
            if on_change:
                on_change()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, RECONNECT_MAX_S)


async def _until(client: Any, stopper: asyncio.Future[Any]) -> Any:
    """Messages of ``client`` until ``stopper`` completes."""
    iterator = client.messages.__aiter__()
    getter: asyncio.Future[Any] | None = None
    try:
        while True:
            getter = asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                return
            try:
                message = getter.result()
            except StopAsyncIteration:
                return
            getter = None
            yield message
    finally:
        if getter is not None:  # stopped, cancelled or Ctrl-C: never leave it unretrieved
            getter.cancel()
            with contextlib.suppress(BaseException):
                await getter
