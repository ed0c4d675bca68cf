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

The file is validated by the pydantic models of :mod:`wakebench.rigfile` (the shared machinery
is :mod:`wbcommon.validation`). Every problem is ONE :class:`RigConfigError` naming the file,
the key path and (when it can be found) the line:
``rig.toml:12: broker.keepalive: must be whole seconds from 1 to 65535, not 'x'``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from boards import BoardConfigError, BoardSpec, UnknownBoardError, get_board
from boards.config import board_from_table
from mqtt_bridge.config import DEFAULT_RATE_BURST, DEFAULT_RATE_PER_S, BrokerConfig
from mqtt_bridge.errors import BridgeConfigError
from wakebench.broker import WebSocketOptions
from wakebench.rigfile import (
    MAX_REQUEST_RATE,
    PORT_MAX,
    RIG_ID_RE,
    BrokerTable,
    EmbeddedBrokerTable,
    RigFile,
    WebTable,
)
from wakebench.webserver import WebOptions
from wbcommon import files
from wbcommon.validation import SignalValue, first_error, line_of, toml_lines

__all__ = ["DEFAULT_RIG_ID", "RigConfig", "RigConfigError", "RigError", "load_config"]

#: Rig id when neither the file nor ``--rig`` gives one.
DEFAULT_RIG_ID: Final = "bench"
#: The simulated board (DESIGN.md section 8).
SIM_BOARD: Final = "sim"
#: Sensor poll period when the file says nothing (s). Battery signals move slowly; charger and
#: network changes are edges and never wait for a poll. wakebench default.
DEFAULT_POLL_INTERVAL_S: Final = 1.0

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
        signals: start values of manual signals, checked by the signal vocabulary
            (``[signals]``, then ``--set``), in their canonical types.
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
    signals: Mapping[str, SignalValue] = field(default_factory=dict)
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
            if not RIG_ID_RE.match(rig):
                raise RigConfigError(f"rig id must match [a-z0-9_-]{{1,64}}, not {rig!r}",
                                     source="command line", key="--rig")
            cfg = replace(cfg, rig_id=rig)
        if broker is not None:
            cfg = replace(cfg, broker_url=broker)
            cfg.broker_config()  # validate now, naming the flag
        if state_dir is not None:
            cfg = replace(cfg, state_dir=Path(state_dir))
        if ws_port is not None:
            if isinstance(ws_port, bool) or not isinstance(ws_port, int) or not 0 < ws_port <= PORT_MAX:
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
            if isinstance(http_port, bool) or not isinstance(http_port, int) or not 0 < http_port <= PORT_MAX:
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
    """Read and validate a rig TOML file (:class:`wakebench.rigfile.RigFile`).

    Raises:
        RigConfigError: the first problem, naming file, key path and line.
    """
    source = str(path)
    try:  # bounded size, strict UTF-8, depth-bounded TOML (tomllib refuses duplicate keys)
        text = files.read_text(path, limit=files.MAX_CONFIG_BYTES, field="(file)")
        data = files.parse_toml(text, source)
    except files.FileFormatError as exc:
        raise RigConfigError(exc.reason, source=source, key=exc.field or "(file)", line=exc.line) from None
    lines = toml_lines(text)
    try:
        model = RigFile.model_validate(data)
    except ValidationError as exc:
        found = first_error(exc, RigFile, lines, mapping="table")
        raise RigConfigError(found.message, source=source, key=found.path, line=found.line) from None
    return _Builder(source, lines).config(model)


class _Builder:
    """A validated :class:`RigFile` into a :class:`RigConfig`: the checks that read files or
    the board catalogue, and the defaults."""

    def __init__(self, source: str, lines: Mapping[str, int]) -> None:
        self.source = source
        self.lines = lines

    def error(self, key: str, message: str) -> RigConfigError:
        return RigConfigError(message, source=self.source, key=key, line=line_of(self.lines, key))

    def config(self, model: RigFile) -> RigConfig:
        rig = model.rig
        board = self.board(model)
        speed = 1.0 if rig.speed is None else rig.speed
        if speed != 1.0 and not board.simulated:
            raise self.error("rig.speed", f"speed {speed:g} only works with the simulated board, "
                             f"not {board.name!r} (real hardware runs on real time)")
        options = self.broker_options(model.broker)
        defaults = RigConfig(source=self.source)
        return RigConfig(
            source=self.source,
            lines=dict(self.lines),
            rig_id=defaults.rig_id if rig.id is None else rig.id,
            board=board,
            state_dir=None if rig.state_dir is None else Path(rig.state_dir).expanduser(),
            state_sync=defaults.state_sync if rig.state_sync is None else rig.state_sync,
            seed=defaults.seed if rig.seed is None else rig.seed,
            speed=speed,
            request_rate=defaults.request_rate if rig.request_rate is None else rig.request_rate,
            request_burst=defaults.request_burst if rig.request_burst is None else rig.request_burst,
            broker_url=model.broker.url,
            broker_options=options,
            websockets=self.websockets(model.embedded_broker),
            web=self.web(model.web),
            ha_discovery=bool(model.homeassistant.discovery),
            ha_prefix=model.homeassistant.prefix or defaults.ha_prefix,
            poll_interval=defaults.poll_interval if model.poll.interval is None else model.poll.interval,
            signals=dict(model.signals),
            limits=model.limit_overrides(),
        )

    def board(self, model: RigFile) -> BoardSpec:
        if model.board is not None:
            try:
                return board_from_table(model.board, source=self.source, prefix="board", lines=self.lines)
            except BoardConfigError as exc:
                raise RigConfigError(exc.reason, source=exc.source, key=exc.key, line=exc.line) from None
        try:
            return get_board(model.rig.board or SIM_BOARD)
        except UnknownBoardError as exc:
            raise self.error("rig.board", str(exc)) from None

    def broker_options(self, broker: BrokerTable) -> dict[str, Any]:
        options: dict[str, Any] = {}
        for name in ("username", "password", "ca_file", "cert_file", "key_file", "client_id", "insecure",
                     "protocol", "keepalive"):
            if (value := getattr(broker, name)) is not None:
                options[name] = value
        if broker.password_file is not None:
            options["password"] = self.password_file(broker.password_file)
        if broker.url is not None:
            try:
                BrokerConfig.from_url(broker.url, **options)
            except BridgeConfigError as exc:
                raise self.error("broker.url", str(exc)) from None
            for name in ("ca_file", "cert_file", "key_file"):
                if name in options:
                    self.tls_file(options[name], f"broker.{name}")
        return options

    def websockets(self, table: EmbeddedBrokerTable) -> WebSocketOptions:
        cert, key = table.ws_cert_file, table.ws_key_file
        for name, path in (("ws_cert_file", cert), ("ws_key_file", key)):
            if path is not None and not Path(path).expanduser().is_file():
                raise self.error(f"embedded_broker.{name}", f"no such file: {path}")
        return WebSocketOptions(enabled=True if table.websockets is None else table.websockets,
                                port=table.ws_port,
                                cert_file=None if cert is None else str(Path(cert).expanduser()),
                                key_file=None if key is None else str(Path(key).expanduser()))

    def tls_file(self, path: str, key: str) -> None:
        try:  # OpenSSL reads what it is given: /dev/zero would never end
            files.check_regular_file(Path(path).expanduser(), field=key)
        except files.FileFormatError as exc:
            raise self.error(key, f"{path!r}: {exc.reason}") from None

    def web(self, table: WebTable) -> WebOptions:
        defaults = WebOptions()
        return WebOptions(enabled=defaults.enabled if table.enabled is None else table.enabled,
                          host=table.host or defaults.host, port=table.port,
                          controls=defaults.controls if table.controls is None else table.controls,
                          ws_url=table.ws_url)

    def password_file(self, path: str) -> str:
        try:  # bounded: password_file = "/dev/zero" must not eat memory
            return files.read_first_line(Path(path).expanduser(), field="broker.password_file")
        except files.FileFormatError as exc:
            reason = exc.reason.removeprefix("cannot read the file (").removesuffix(")")
            raise self.error("broker.password_file", f"cannot read {path!r} ({reason})") from None
