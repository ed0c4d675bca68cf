"""GPIO: charger / power-loss pins, rig switches and relays (reference/pi-hardware.md 2, 4).

Pins are gpiozero ``MockPin``s from an injected ``MockFactory``; time is a virtual loop, so
debounce boundaries are exact and nothing sleeps. One test uses a real asyncio loop and a
second thread, the way lgpio delivers edges on a Pi.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gpiozero import DigitalInputDevice
from gpiozero.pins.mock import MockFactory, MockPin
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.errors import HalError, PinError
from hal.gpio import InputWatcher, PinSpec, Relay, RelaySpec, lgpio_pin_factory

# reference/pi-hardware.md section 2 (Boards)
X728_PLD = PinSpec(6, "external_power", active_high=False, source="X728: GPIO6 1 = AC lost")
X120X_PLD = PinSpec(
    6, "external_power", active_high=True, pull="up", source="X120x: GPIO6 High = supply OK"
)
UPS_LITE = PinSpec(4, "external_power", active_high=True, source="UPS-Lite: GPIO4 high = plugged")

DEBOUNCE = 0.05  # s; a test value, not a product constant


class VirtualLoop:
    """The two loop methods InputWatcher uses, on a clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0
        self._ready: list[tuple[Callable[..., object], tuple[Any, ...]]] = []
        self._timers: list[tuple[float, int, _Timer]] = []
        self._seq = itertools.count()

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any) -> None:
        self._ready.append((callback, args))

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> _Timer:
        timer = _Timer(callback, args)
        heapq.heappush(self._timers, (self.now + delay, next(self._seq), timer))
        return timer

    def advance_to(self, t: float) -> None:
        """Run everything due up to and including virtual time ``t``."""
        self._run_ready()
        while self._timers and self._timers[0][0] <= t:
            when, _, timer = heapq.heappop(self._timers)
            self.now = when
            if not timer.cancelled:
                timer.callback(*timer.args)
            self._run_ready()
        self.now = t

    def _run_ready(self) -> None:
        while self._ready:
            callback, args = self._ready.pop(0)
            callback(*args)


class _Timer:
    def __init__(self, callback: Callable[..., object], args: tuple[Any, ...]) -> None:
        self.callback, self.args, self.cancelled = callback, args, False

    def cancel(self) -> None:
        self.cancelled = True


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.reset()


@pytest.fixture
def loop() -> VirtualLoop:
    return VirtualLoop()


class Recorder:
    def __init__(self, loop: VirtualLoop) -> None:
        self.loop = loop
        self.changes: list[tuple[float, str, bool]] = []

    def __call__(self, signal: str, value: bool) -> None:
        self.changes.append((self.loop.now, signal, value))


def watch(
    factory: MockFactory, loop: VirtualLoop, *specs: PinSpec, board: str = "test"
) -> tuple[InputWatcher, Recorder]:
    rec = Recorder(loop)
    return InputWatcher(specs, pin_factory=factory, on_change=rec, loop=loop, board=board), rec


def pin(factory: MockFactory, gpio: int) -> MockPin:
    return factory.pin(gpio)


# --- polarity per board ------------------------------------------------------------------


def test_x728_pulling_the_charger_gpio6_high_reports_external_power_false(
    factory: MockFactory, loop: VirtualLoop
) -> None:
    # "GPIO6 PLD input: 1 = AC lost, 0 = AC OK (rising edge = loss)"
    watcher, rec = watch(factory, loop, X728_PLD)
    assert watcher.values == {"external_power": True}  # floating pin reads low: AC OK
    pin(factory, 6).drive_high()
    loop.advance_to(0.0)
    assert rec.changes == [(0.0, "external_power", False)]
    pin(factory, 6).drive_low()
    loop.advance_to(1.0)
    assert rec.changes[-1] == (0.0, "external_power", True)


def test_x120x_supply_failing_gpio6_low_reports_external_power_false(
    factory: MockFactory, loop: VirtualLoop
) -> None:
    # "GPIO6: High = supply OK, Low = supply failed (opposite of X728)"; pulled up per the wiki
    watcher, rec = watch(factory, loop, X120X_PLD)
    assert watcher.values == {"external_power": True}  # the pull-up holds it high
    pin(factory, 6).drive_low()
    loop.advance_to(0.0)
    assert rec.changes == [(0.0, "external_power", False)]
    assert watcher.values == {"external_power": False}


def test_ups_lite_plugging_in_gpio4_high_reports_external_power_true(
    factory: MockFactory, loop: VirtualLoop
) -> None:
    # "UPS-Lite: GPIO4 high = external power plugged in"
    watcher, rec = watch(factory, loop, UPS_LITE)
    assert watcher.values == {"external_power": False}
    pin(factory, 4).drive_high()
    loop.advance_to(0.0)
    assert rec.changes == [(0.0, "external_power", True)]


def test_active_low_switch_with_pull_up_is_true_when_pulled_to_ground(
    factory: MockFactory, loop: VirtualLoop
) -> None:
    spec = PinSpec(17, "screen_locked", active_high=False, pull="up")
    watcher, rec = watch(factory, loop, spec)
    assert watcher.values == {"screen_locked": False}
    pin(factory, 17).drive_low()
    loop.advance_to(0.0)
    assert rec.changes == [(0.0, "screen_locked", True)]


def test_active_high_switch_with_pull_down(factory: MockFactory, loop: VirtualLoop) -> None:
    spec = PinSpec(27, "on_call", active_high=True, pull="down")
    watcher, rec = watch(factory, loop, spec)
    assert watcher.values == {"on_call": False}
    pin(factory, 27).drive_high()
    loop.advance_to(0.0)
    assert rec.changes == [(0.0, "on_call", True)]


def test_gpiozero_is_set_up_the_documented_way(factory: MockFactory, loop: VirtualLoop) -> None:
    # reference section 4: X728 "power lost": pull_up=None, active_state=True; a floating pin
    # takes an explicit active_state, a pulled one derives it from the pull.
    watch(factory, loop, X728_PLD, PinSpec(17, "idle", active_high=False, pull="up"))
    assert pin(factory, 6).pull == "floating"
    assert pin(factory, 17).pull == "up"


# --- debounce ---------------------------------------------------------------------------


def test_change_is_reported_only_after_the_level_is_stable_for_the_debounce(
    factory: MockFactory, loop: VirtualLoop
) -> None:
    spec = PinSpec(6, "external_power", active_high=False, debounce=DEBOUNCE)
    watcher, rec = watch(factory, loop, spec)
    pin(factory, 6).drive_high()
    loop.advance_to(DEBOUNCE - 0.001)  # just before: still the old value
    assert rec.changes == []
    assert watcher.values == {"external_power": True}
    loop.advance_to(DEBOUNCE)  # exactly stable for the debounce: reported
    assert rec.changes == [(DEBOUNCE, "external_power", False)]


def test_bounce_shorter_than_the_debounce_is_swallowed(
    factory: MockFactory, loop: VirtualLoop
) -> None:
    spec = PinSpec(6, "external_power", active_high=False, debounce=DEBOUNCE)
    watcher, rec = watch(factory, loop, spec)
    pin(factory, 6).drive_high()
    loop.advance_to(DEBOUNCE - 0.001)
    pin(factory, 6).drive_low()  # back to AC OK before the debounce elapsed
    loop.advance_to(10.0)
    assert rec.changes == []
    assert watcher.values == {"external_power": True}


def test_each_bounce_restarts_the_debounce(factory: MockFactory, loop: VirtualLoop) -> None:
    spec = PinSpec(6, "external_power", active_high=False, debounce=DEBOUNCE)
    _, rec = watch(factory, loop, spec)
    gpio6 = pin(factory, 6)
    gpio6.drive_high()
    loop.advance_to(0.010)
    gpio6.drive_low()
    loop.advance_to(0.020)
    gpio6.drive_high()  # last edge at 20 ms: stable from here
    loop.advance_to(0.020 + DEBOUNCE - 0.001)
    assert rec.changes == []
    loop.advance_to(0.020 + DEBOUNCE)
    assert rec.changes == [(0.020 + DEBOUNCE, "external_power", False)]


def test_debounce_is_per_pin(factory: MockFactory, loop: VirtualLoop) -> None:
    slow = PinSpec(6, "external_power", active_high=False, debounce=DEBOUNCE)
    fast = PinSpec(17, "screen_locked", active_high=True, pull="down")
    _, rec = watch(factory, loop, slow, fast)
    pin(factory, 6).drive_high()
    pin(factory, 17).drive_high()
    loop.advance_to(0.0)
    assert rec.changes == [(0.0, "screen_locked", True)]
    loop.advance_to(DEBOUNCE)
    assert rec.changes[-1] == (DEBOUNCE, "external_power", False)


def test_close_cancels_a_pending_report_and_frees_the_pins(
    factory: MockFactory, loop: VirtualLoop
) -> None:
    spec = PinSpec(6, "external_power", active_high=False, debounce=DEBOUNCE)
    watcher, rec = watch(factory, loop, spec)
    pin(factory, 6).drive_high()
    loop.advance_to(0.0)
    watcher.close()
    watcher.close()
    loop.advance_to(1.0)
    assert rec.changes == []
    DigitalInputDevice(6, pull_up=None, active_state=True, pin_factory=factory).close()


@settings(max_examples=200, deadline=None)
@given(gaps_ms=st.lists(st.integers(min_value=1, max_value=120), max_size=30))
def test_debounce_matches_a_reference_model(gaps_ms: list[int]) -> None:
    # Each gap is the time before the next toggle of GPIO6. A level is reported exactly when it
    # differs from the last report and stays put for the whole debounce.
    factory, loop = MockFactory(), VirtualLoop()
    spec = PinSpec(6, "external_power", active_high=True, debounce=DEBOUNCE)
    watcher, rec = watch(factory, loop, spec)
    edges, t, level = [], 0.0, False
    for gap in gaps_ms:
        t += gap / 1000
        level = not level
        edges.append((t, level))
    expected, last = [], False
    for i, (when, value) in enumerate(edges):
        next_edge = edges[i + 1][0] if i + 1 < len(edges) else float("inf")
        if value != last and when + DEBOUNCE <= next_edge:
            expected.append((when + DEBOUNCE, "external_power", value))
            last = value
    gpio6 = pin(factory, 6)
    for when, value in edges:
        loop.advance_to(when)
        if value:
            gpio6.drive_high()
        else:
            gpio6.drive_low()
    loop.advance_to(t + 1.0)
    assert rec.changes == expected
    watcher.close()
    factory.reset()


# --- rig inputs ---------------------------------------------------------------------------


def test_rig_switches_report_their_own_signals(factory: MockFactory, loop: VirtualLoop) -> None:
    specs = [
        PinSpec(17, "screen_locked", active_high=True, pull="down"),
        PinSpec(27, "on_call", active_high=True, pull="down"),
        PinSpec(22, "idle", active_high=True, pull="down"),
        PinSpec(23, "low_power_mode", active_high=True, pull="down"),
        PinSpec(24, "user_present", active_high=False, pull="up"),
    ]
    watcher, rec = watch(factory, loop, *specs)
    assert watcher.values == {
        "screen_locked": False, "on_call": False, "idle": False,
        "low_power_mode": False, "user_present": False,
    }
    pin(factory, 27).drive_high()
    pin(factory, 24).drive_low()
    loop.advance_to(0.0)
    assert [(s, v) for _, s, v in rec.changes] == [("on_call", True), ("user_present", True)]


# --- thread safety on a real loop ---------------------------------------------------------


async def test_edges_from_another_thread_arrive_on_the_loop_thread(factory: MockFactory) -> None:
    # lgpio calls back on its own thread (reference section 4); the watcher must hop threads.
    loop = asyncio.get_running_loop()
    got: asyncio.Queue[tuple[str, bool, int]] = asyncio.Queue()
    spec = PinSpec(6, "external_power", active_high=False, debounce=0.02)
    watcher = InputWatcher(
        [spec],
        pin_factory=factory,
        on_change=lambda s, v: got.put_nowait((s, v, threading.get_ident())),
    )
    started = loop.time()
    edge_thread = threading.Thread(target=factory.pin(6).drive_high)
    edge_thread.start()
    edge_thread.join()
    signal, value, thread_id = await asyncio.wait_for(got.get(), timeout=2.0)
    assert (signal, value) == ("external_power", False)
    assert thread_id == threading.get_ident()
    assert loop.time() - started >= 0.02  # the debounce ran on the loop's clock
    watcher.close()


def test_watcher_outside_a_loop_needs_one(factory: MockFactory) -> None:
    with pytest.raises(RuntimeError):
        InputWatcher([X728_PLD], pin_factory=factory, on_change=lambda s, v: None)


# --- failing pins -------------------------------------------------------------------------


def test_pin_in_use_names_pin_signal_and_board(factory: MockFactory, loop: VirtualLoop) -> None:
    held = DigitalInputDevice(6, pull_up=None, active_state=True, pin_factory=factory)
    with pytest.raises(PinError, match=r"GPIO6 \(external_power\) on board x728: .*in use"):
        watch(factory, loop, X728_PLD, board="x728")
    held.close()


def test_two_signals_on_one_pin_fail_and_release_the_first(
    factory: MockFactory, loop: VirtualLoop
) -> None:
    clash = PinSpec(6, "screen_locked", active_high=True)
    with pytest.raises(PinError, match=r"GPIO6 \(screen_locked\)"):
        watch(factory, loop, X728_PLD, clash)
    watch(factory, loop, X728_PLD)  # the first pin was released again


def test_invalid_pin_is_a_pin_error(factory: MockFactory, loop: VirtualLoop) -> None:
    with pytest.raises(PinError, match=r"GPIO99 \(on_call\) on board rig"):
        watch(factory, loop, PinSpec(99, "on_call", active_high=True), board="rig")


def test_floating_spec_on_a_pin_with_a_fixed_pull_up_is_a_pin_error(
    factory: MockFactory, loop: VirtualLoop
) -> None:
    # GPIO2 (SDA) has a fixed pull-up on the Pi (gpiozero board data); "floating" is refused.
    with pytest.raises(PinError, match=r"GPIO2 \(idle\).*fixed pull"):
        watch(factory, loop, PinSpec(2, "idle", active_high=True))


def test_same_signal_twice_is_refused(factory: MockFactory, loop: VirtualLoop) -> None:
    with pytest.raises(PinError, match="external_power wired twice"):
        watch(factory, loop, X728_PLD, PinSpec(7, "external_power", active_high=True))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gpio": -1}, "non-negative int"),
        ({"gpio": True}, "non-negative int"),
        ({"signal": ""}, "needs a signal name"),
        ({"pull": "sideways"}, "pull must be one of"),
        ({"debounce": -0.001}, "debounce must be"),
        ({"debounce": float("nan")}, "debounce must be"),
    ],
)
def test_bad_pin_spec_is_a_pin_error(kwargs: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"gpio": 6, "signal": "external_power", "active_high": True}
    with pytest.raises(PinError, match=message):
        PinSpec(**(fields | kwargs))


def test_pin_error_is_a_hal_error() -> None:
    assert issubclass(PinError, HalError)


def test_lgpio_factory_without_lgpio_says_how_to_install_it() -> None:
    try:
        import lgpio  # noqa: F401
    except ImportError:
        with pytest.raises(PinError, match=r"wakebench\[pi\]"):
            lgpio_pin_factory()
    else:
        pytest.skip("lgpio is installed: this machine may be a Pi")


# --- relays -------------------------------------------------------------------------------


def test_relay_starts_in_its_safe_state_and_switches(factory: MockFactory) -> None:
    relay = Relay(RelaySpec(20, "charger", active_high=True, safe_state=False), pin_factory=factory)
    assert relay.active is False and pin(factory, 20).state == 0
    relay.set(True)
    assert relay.active is True and pin(factory, 20).state == 1
    relay.to_safe_state()
    assert relay.active is False and pin(factory, 20).state == 0


def test_active_low_relay_drives_the_pin_low_when_energised(factory: MockFactory) -> None:
    spec = RelaySpec(21, "wifi_dongle", active_high=False, safe_state=False)
    relay = Relay(spec, pin_factory=factory)
    assert pin(factory, 21).state == 1  # released = high on an active-low relay board
    relay.set(True)
    assert pin(factory, 21).state == 0


def test_relay_whose_safe_state_is_energised_starts_energised(factory: MockFactory) -> None:
    relay = Relay(RelaySpec(20, "charger", safe_state=True), pin_factory=factory)
    assert relay.active is True
    relay.set(False)
    relay.to_safe_state()
    assert relay.active is True


def test_closing_a_relay_returns_it_to_safe_state_first(factory: MockFactory) -> None:
    relay = Relay(RelaySpec(20, "charger"), pin_factory=factory)
    relay.set(True)
    gpio20 = pin(factory, 20)
    relay.close()
    relay.close()
    assert [s.state for s in gpio20.states][-2:] == [True, False]
    with pytest.raises(PinError, match=r"GPIO20 \(relay charger\): relay is closed"):
        relay.set(True)


def test_relay_on_a_pin_in_use_is_a_pin_error(factory: MockFactory) -> None:
    held = Relay(RelaySpec(20, "charger"), pin_factory=factory)
    with pytest.raises(PinError, match=r"GPIO20 \(relay wifi_dongle\) on board rig1"):
        Relay(RelaySpec(20, "wifi_dongle"), pin_factory=factory, board="rig1")
    held.close()


def test_bad_relay_spec_is_a_pin_error() -> None:
    with pytest.raises(PinError, match="needs a name"):
        RelaySpec(20, "")
