"""Per-key token buckets with a bounded table (one bucket per app id)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from firmware_sim.clock import host_monotonic


@dataclass(slots=True)
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; a request takes one."""

    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        """Take a token at time ``now`` (s); False when the bucket is empty."""
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimiter:
    """Token buckets by key, at most ``max_keys`` of them (least recently used evicted).

    Evicting a bucket can only make a limit more lenient for a key that has been idle the
    longest; with ``max_keys`` above the number of apps a rig serves it never happens.

    Args:
        rate: tokens per second.
        burst: bucket size.
        max_keys: most buckets kept.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(self, rate: float, burst: int, *, max_keys: int = 1024,
                 clock: Callable[[], float] = host_monotonic) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False means the request must be refused."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.rate, self.burst, self.burst, now)
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(now)

    def __len__(self) -> int:
        return len(self._buckets)
