"""``wakebench watch [--broker URL] [--rig ID]``: a live terminal view of running rigs over MQTT.

The view is a pure function of a :class:`WatchState` that is fed MQTT messages one by one
(:meth:`WatchState.feed`), so it is tested without a terminal and without a broker; the command
itself only subscribes, feeds and redraws (rich ``Live``).

Rig time between messages is estimated from the last live (non-retained) message that carried
a rig ``t`` and the rig's ``speed`` from ``bridge/info``; task budgets count down from it.

Given the terminal's height, :func:`render` keeps the view inside it (80×24 works): header,
signals, tasks, apps, then as many of the last events as fit; tables never wrap a row. Every
text from the wire is shown as plain text (rich markup in an error message is not interpreted).
Piped (not a TTY), ``watch`` prints one plain line per message instead (:meth:`WatchState.feed`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import sys
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from firmware_sim.clock import host_monotonic
from wakebench.commands.watch_state import (
    MAX_EVENTS,
    RigView,
    WatchState,
    bridge_text,
    event_detail,
    fmt_value,
    stamp,
    task_deadline,
    why_waiting,
)
from wakebench.timefmt import clock

__all__ = ["WatchState", "add_arguments", "fit", "follow", "render", "render_fleet", "render_rig", "run"]

#: Redraws per second of the live view (the countdown of task budgets).
REFRESH_PER_S: Final = 4
#: Reconnect delay range (s) when the broker goes away: doubles from min to max.
RECONNECT_MIN_S: Final = 0.5
RECONNECT_MAX_S: Final = 10.0
DEFAULT_BROKER: Final = "mqtt://127.0.0.1:1883"
_EVENT_STYLE: Final = {"wake": "green", "expire": "yellow", "revoke": "red", "terminate": "bold red",
                       "unscheduled": "magenta"}



# -- rendering (pure) -----------------------------------------------------------------------------
class _Lines:
    """Pre-rendered lines (what :func:`fit` kept)."""

    def __init__(self, lines: list[list[Segment]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines:
            yield from line
            yield Segment.line()


def fit(sections: list[RenderableType], *, width: int, height: int) -> RenderableType:
    """``sections`` top to bottom, cut so that all of them fit ``height`` lines of ``width``:
    each section takes what it needs while lines remain; a cut one ends in "… N more lines"."""
    console = Console(width=width, file=io.StringIO(), color_system="truecolor", legacy_windows=False)
    options = console.options.update(width=width)
    out: list[list[Segment]] = []
    for section in sections:
        lines = console.render_lines(section, options, pad=False, new_lines=False)
        room = height - len(out)
        if room <= 0:
            break
        if len(lines) > room:
            kept = lines[: room - 1]
            kept.append([Segment(f"… {len(lines) - len(kept)} more lines (a taller terminal shows them)",
                                 console.get_style("dim"))])
            lines = kept
        out.extend(lines)
    return _Lines(out)


def render(state: WatchState, *, now: float, rig: str | None = None, width: int | None = None,
           height: int | None = None) -> RenderableType:
    """The whole view at receiver time ``now``: one rig in detail, or the fleet when ``rig`` is
    None (or a wildcard) and more than one rig is known. With ``width`` and ``height`` (the
    terminal's), the view is cut to fit them (see :func:`fit`)."""
    header = _connection_line(state)
    sections: list[RenderableType]
    if rig in (None, "+", "#"):
        if len(state.rigs) == 1:
            sections = [header, *rig_sections(next(iter(state.rigs.values())), now=now)]
        else:
            sections = [header, render_fleet(state, now=now)]
    elif (view := state.rigs.get(rig)) is None:
        present = ", ".join(sorted(state.rigs)) or "none yet"
        sections = [header, Text(f"waiting for rig {rig!r} (nothing under {state.prefix}/{rig}/ yet); "
                                 f"rigs on this broker: {present}", style="dim")]
    else:
        sections = [header, *rig_sections(view, now=now)]
    if width is None or height is None:
        return Group(*sections)
    return fit(sections, width=width, height=height)


def _connection_line(state: WatchState) -> Text:
    if state.connected is None:
        return Text(f"connecting… {state.note}".rstrip(), style="dim")
    if not state.connected:
        return Text(f"broker unreachable, retrying… {state.note}".rstrip(), style="bold red")
    return Text(state.note, style="dim")


def render_rig(view: RigView, *, now: float) -> RenderableType:
    """One rig: header, signals, running tasks with remaining budget, apps, last events."""
    return Group(*rig_sections(view, now=now))


def rig_sections(view: RigView, *, now: float) -> list[RenderableType]:
    """The parts of :func:`render_rig`, most important first."""
    t_now = view.rig_time(now)
    title = Text.assemble(
        (f"rig {view.rig}  ", "bold"),
        _online(view.online),
        f"  board {view.info.get('board', '?')}",
        f"  speed ×{view.speed:g}",
        f"  rig time {clock(t_now) if t_now is not None else '?'}",
        f"  v{view.info['version']}" if "version" in view.info else "",
    )
    return [title, _signals_table(view.signals), _tasks_table(view, t_now), _apps_table(view),
            _events_table(view.events, rig_column=False)]


def _table(title: str, columns: tuple[str, ...] | list[str]) -> Table:
    """A compact table: no box, one line per row (long cells end in "…")."""
    table = Table(title=title, expand=False, title_justify="left", box=None, header_style="bold underline",
                  padding=(0, 1))
    for col in columns:
        table.add_column(col, no_wrap=True, overflow="ellipsis")
    return table


#: Widest cell a kept column (app, task, state, countdown) claims before others shrink.
KEEP_WIDTH: Final = 16


def _fill(table: Table, rows: list[list[Text]], keep: tuple[int, ...]) -> Table:
    """Add ``rows``; the ``keep`` columns get the width of their widest cell (up to
    :data:`KEEP_WIDTH`), so on a narrow terminal the other columns end in "…" first."""
    for row in rows:
        table.add_row(*row)
    for i in keep:
        widest = max((row[i].cell_len for row in rows), default=0)
        table.columns[i].min_width = max(len(str(table.columns[i].header)), min(KEEP_WIDTH, widest))
    return table


def _plain(value: Any) -> Text:
    """Wire text as a cell, never parsed as rich markup (``[a-z0-9_-]{1,64}`` stays as is)."""
    return value if isinstance(value, Text) else Text(str(value))


def render_fleet(state: WatchState, *, now: float) -> RenderableType:
    """Every rig in one table, then the latest events of all of them."""
    table = _table("rigs", ("rig", "state", "board", "speed", "rig time", "apps", "tasks", "charger", "battery",
                            "last event"))
    events: list[dict[str, Any]] = []
    for rig_id in sorted(state.rigs):
        view = state.rigs[rig_id]
        t_now = view.rig_time(now)
        last = view.events[0] if view.events else None
        table.add_row(*map(_plain, (
            rig_id, _online(view.online), str(view.info.get("board", "?")), f"×{view.speed:g}",
            clock(t_now) if t_now is not None else "?", str(len(view.apps)), str(len(view.tasks)),
            str(view.signals.get("charger", "?")), _battery(view.signals),
            _event_summary(last) if last else "",
        )))
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
    if level is None or "battery_level" in (signals.get("stale") or ()):
        return "unknown"
    return f"{level:.0f} %" if isinstance(level, int | float) else "?"


_UNITS: Final = {"battery_level": " %", "voltage": " V", "current": " A", "temperature": " °C"}


def _signals_table(signals: Mapping[str, Any]) -> RenderableType:
    if not signals:
        return Text("signals: none published yet", style="dim")
    raw_stale = signals.get("stale")
    stale = {n for n in raw_stale if isinstance(n, str)} if isinstance(raw_stale, list) else set()
    names = [n for n in signals if n not in ("t", "ts", "stale")]
    table = Table(title="signals", show_header=False, expand=False, title_justify="left", box=None, padding=(0, 1))
    for _ in range(3):
        table.add_column(no_wrap=True, overflow="ellipsis")
        table.add_column(no_wrap=True, overflow="ellipsis")
    cells: list[tuple[str, Text]] = []
    for name in names:
        value = signals[name]
        text = Text(fmt_value(value) + (_UNITS.get(name, "") if value is not None else ""))
        if name in stale:  # unknown, never its last value
            text = Text("unknown (stale)", style="yellow")
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
    table = _table("apps", ("app", "platform", "state", "events", "last event", "last error"))
    rows = [list(map(_plain, (app_id, app.platform or "–", app.state or "–", str(app.events),
                              _event_summary(app.last_event) if app.last_event else "",
                              Text(app.last_error or "", style="red"))))
            for app_id, app in sorted(view.apps.items())]
    return _fill(table, rows, keep=(0, 1, 2))


def _tasks_table(view: RigView, t_now: float | None) -> RenderableType:
    if not view.tasks:
        return Text("tasks: none", style="dim")
    table = _table("tasks", ("app", "task", "kind", "state", "deadline", "left", "waiting for"))
    rows: list[list[Text]] = []
    for (app_id, level), task in sorted(view.tasks.items()):
        deadline = task_deadline(task)
        remaining: Text = Text("")
        deadline_text = ""
        if deadline is not None:
            deadline_text = clock(deadline)
            if t_now is not None:
                left = deadline - t_now
                remaining = Text(clock(max(0.0, left)), style="red" if left <= 0 else
                                 "yellow" if left < 60 else "green")
        rows.append(list(map(_plain, (app_id, str(task.get("task_id", level)),
                                      str(task.get("kind", task.get("type", ""))), str(task.get("state", "?")),
                                      deadline_text, remaining, Text(why_waiting(task), style="yellow")))))
    return _fill(table, rows, keep=(0, 1, 3, 4, 5))


def _event_summary(event: Mapping[str, Any]) -> str:
    t = event.get("t")
    when = stamp(float(t)) if isinstance(t, int | float) and not isinstance(t, bool) else "?"
    if event.get("kind") == "bridge":
        return f"{event.get('type')} @{when}"
    reason = f" ({event['reason']})" if event.get("reason") else ""
    return f"{event.get('type')} {event.get('task_id') or ''}{reason} @{when}".replace("  ", " ")


def _events_table(events: deque[dict[str, Any]], *, rig_column: bool) -> RenderableType:
    if not events:
        return Text("events: none yet", style="dim")
    table = _table("last events", (["rig"] if rig_column else []) + ["t", "event", "app", "task", "seq", "detail"])
    for e in events:
        t = e.get("t")
        when = stamp(float(t)) if isinstance(t, int | float) and not isinstance(t, bool) else ""
        row: list[str | Text]
        if e.get("kind") == "bridge":
            row = [when, Text(str(e.get("type", "")), style="cyan"), "", "", "", bridge_text(e)]
        else:
            kind = str(e.get("type", ""))
            row = [when, Text(kind.upper(), style=_EVENT_STYLE.get(kind, "")), str(e.get("app", "")),
                   str(e.get("task_id") or ""), f"#{e.get('seq', '')}", event_detail(e)]
        table.add_row(*map(_plain, [*([str(e.get("rig", ""))] if rig_column else []), *row]))
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

    from rich.live import Live

    console = Console()
    if not console.is_terminal:  # piped: one plain line per message, as they come
        def emit(line: str) -> None:
            print(line, flush=True)

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(follow(broker, state, rig=args.rig, on_line=emit))
        return 0

    def view() -> RenderableType:
        return render(state, now=host_monotonic(), rig=rig, width=console.width, height=console.height - 1)

    with Live(get_renderable=view, console=console, refresh_per_second=REFRESH_PER_S, screen=False,
              transient=False, vertical_overflow="crop") as live, contextlib.suppress(KeyboardInterrupt):
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
    on_line: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Subscribe to ``<prefix>/<rig>/#`` and feed every message into ``state`` until ``stop``
    is set (or forever), reconnecting with backoff when the broker goes away. ``on_line`` gets
    each message as one plain line. For one rig, every rig's retained ``bridge/state`` is read
    too, so a mistyped ``--rig`` lists the rigs that are there."""
    import aiomqtt

    topic = f"{state.prefix}/{rig}/#"
    others = None if rig in ("+", "#") else f"{state.prefix}/+/bridge/state"
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
                if others is not None:
                    await client.subscribe(others, qos=1)
                state.connected, state.note, delay = True, f"{broker.url()}  {topic}", RECONNECT_MIN_S
                if on_change:
                    on_change()
                stopper = asyncio.ensure_future(stop.wait())
                try:
                    async for message in _until(client, stopper):
                        payload = message.payload if isinstance(message.payload, bytes) else \
                            str(message.payload or "").encode()
                        line = state.feed(message.topic.value, payload, now=host_monotonic(),
                                          retained=message.retain)
                        if line is not None and on_line is not None:
                            if others is None or message.topic.matches(topic):
                                on_line(line)
                            elif rig not in state.rigs:  # a mistyped --rig: say which rigs exist
                                on_line(f"{line}   (another rig; nothing from {rig!r} yet)")
                        if on_change:
                            on_change()
                finally:
                    stopper.cancel()
        except aiomqtt.MqttError as exc:
            state.connected, state.note = False, f"{broker.url()}: {exc}"
            if on_line is not None:
                on_line(f"broker unreachable, retrying: {state.note}")
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
