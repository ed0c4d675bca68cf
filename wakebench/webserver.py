"""The live web view's HTTP server: ``wakebench run`` serves the page, the fleet page and their
static files (shipped in :mod:`wakebench.web`, MQTT.js and the JS client vendored under
``wakebench/web/vendor``) on loopback; the live data itself goes browser ↔ broker over MQTT
WebSockets, not through this server.

Besides the files it answers three small JSON requests:

- ``GET /api/config``: rig id, the broker's WebSocket URL, whether controls are on, speed, board;
- ``GET /api/history``: the records (:mod:`wakebench.records`: events, signals snapshots, app
  states) since the rig started, at most :data:`HISTORY_MAX_RECORDS`, so a viewer who opens the
  page late sees the timeline from the start (the MQTT events topic is not retained);
- ``GET /api/status/<app>``: the ``status`` verb's data for one app, read in-process (so the
  view never sends requests on an app's topics and never uses its rate limit).

Why asyncio streams and not ``http.server`` or aiohttp: the status and history are read from the
scheduler, which lives on the rig's event loop and is not thread-safe; a stdlib server on the
same loop needs no lock and no new dependency for a handful of GET routes.

Every request gets exactly one answer: a malformed request line is ``400``, an over-long line or
too many headers ``431``, a method other than GET/HEAD ``405``, a head that does not arrive in
:data:`READ_TIMEOUT_S` ``408``, an unknown path ``404`` — the
``/api`` ones as ``{"code": .., "error": ..}`` JSON. One request per connection
(``Connection: close``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from firmware_sim.driver import SchedulerDriver
from firmware_sim.events import Event
from firmware_sim.signals import Signals

__all__ = ["HISTORY_MAX_RECORDS", "WebOptions", "WebServer"]

log = logging.getLogger(__name__)

LOOPBACK: Final = "127.0.0.1"
#: Longest request line accepted (bytes): Apache httpd's ``LimitRequestLine`` default, 8190
#: (httpd.apache.org/docs/2.4/mod/core.html#limitrequestline). Longer: ``431``.
MAX_REQUEST_LINE: Final = 8190
#: Most header lines accepted: Apache httpd's ``LimitRequestFields`` default, 100
#: (httpd.apache.org/docs/2.4/mod/core.html#limitrequestfields). More: ``431``.
MAX_HEADERS: Final = 100
#: A client that has not sent its whole request head after this long is dropped (s). wakebench choice.
READ_TIMEOUT_S: Final = 10.0
#: Records kept for late viewers (``/api/history``); the oldest go first. A record is a few
#: hundred bytes, so this is tens of MB at most; 14 days × 100 apps of the benchmark is ~40,000
#: events. wakebench choice.
HISTORY_MAX_RECORDS: Final = 200_000
#: Files under wakebench/web that may be served, by suffix, with their Content-Type.
CONTENT_TYPES: Final[dict[str, str]] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
#: Page names without a suffix.
ROUTES: Final[dict[str, str]] = {"/": "live.html", "/fleet": "fleet.html"}

_REQUEST_LINE: Final = re.compile(r"^([A-Z]{1,16}) (\S{1,8190}) HTTP/1\.[01]$")
_FILE: Final = re.compile(r"^/((?:vendor/(?:client/)?)?[A-Za-z0-9_-][A-Za-z0-9_.-]{0,100})$")
_STATUS_PATH: Final = re.compile(r"^/api/status/([^/]*)$")
_ID: Final = re.compile(r"^[a-z0-9_-]{1,64}$")
_REASONS: Final = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
                   431: "Request Header Fields Too Large", 500: "Internal Server Error"}


@dataclass(frozen=True, slots=True)
class WebOptions:
    """The web view (``[web]`` in rig.toml, ``--http-port``, ``--web-controls``, ``--no-web``).

    Args:
        enabled: serve the web view at all.
        host: the address to listen on (loopback by default: the page can set signals when
            ``controls`` is on, and it has no login).
        port: the TCP port (None: a free one).
        controls: show the controls (set signals, inject a fault, force-run / force-expire).
        ws_url: the broker's WebSocket URL for browsers; default: the embedded broker's.
    """

    enabled: bool = True
    host: str = LOOPBACK
    port: int | None = None
    controls: bool = False
    ws_url: str | None = None


class _RequestError(Exception):
    def __init__(self, status: int, code: str, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.code = code
        self.error = error


class WebServer:
    """Serves the live view of one rig; collects its history from the driver's sinks.

    Args:
        driver: the rig's scheduler driver (history sinks, ``status`` reads).
        options: where to listen, whether controls are on.
        rig: the rig id.
        ws_url: the broker's WebSocket URL for browsers (``options.ws_url`` wins), or None.
        info: extra ``/api/config`` fields (board, speed, version ...), read per request.
    """

    def __init__(self, driver: SchedulerDriver, *, options: WebOptions, rig: str, ws_url: str | None,
                 info: Callable[[], dict[str, Any]] | None = None) -> None:
        self.driver = driver
        self.options = options
        self.rig = rig
        self.ws_url = options.ws_url or ws_url
        self._info = info or dict
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_MAX_RECORDS)
        self.dropped = 0
        self._app_states: dict[str, tuple[str, str]] = {}
        self._server: asyncio.Server | None = None
        self.port: int | None = None
        driver.add_signals_sink(self._on_signals)
        driver.add_sink(self._on_events)
        self._on_signals(driver.signals)
        self._note_app_states(driver.scheduler.apps)

    @property
    def url(self) -> str:
        """The live page's URL (after :meth:`start`)."""
        host = self.options.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}/"

    async def start(self) -> None:
        """Listen on ``options.host``:``options.port`` (a free port when None).

        Raises:
            OSError: the address cannot be bound (port in use, no such address).
        """
        self._server = await asyncio.start_server(self._serve, self.options.host, self.options.port or 0,
                                                  limit=MAX_REQUEST_LINE + 2)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close open connections (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)

    # -- history -----------------------------------------------------------------------------
    def _add(self, record: dict[str, Any]) -> None:
        if len(self.history) == self.history.maxlen:
            self.dropped += 1
        self.history.append(record)

    def _on_signals(self, snapshot: Signals) -> None:
        self._add({"kind": "signals", **snapshot.to_dict()})

    def _on_events(self, events: list[Event]) -> None:
        apps: dict[str, None] = {}
        for e in events:
            self._add({"kind": "event", **e.to_dict()})
            apps[e.app] = None
        self._note_app_states(apps)

    def _note_app_states(self, app_ids: Iterable[str]) -> None:
        sched = self.driver.scheduler
        for app_id in app_ids:
            app = sched.apps.get(app_id)
            if app is None or self._app_states.get(app_id) == (app.platform, app.state):
                continue
            self._app_states[app_id] = (app.platform, app.state)
            self._add({"kind": "app_state", "t": round(sched.now, 6), "app": app_id,
                       "platform": app.platform, "state": app.state})

    def app_touched(self, app_id: str) -> None:
        """An app's request was served: note its state if it changed (``Bridge.app_listeners``)."""
        self._note_app_states((app_id,))

    def config(self) -> dict[str, Any]:
        """The ``/api/config`` answer."""
        return {**self._info(), "rig": self.rig, "ws_url": self.ws_url, "controls": self.options.controls}

    def status(self, app_id: str) -> dict[str, Any]:
        """The ``status`` verb's data for ``app_id``, read without going through a request.

        Raises:
            _RequestError: no such app (404, ``not_registered``).
        """
        sched = self.driver.scheduler
        app = sched.apps.get(app_id)
        if app is None:
            raise _RequestError(404, "not_registered", f"app {app_id!r} is not registered on rig {self.rig!r}")
        policy = sched.policies[app.platform]
        return {"app": app.to_dict(), "t": round(sched.now, 6), **policy.status(app)}

    # -- HTTP ----------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                method, path = await asyncio.wait_for(self._read_head(reader), webserver_timeout())
                status, ctype, body = self._route(method, path)
            except _RequestError as exc:
                status, ctype, body = exc.status, CONTENT_TYPES[".txt"], b""
                method = "GET"
                body = _json({"code": exc.code, "error": exc.error})
                ctype = "application/json"
            except TimeoutError:
                status, ctype, method = 408, "application/json", "GET"
                body = _json({"code": "request_timeout",
                              "error": f"the request head did not arrive within {READ_TIMEOUT_S:g} s"})
            except Exception:  # a bug answers 500 and the server keeps serving
                log.exception("web view request failed")
                status, ctype, method = 500, "application/json", "GET"
                body = _json({"code": "internal_error", "error": "internal error in the web view (logged)"})
            head = (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
                    "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n")
            writer.write(head.encode("ascii") + (b"" if method == "HEAD" else body))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_head(self, reader: asyncio.StreamReader) -> tuple[str, str]:
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise _RequestError(431, "request_too_long",
                              f"request line longer than {MAX_REQUEST_LINE} bytes") from None
        except asyncio.IncompleteReadError:
            raise _RequestError(400, "bad_request", "incomplete request line") from None
        try:
            line = raw.decode("ascii").rstrip("\r\n")
        except UnicodeDecodeError:
            raise _RequestError(400, "bad_request", "request line is not ASCII") from None
        m = _REQUEST_LINE.match(line)
        if m is None:
            raise _RequestError(400, "bad_request", "not an HTTP/1.x request line")
        for _ in range(MAX_HEADERS + 1):
            try:
                header = await reader.readuntil(b"\n")
            except asyncio.LimitOverrunError:
                raise _RequestError(431, "header_too_long", f"header line longer than {MAX_REQUEST_LINE} bytes") from None
            except asyncio.IncompleteReadError:
                raise _RequestError(400, "bad_request", "incomplete request head") from None
            if header in (b"\r\n", b"\n"):
                return m.group(1), m.group(2)
        raise _RequestError(431, "too_many_headers", f"more than {MAX_HEADERS} header lines")

    def _route(self, method: str, target: str) -> tuple[int, str, bytes]:
        if method not in ("GET", "HEAD"):
            raise _RequestError(405, "method_not_allowed", f"only GET and HEAD are served, not {method}")
        path = unquote(urlsplit(target).path)
        if path == "/api/config":
            return 200, "application/json", _json(self.config())
        if path == "/api/history":
            return 200, "application/json", _json({"records": list(self.history), "dropped": self.dropped})
        if m := _STATUS_PATH.match(path):
            if not _ID.match(m.group(1)):
                raise _RequestError(400, "invalid_app_id", f"app id must match [a-z0-9_-]{{1,64}}, not {m.group(1)[:80]!r}")
            return 200, "application/json", _json(self.status(m.group(1)))
        if path.startswith("/api/"):
            raise _RequestError(404, "unknown_api", f"no such API: {path[:80]!r} (known: /api/config, "
                              "/api/history, /api/status/<app>)")
        name = ROUTES.get(path)
        if name is None and (m := _FILE.match(path)) and ".." not in path:
            name = m.group(1)
        suffix = "." + name.rsplit(".", 1)[-1] if name and "." in name else ""
        if name is None or suffix not in CONTENT_TYPES:
            raise _RequestError(404, "not_found", f"no such page: {path[:80]!r}")
        try:
            body = _static(name)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise _RequestError(404, "not_found", f"no such page: {path[:80]!r}") from None
        return 200, CONTENT_TYPES[suffix], body


def webserver_timeout() -> float:
    """:data:`READ_TIMEOUT_S`, looked up per request (tests shorten it)."""
    return READ_TIMEOUT_S


def _static(name: str) -> bytes:
    node = resources.files("wakebench.web")
    for part in name.split("/"):
        node = node.joinpath(part)
    return node.read_bytes()


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode("utf-8")
