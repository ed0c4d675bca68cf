"""The live view's HTTP server (wakebench/webserver.py) in-process, on a virtual rig clock: every
request gets exactly one answer, the history a late viewer loads, ``status`` read without a
request, and the static files an installed wheel serves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from firmware_sim.clock import VirtualClock
from firmware_sim.driver import SchedulerDriver
from firmware_sim.scheduler import Scheduler
from firmware_sim.signals import Signals
from wakebench import webserver
from wakebench.webserver import MAX_HEADERS, MAX_REQUEST_LINE, WebOptions, WebServer


@pytest.fixture
async def served() -> AsyncIterator[tuple[WebServer, SchedulerDriver, VirtualClock]]:
    clock = VirtualClock()
    driver = SchedulerDriver(Scheduler(signals=Signals(charger="ac", battery_level=95.0, network="wifi",
                                                         screen_locked=True)), clock=clock)
    server = WebServer(driver, options=WebOptions(controls=True), rig="bench", ws_url="ws://127.0.0.1:9001",
                       info=lambda: {"board": "sim", "speed": 1.0})
    await server.start()
    try:
        yield server, driver, clock
    finally:
        await server.stop()


async def raw(server: WebServer, data: bytes, *, eof: bool = True) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(data)
    await writer.drain()
    if eof:
        writer.write_eof()
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


async def get(server: WebServer, path: str) -> tuple[int, dict[str, str], Any]:
    status, headers, body = await raw(server, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return status, headers, json.loads(body) if headers["Content-Type"] == "application/json" else body


async def test_it_listens_on_loopback_by_default_and_names_its_url(served: Any) -> None:
    server, _, _ = served
    assert WebOptions().host == "127.0.0.1" and WebOptions().controls is False
    assert server.url == f"http://127.0.0.1:{server.port}/"


async def test_the_pages_and_the_vendored_browser_files_are_served(served: Any) -> None:
    server, _, _ = served
    for path, kind in [("/", "text/html"), ("/fleet", "text/html"), ("/live.js", "text/javascript"),
                       ("/timeline.js", "text/javascript"), ("/live.css", "text/css"),
                       ("/vendor/mqtt.esm.js", "text/javascript"), ("/vendor/client/client.js", "text/javascript")]:
        status, headers, body = await get(server, path)
        assert status == 200 and headers["Content-Type"].startswith(kind), path
        assert len(body) > 100 and headers["Connection"] == "close"


async def test_config_says_where_the_broker_is_and_whether_controls_are_on(served: Any) -> None:
    server, _, _ = served
    status, _, body = await get(server, "/api/config")
    assert status == 200
    assert body == {"board": "sim", "speed": 1.0, "rig": "bench", "ws_url": "ws://127.0.0.1:9001", "controls": True}


async def test_history_holds_signals_events_and_app_states_since_the_start(served: Any) -> None:
    server, driver, clock = served
    await driver.request("mail", "register", {"platform": "wp8"})
    await driver.request("mail", "add", {"name": "sync", "type": "resource_intensive"})
    clock.advance_to(60.0)
    await driver.update_signals({"charger": "none"})
    _, _, body = await get(server, "/api/history")
    kinds = [(r["kind"], r.get("type"), r.get("charger")) for r in body["records"]]
    assert kinds[0] == ("signals", None, "ac")
    events = [r for r in body["records"] if r["kind"] == "event"]
    assert [(e["type"], e["task_id"], e["reason"]) for e in events][:2] == [
        ("wake", "sync", None), ("revoke", "sync", "charger_removed")]
    assert {"kind": "app_state", "t": 0.0, "app": "mail", "platform": "wp8", "state": "foreground"} in body["records"]
    assert body["dropped"] == 0


async def test_an_app_state_change_without_an_event_reaches_the_history(served: Any) -> None:
    server, driver, clock = served
    await driver.request("mail", "register", {"platform": "wp8"})
    server.app_touched("mail")
    clock.advance_to(30.0)
    await driver.request("mail", "state", {"state": "background"})
    server.app_touched("mail")
    server.app_touched("mail")  # unchanged: no second record
    _, _, body = await get(server, "/api/history")
    states = [(r["t"], r["state"]) for r in body["records"] if r["kind"] == "app_state"]
    assert states == [(0.0, "foreground"), (30.0, "background")]


async def test_history_keeps_the_newest_records_and_counts_the_dropped(served: Any, monkeypatch: Any) -> None:
    server, driver, _ = served
    monkeypatch.setattr(server, "history", type(server.history)(server.history, maxlen=3))
    for level in (90, 80, 70, 60):
        await driver.update_signals({"battery_level": level})
    _, _, body = await get(server, "/api/history")
    assert [r["battery_level"] for r in body["records"]] == [80, 70, 60]
    assert body["dropped"] == 2


async def test_status_is_the_status_verbs_data_read_without_a_request(served: Any) -> None:
    server, driver, _ = served
    await driver.request("mail", "register", {"platform": "wp8"})
    await driver.request("mail", "add", {"name": "sync", "type": "resource_intensive"})
    handled = driver.scheduler.now
    status, _, body = await get(server, "/api/status/mail")
    response = await driver.request("mail", "status", {})
    assert status == 200
    assert body["tasks"] == response.data["tasks"] and body["device"] == response.data["device"]
    assert driver.scheduler.now == handled


@pytest.mark.parametrize(("request_bytes", "status", "code"), [
    (b"garbage\r\n\r\n", 400, "bad_request"),
    (b"GET / HTTP/1.1\r\n", 400, "bad_request"),                       # head never ends
    (b"\xff\xfe / HTTP/1.1\r\n\r\n", 400, "bad_request"),
    (b"POST / HTTP/1.1\r\n\r\n", 405, "method_not_allowed"),
    (b"GET /" + b"a" * (MAX_REQUEST_LINE + 10) + b" HTTP/1.1\r\n\r\n", 431, "request_too_long"),
    (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * (MAX_HEADERS + 1) + b"\r\n", 431, "too_many_headers"),
    (b"GET /../../etc/passwd HTTP/1.1\r\n\r\n", 404, "not_found"),
    (b"GET /%2e%2e/webserver.py HTTP/1.1\r\n\r\n", 404, "not_found"),
    (b"GET /__init__.py HTTP/1.1\r\n\r\n", 404, "not_found"),
    (b"GET /vendor HTTP/1.1\r\n\r\n", 404, "not_found"),
    (b"GET /api/nothing HTTP/1.1\r\n\r\n", 404, "unknown_api"),
    (b"GET /api/status/NOPE! HTTP/1.1\r\n\r\n", 400, "invalid_app_id"),
    (b"GET /api/status/ghost HTTP/1.1\r\n\r\n", 404, "not_registered"),
])
async def test_every_bad_request_gets_one_coded_answer(served: Any, request_bytes: bytes, status: int,
                                                      code: str) -> None:
    server, _, _ = served
    got, headers, body = await raw(server, request_bytes)
    assert (got, headers["Content-Type"], json.loads(body)["code"]) == (status, "application/json", code)
    assert (await get(server, "/api/config"))[0] == 200  # and the server keeps serving


async def test_a_bug_in_a_route_answers_500_and_the_server_keeps_serving(served: Any, monkeypatch: Any) -> None:
    server, _, _ = served

    def broken() -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(server, "config", broken)
    status, _, body = await get(server, "/api/config")
    assert (status, body["code"]) == (500, "internal_error")
    assert (await get(server, "/"))[0] == 200


async def test_a_client_that_never_finishes_its_request_gets_408(served: Any, monkeypatch: Any) -> None:
    server, _, _ = served
    monkeypatch.setattr(webserver, "READ_TIMEOUT_S", 0.05)
    status, _, body = await raw(server, b"GET / HTTP/1.1\r\n", eof=False)
    assert (status, json.loads(body)["code"]) == (408, "request_timeout")


async def test_head_answers_without_a_body(served: Any) -> None:
    server, _, _ = served
    status, headers, body = await raw(server, b"HEAD / HTTP/1.1\r\n\r\n")
    assert status == 200 and int(headers["Content-Length"]) > 0 and body == b""


def test_the_limits_quote_their_sources() -> None:
    # Apache httpd core: "LimitRequestLine ... Default: LimitRequestLine 8190" and
    # "LimitRequestFields ... Default: LimitRequestFields 100"
    assert (MAX_REQUEST_LINE, MAX_HEADERS) == (8190, 100)
    source = Path(webserver.__file__).read_text(encoding="utf-8")
    assert "LimitRequestLine" in source and "LimitRequestFields" in source
