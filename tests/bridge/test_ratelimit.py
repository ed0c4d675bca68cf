"""Per-app token buckets (wakebench default: 10 requests/s sustained, bursts of 20)."""

from __future__ import annotations

from mqtt_bridge.config import DEFAULT_RATE_BURST, DEFAULT_RATE_PER_S
from mqtt_bridge.ratelimit import RateLimiter


class ManualClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_burst_then_refill_at_the_boundary() -> None:
    clock = ManualClock()
    lim = RateLimiter(DEFAULT_RATE_PER_S, DEFAULT_RATE_BURST, clock=clock)
    assert all(lim.allow("mail") for _ in range(DEFAULT_RATE_BURST))  # the whole burst
    assert not lim.allow("mail")  # one more: refused
    clock.t += 0.99 / DEFAULT_RATE_PER_S
    assert not lim.allow("mail")  # just before one token refilled
    clock.t += 0.02 / DEFAULT_RATE_PER_S
    assert lim.allow("mail")  # just after
    assert not lim.allow("mail")


def test_apps_have_separate_buckets() -> None:
    clock = ManualClock()
    lim = RateLimiter(1.0, 2, clock=clock)
    assert lim.allow("a") and lim.allow("a") and not lim.allow("a")
    assert lim.allow("b")


def test_table_is_bounded() -> None:
    lim = RateLimiter(1.0, 1, max_keys=5, clock=ManualClock())
    for i in range(1000):
        lim.allow(f"app-{i}")
    assert len(lim) == 5


def test_refill_never_exceeds_the_burst() -> None:
    clock = ManualClock()
    lim = RateLimiter(10.0, 3, clock=clock)
    lim.allow("a")
    clock.t += 3600
    assert [lim.allow("a") for _ in range(4)] == [True, True, True, False]
