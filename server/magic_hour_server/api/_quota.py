"""A quota per API token on what costs the server work to accept: creates and upload URLs.

A token bucket per owner (a token's hash): `per_minute` requests a minute on average, in
bursts of up to as many. Past it, the request is answered 429 with Retry-After, which
clients (this project's SDK among them) honour. The count is per API process: with N API
processes behind a balancer a token gets up to N times the quota.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class Quota:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # owner -> (tokens, when)

    def take(self, owner: str, count: int = 1) -> int:
        """0 when `owner` may make `count` more requests now (they are counted), else the
        whole seconds to wait before asking again (nothing is counted)."""
        if self.per_minute <= 0:
            return 0
        rate = self.per_minute / 60.0
        now = self._clock()
        tokens, when = self._buckets.get(owner, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - when) * rate)
        if tokens >= count:
            self._buckets[owner] = (tokens - count, now)
            return 0
        self._buckets[owner] = (tokens, now)
        return max(1, math.ceil((min(count, self.per_minute) - tokens) / rate))
