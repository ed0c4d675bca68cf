"""The rig's TOML configuration (``wakebench run --config rig.toml``) and its CLI overrides.

A complete file (every table and key is optional; ``--board sim`` needs no file at all)::

    [rig]
    id = "bench1"                       # [a-z0-9_-]{1,64}; second level of every topic
    board = "x120x"                     # a catalogue board, or write a [board] table instead
    state_dir = "/var/lib/wakebench/bench1"
    seed = 0                            # WP8 drift and other random choices derive from it
    speed = 1.0                         # rig clock speed; the sim board only
    request_rate = 10.0                 # per-app requests/s sustained (rate_limited beyond it)
    request_burst = 20                  # per-app burst

    [board]                             # your own board (see boards.config for every key)
    name = "my-ups"
    extends = "x120x"

    [broker]                            # absent: wakebench starts an embedded broker
    url = "mqtts://wakebench@broker.lan:8883"
    password_file = "/etc/wakebench/mqtt-password"   # first line is the password
    ca_file = "/etc/wakebench/ca.pem"
    cert_file = "/etc/wakebench/rig.pem"            # mutual TLS (optional)
    key_file = "/etc/wakebench/rig.key"
    insecure = false
    protocol = "5"                      # or "3.1.1"
    keepalive = 30
    client_id = "wakebench-bench1"

    [embedded_broker]                   # the broker started when [broker] is absent
    websockets = true                   # WebSocket listener for browsers (mosquitto only)
    ws_port = 9001                      # absent: a free port; `run --ws-port` wins
    ws_cert_file = "/etc/wakebench/ws.pem"   # with ws_key_file: wss:// instead of ws://
    ws_key_file = "/etc/wakebench/ws.key"

    [web]                               # the live web view `run` serves
    enabled = true
    host = "127.0.0.1"                  # loopback by default: the page has no login
    port = 8080                         # absent: a free port; `run --http-port` wins
    controls = false                    # `run --web-controls`: set signals, faults, force-run
    ws_url = "ws://broker.lan:9001"     # the broker's WebSockets for browsers (default: embedded)

    [homeassistant]
    discovery = true
    prefix = "homeassistant"

    [poll]
    interval = 2.0                      # s between sensor reads (gauge, power_supply)

    [signals]                           # start values of signals no sensor measures
    screen_locked = true

    [limits.ios]                        # any limit `wakebench budgets` lists
    background_task_s = 180

Every problem is a :class:`RigConfigError` naming the file, the key path and (when it can be
found) the line: ``rig.toml:12: broker.keepalive: must be a whole number of seconds, not 'x'``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from boards import BoardConfigError, BoardSpec, UnknownBoardError, board_from_mapping, get_board
from firmware_sim.errors import ConfigError, SignalError
from firmware_sim.platforms import POLICIES
from firmware_sim.signals import coerce
from mqtt_bridge.config import DEFAULT_RATE_BURST, DEFAULT_RATE_PER_S, BrokerConfig
from mqtt_bridge.errors import BridgeConfigError
from wakebench.broker import WebSocketOptions
from wakebench.webserver import WebOptions
from wbcommon import files

__all__ = ["DEFAULT_RIG_ID", "RigConfig", "RigConfigError", "RigError", "load_config"]

#: Rig id when neither the file nor ``--rig`` gives one.
DEFAULT_RIG_ID: Final = "bench"
#: The simulated board (DESIGN.md section 8).
SIM_BOARD: Final = "sim"
#: Sensor poll period when the file says nothing (s). Battery signals move slowly; charger and
#: network changes are edges and never wait for a poll. wakebench default.
DEFAULT_POLL_INTERVAL_S: Final = 1.0

_ID_RE: Final = re.compile(r"^[a-z0-9_-]{1,64}$")
_TABLES: Final = {"rig", "board", "broker", "embedded_broker", "web", "homeassistant", "poll", "signals", "limits"}
_RIG_KEYS: Final = {"id", "board", "state_dir", "state_sync", "seed", "speed", "request_rate", "request_burst"}
#: Largest per-app request rate / burst a rig accepts: beyond 10,000/s the bridge (~2,600
#: answers/s, docs/benchmarks.md) cannot keep up anyway. wakebench bound.
MAX_REQUEST_RATE: Final = 10_000
_BROKER_KEYS: Final = {
    "url", "username", "password", "password_file", "ca_file", "cert_file", "key_file",
    "insecure", "protocol", "keepalive", "client_id",
}
_EMBEDDED_KEYS: Final = {"websockets", "ws_port", "ws_cert_file", "ws_key_file"}
_HA_KEYS: Final = {"discovery", "prefix"}
_WEB_KEYS: Final = {"enabled", "host", "port", "controls", "ws_url"}
_POLL_KEYS: Final = {"interval"}


class RigError(Exception):
    """Root of the errors of the rig composition (config, start-up)."""


class RigConfigError(RigError, ValueError):
    """The rig configuration is not valid: names the file, key path and line when known."""

    def __init__(self, message: str, *, source: str, key: str, line: int | None = None) -> None:
        self.source = source
        self.key = key
        self.line = line
        self.reason = message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {key}: {message}")


@dataclass(frozen=True, slots=True)
class RigConfig:
    """A validated rig configuration (file values with CLI overrides applied).

    Attributes:
        source: the file it came from (``"<command line>"`` without ``--config``).
        rig_id: the rig id.
        board: the board spec (catalogue or the file's own ``[board]``).
        state_dir: where scheduler state and the outbox live.
        state_sync: journal durability, ``normal`` or ``full`` (firmware_sim.journal docstring).
        seed: seed of every random choice.
        speed: rig clock speed (> 1 only on the sim board).
        request_rate, request_burst: per-app request token bucket (mqtt_bridge.config defaults).
        broker_url: broker URL; None starts an embedded broker.
        broker_options: extra :class:`BrokerConfig` fields (TLS files, credentials, ...).
        websockets: the embedded broker's WebSocket listener (``[embedded_broker]``, ``--ws-port``).
        web: the live web view (``[web]``, ``--http-port``, ``--web-controls``, ``--no-web``).
        ha_discovery / ha_prefix: Home Assistant discovery.
        poll_interval: sensor poll period (s).
        signals: start values of manual signals.
        limits: per-platform limit overrides.
    """

    source: str
    rig_id: str = DEFAULT_RIG_ID
    board: BoardSpec = field(default_factory=lambda: get_board(SIM_BOARD))
    state_dir: Path | None = None
    state_sync: str = "normal"
    seed: int = 0
    speed: float = 1.0
    request_rate: float = DEFAULT_RATE_PER_S
    request_burst: int = DEFAULT_RATE_BURST
    broker_url: str | None = None
    broker_options: Mapping[str, Any] = field(default_factory=dict)
    websockets: WebSocketOptions = field(default_factory=WebSocketOptions)
    web: WebOptions = field(default_factory=WebOptions)
    ha_discovery: bool = False
    ha_prefix: str = "homeassistant"
    poll_interval: float = DEFAULT_POLL_INTERVAL_S
    signals: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: file lines of keys, for errors found after loading (``signals.on_call`` not settable...)
    lines: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def simulated(self) -> bool:
        """True on the sim board."""
        return self.board.simulated

    @property
    def resolved_state_dir(self) -> Path:
        """``state_dir``, or ``$XDG_STATE_HOME/wakebench/<rig>`` (``~/.local/state/...``)."""
        if self.state_dir is not None:
            return self.state_dir
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(base) / "wakebench" / self.rig_id

    def error(self, key: str, message: str) -> RigConfigError:
        """An error about ``key`` of this configuration, located in its file when possible."""
        return RigConfigError(message, source=self.source, key=key, line=self.lines.get(key))

    def broker_config(self, url: str | None = None, **extra: Any) -> BrokerConfig:
        """The bridge's :class:`BrokerConfig` for ``url`` (default: the configured one).

        Raises:
            RigConfigError: the URL or an option is not valid (names ``broker.url``).
        """
        target = url or self.broker_url
        if target is None:
            raise self.error("broker.url", "no broker configured")
        options = {**self.broker_options, **extra}
        if "client_id" not in options:
            options["client_id"] = f"wakebench-{self.rig_id}"
        try:
            return BrokerConfig.from_url(target, **options)
        except BridgeConfigError as exc:
            raise self.error("broker.url", str(exc)) from None

    def with_overrides(
        self,
        *,
        board: str | None = None,
        broker: str | None = None,
        rig: str | None = None,
        speed: float | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        ws_port: int | None = None,
        websockets: bool | None = None,
        request_rate: float | None = None,
        request_burst: int | None = None,
        http_port: int | None = None,
        web: bool | None = None,
        web_controls: bool | None = None,
    ) -> RigConfig:
        """Apply command-line flags (they win over the file) and re-check what they touch.

        Raises:
            RigConfigError: naming the flag (``--board``, ``--speed``, ...).
        """
        cfg = self
        if board is not None:
            try:
                cfg = replace(cfg, board=get_board(board))
            except UnknownBoardError as exc:
                raise RigConfigError(str(exc), source="command line", key="--board") from None
        if rig is not None:
            if not _ID_RE.match(rig):
                raise RigConfigError(f"rig id must match [a-z0-9_-]{{1,64}}, not {rig!r}",
                                     source="command line", key="--rig")
            cfg = replace(cfg, rig_id=rig)
        if broker is not None:
            cfg = replace(cfg, broker_url=broker)
            cfg.broker_config()  # validate now, naming the flag
        if state_dir is not None:
            cfg = replace(cfg, state_dir=Path(state_dir))
        if ws_port is not None:
            if isinstance(ws_port, bool) or not isinstance(ws_port, int) or not 0 < ws_port <= 65535:
                raise RigConfigError(f"must be a port from 1 to 65535, not {ws_port!r}",
                                     source="command line", key="--ws-port")
            cfg = replace(cfg, websockets=replace(cfg.websockets, port=ws_port, enabled=True))
        if websockets is not None:
            cfg = replace(cfg, websockets=replace(cfg.websockets, enabled=websockets))
        if request_rate is not None:
            if not (math.isfinite(request_rate) and 0 < request_rate <= MAX_REQUEST_RATE):
                raise RigConfigError(f"must be requests/s from above 0 to {MAX_REQUEST_RATE}, not {request_rate!r}",
                                     source="command line", key="--request-rate")
            cfg = replace(cfg, request_rate=float(request_rate))
        if request_burst is not None:
            if not 1 <= request_burst <= MAX_REQUEST_RATE:
                raise RigConfigError(f"must be a whole number from 1 to {MAX_REQUEST_RATE}, not {request_burst!r}",
                                     source="command line", key="--request-burst")
            cfg = replace(cfg, request_burst=request_burst)
        if http_port is not None:
            if isinstance(http_port, bool) or not isinstance(http_port, int) or not 0 < http_port <= 65535:
                raise RigConfigError(f"must be a port from 1 to 65535, not {http_port!r}",
                                     source="command line", key="--http-port")
            cfg = replace(cfg, web=replace(cfg.web, port=http_port, enabled=True))
        if web is not None:
            cfg = replace(cfg, web=replace(cfg.web, enabled=web))
        if web_controls is not None:
            cfg = replace(cfg, web=replace(cfg.web, controls=web_controls))
        if speed is not None:
            if not (isinstance(speed, int | float) and math.isfinite(speed) and speed > 0):
                raise RigConfigError(f"must be a positive number, not {speed!r}", source="command line",
                                     key="--speed")
            cfg = replace(cfg, speed=float(speed))
            if not cfg.simulated and speed != 1.0:
                raise RigConfigError(
                    f"--speed only works with the simulated board: board {cfg.board.name!r} reads real "
                    "hardware, which runs on real time (use --board sim, or drop --speed)",
                    source="command line", key="--speed")
        if not cfg.simulated and cfg.speed != 1.0:
            raise cfg.error("rig.speed", f"speed {cfg.speed:g} only works with the simulated board, "
                            f"not {cfg.board.name!r} (real hardware runs on real time)")
        return cfg


def default_config() -> RigConfig:
    """The configuration of ``wakebench run`` without ``--config``: the sim board, embedded broker."""
    return RigConfig(source="<command line>")


def load_config(path: str | os.PathLike[str]) -> RigConfig:
    """Read and validate a rig TOML file.

    Raises:
        RigConfigError: the first problem, naming file, key path and line.
    """
    source = str(path)
    try:  # bounded size, strict UTF-8, depth-bounded TOML (tomllib refuses duplicate keys)
        text = files.read_text(path, limit=files.MAX_CONFIG_BYTES, field="(file)")
        data = files.parse_toml(text, source)
    except files.FileFormatError as exc:
        raise RigConfigError(exc.reason, source=source, key=exc.field or "(file)", line=exc.line) from None
    return _Parser(source, text).config(data)


class _Parser:
    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = _key_lines(text)
        self.text = text

    def error(self, key: str, message: str) -> RigConfigError:
        return RigConfigError(message, source=self.source, key=key, line=self.line_of(key))

    def line_of(self, key: str) -> int | None:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return None

    def table(self, data: Mapping[str, Any], name: str, allowed: set[str] | None) -> Mapping[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, Mapping):
            raise self.error(name, f"must be a table ([{name}]), not {_kind(value)}")
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    raise self.error(f"{name}.{key}", f"unknown key (known: {', '.join(sorted(allowed))})")
        return value

    def string(self, table: Mapping[str, Any], name: str, key: str) -> str | None:
        value = table.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.error(key, f"must be a non-empty string, not {_kind(value)}")
        return value

    def number(self, table: Mapping[str, Any], name: str, key: str, *, positive: bool = True) -> float | None:
        value = table.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                or (positive and value <= 0):
            what = "a positive number" if positive else "a number"
            raise self.error(key, f"must be {what}, not {value!r}")
        return float(value)

    def boolean(self, table: Mapping[str, Any], name: str, key: str) -> bool | None:
        value = table.get(name)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {value!r}")
        return value

    def config(self, data: Mapping[str, Any]) -> RigConfig:
        for key in data:
            if key not in _TABLES:
                raise self.error(key, f"unknown table (known: {', '.join(sorted(_TABLES))})")
        cfg: dict[str, Any] = {"source": self.source, "lines": dict(self.lines)}

        rig = self.table(data, "rig", _RIG_KEYS)
        if (rig_id := self.string(rig, "id", "rig.id")) is not None:
            if not _ID_RE.match(rig_id):
                raise self.error("rig.id", f"must match [a-z0-9_-]{{1,64}}, not {rig_id!r}")
            cfg["rig_id"] = rig_id
        if (state_dir := self.string(rig, "state_dir", "rig.state_dir")) is not None:
            cfg["state_dir"] = Path(state_dir).expanduser()
        if (sync := self.string(rig, "state_sync", "rig.state_sync")) is not None:
            if sync not in ("normal", "full"):
                raise self.error("rig.state_sync", f"must be 'normal' or 'full', not {sync!r}")
            cfg["state_sync"] = sync
        if "seed" in rig:
            seed = rig["seed"]
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise self.error("rig.seed", f"must be a whole number, not {seed!r}")
            cfg["seed"] = seed
        if (speed := self.number(rig, "speed", "rig.speed")) is not None:
            cfg["speed"] = speed
        if (rate := self.number(rig, "request_rate", "rig.request_rate")) is not None:
            if rate > MAX_REQUEST_RATE:
                raise self.error("rig.request_rate", f"must be at most {MAX_REQUEST_RATE} requests/s, not {rate:g}")
            cfg["request_rate"] = rate
        if "request_burst" in rig:
            burst = rig["request_burst"]
            if isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= MAX_REQUEST_RATE:
                raise self.error("rig.request_burst", f"must be a whole number from 1 to {MAX_REQUEST_RATE}, "
                                 f"not {burst!r}")
            cfg["request_burst"] = burst
        cfg["board"] = self.board(data, rig)
        if cfg.get("speed", 1.0) != 1.0 and not cfg["board"].simulated:
            raise self.error("rig.speed", f"speed {cfg['speed']:g} only works with the simulated board, "
                             f"not {cfg['board'].name!r} (real hardware runs on real time)")

        broker = self.table(data, "broker", _BROKER_KEYS)
        options: dict[str, Any] = {}
        for name in ("username", "password", "ca_file", "cert_file", "key_file", "client_id"):
            if (value := self.string(broker, name, f"broker.{name}")) is not None:
                options[name] = value
        if (pw_file := self.string(broker, "password_file", "broker.password_file")) is not None:
            if "password" in options:
                raise self.error("broker.password_file", "give password or password_file, not both")
            options["password"] = self.password_file(pw_file)
        if (insecure := self.boolean(broker, "insecure", "broker.insecure")) is not None:
            options["insecure"] = insecure
        if "protocol" in broker:
            proto = str(broker["protocol"])
            if proto not in ("5", "3.1.1"):
                raise self.error("broker.protocol", f"must be \"5\" or \"3.1.1\", not {broker['protocol']!r}")
            options["protocol"] = proto
        if "keepalive" in broker:
            keepalive = broker["keepalive"]
            if isinstance(keepalive, bool) or not isinstance(keepalive, int) or not 0 < keepalive <= 65535:
                raise self.error("broker.keepalive", f"must be whole seconds from 1 to 65535, not {keepalive!r}")
            options["keepalive"] = keepalive
        cfg["broker_options"] = options
        url = self.string(broker, "url", "broker.url")
        if url is None and options:
            raise self.error("broker", "broker options need broker.url (without it an embedded broker is used)")
        cfg["broker_url"] = url
        if url is not None:
            try:
                BrokerConfig.from_url(url, **options)
            except BridgeConfigError as exc:
                raise self.error("broker.url", str(exc)) from None
            for name in ("ca_file", "cert_file", "key_file"):
                if name in options:
                    self.tls_file(options[name], f"broker.{name}")

        cfg["websockets"] = self.websockets(self.table(data, "embedded_broker", _EMBEDDED_KEYS))

        cfg["web"] = self.web(self.table(data, "web", _WEB_KEYS))

        ha = self.table(data, "homeassistant", _HA_KEYS)
        if (discovery := self.boolean(ha, "discovery", "homeassistant.discovery")) is not None:
            cfg["ha_discovery"] = discovery
        if (prefix := self.string(ha, "prefix", "homeassistant.prefix")) is not None:
            cfg["ha_prefix"] = prefix

        poll = self.table(data, "poll", _POLL_KEYS)
        if (interval := self.number(poll, "interval", "poll.interval")) is not None:
            cfg["poll_interval"] = interval

        signals = self.table(data, "signals", None)
        values: dict[str, Any] = {}
        for name, raw in signals.items():
            try:
                values[name] = coerce(name, raw)
            except SignalError as exc:
                raise self.error(f"signals.{name}", str(exc)) from None
        cfg["signals"] = values

        cfg["limits"] = self.limits(self.table(data, "limits", set(POLICIES)))
        return RigConfig(**cfg)

    def board(self, data: Mapping[str, Any], rig: Mapping[str, Any]) -> BoardSpec:
        name = self.string(rig, "board", "rig.board")
        if "board" in data:
            if name is not None:
                raise self.error("rig.board", "give rig.board or a [board] table, not both")
            table = data["board"]
            if not isinstance(table, Mapping):
                raise self.error("board", f"must be a table ([board]), not {_kind(table)}")
            try:
                return board_from_mapping(table, source=self.source, prefix="board", text=self.text)
            except BoardConfigError as exc:
                raise RigConfigError(exc.reason, source=exc.source, key=exc.key, line=exc.line) from None
        try:
            return get_board(name or SIM_BOARD)
        except UnknownBoardError as exc:
            raise self.error("rig.board", str(exc)) from None

    def websockets(self, table: Mapping[str, Any]) -> WebSocketOptions:
        enabled = self.boolean(table, "websockets", "embedded_broker.websockets")
        port = table.get("ws_port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= 65535):
            raise self.error("embedded_broker.ws_port", f"must be a port from 1 to 65535, not {port!r}")
        cert = self.string(table, "ws_cert_file", "embedded_broker.ws_cert_file")
        key = self.string(table, "ws_key_file", "embedded_broker.ws_key_file")
        if (cert is None) != (key is None):
            missing = "ws_key_file" if key is None else "ws_cert_file"
            raise self.error(f"embedded_broker.{missing}", "wss needs both ws_cert_file and ws_key_file")
        for name, path in (("ws_cert_file", cert), ("ws_key_file", key)):
            if path is not None and not Path(path).expanduser().is_file():
                raise self.error(f"embedded_broker.{name}", f"no such file: {path}")
        return WebSocketOptions(enabled=True if enabled is None else enabled, port=port,
                                cert_file=None if cert is None else str(Path(cert).expanduser()),
                                key_file=None if key is None else str(Path(key).expanduser()))
    def tls_file(self, path: str, key: str) -> None:
        try:  # OpenSSL reads what it is given: /dev/zero would never end
            files.check_regular_file(Path(path).expanduser(), field=key)
        except files.FileFormatError as exc:
            raise self.error(key, f"{path!r}: {exc.reason}") from None

    def web(self, table: Mapping[str, Any]) -> WebOptions:
        enabled = self.boolean(table, "enabled", "web.enabled")
        controls = self.boolean(table, "controls", "web.controls")
        port = table.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= 65535):
            raise self.error("web.port", f"must be a port from 1 to 65535, not {port!r}")
        host = self.string(table, "host", "web.host")
        ws_url = self.string(table, "ws_url", "web.ws_url")
        if ws_url is not None and not re.match(r"^wss?://[^\s/]+", ws_url):
            raise self.error("web.ws_url", f"must be a ws:// or wss:// URL, not {ws_url!r}")
        defaults = WebOptions()
        return WebOptions(enabled=defaults.enabled if enabled is None else enabled,
                          host=host or defaults.host, port=port,
                          controls=defaults.controls if controls is None else controls, ws_url=ws_url)

    def password_file(self, path: str) -> str:
        try:  # bounded: password_file = "/dev/zero" must not eat memory
            return files.read_first_line(Path(path).expanduser(), field="broker.password_file")
        except files.FileFormatError as exc:
            reason = exc.reason.removeprefix("cannot read the file (").removesuffix(")")
            raise self.error("broker.password_file", f"cannot read {path!r} ({reason})") from None

    def limits(self, table: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for platform, overrides in table.items():
            key = f"limits.{platform}"
            if not isinstance(overrides, Mapping):
                raise self.error(key, f"must be a table ([{key}]), not {_kind(overrides)}")
            limits = POLICIES[platform].limits_type()
            for name, value in overrides.items():
                try:
                    limits.with_overrides({name: value})
                except ConfigError as exc:
                    raise self.error(f"{key}.{name}", str(exc)) from None
            out[platform] = dict(overrides)
        return out


_HEADER_RE: Final = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY_RE: Final = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def _key_lines(text: str) -> dict[str, int]:
    """``{"broker.keepalive": 14, "limits.ios": 20, ...}``: the line of each table and key
    (first occurrence), for error messages. Good enough for hand-written configs."""
    out: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if m := _HEADER_RE.match(line):
            table = ".".join(part.strip().strip("\"'") for part in m.group(1).split("."))
            out.setdefault(table, number)
            continue
        if m := _KEY_RE.match(line):
            key = ".".join(part.strip().strip("\"'") for part in m.group(1).split("."))
            out.setdefault(f"{table}.{key}" if table else key, number)
    return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__
