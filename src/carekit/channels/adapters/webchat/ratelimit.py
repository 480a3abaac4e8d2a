"""Rate limits per visitor and per IP address: fixed one-minute windows.

Counters live in Redis when REDIS_URL is set (shared by every web process) and in this process
otherwise (the embedded single-process mode). A refused message is answered with the code
`rate_limited` and the seconds until the window ends; nothing is stored for it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

WINDOW = 60


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    scope: str = ""  # "visitor" or "ip" when refused
    retry_after: int = 0


class _Memory:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.window = -1

    def incr(self, key: str, window: int) -> int:
        with self.lock:
            if window != self.window:  # old windows are dropped wholesale: memory stays bounded
                self.counts.clear()
                self.window = window
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]


_memory = _Memory()
_redis_client = None


def _redis():  # redis.Redis, imported lazily
    global _redis_client
    if _redis_client is None:
        import redis

        _redis_client = redis.Redis.from_url(settings.REDIS_URL)
    return _redis_client


def _incr(key: str, window: int) -> int:
    if settings.REDIS_URL:
        full = f"{settings.HUEY_NAME}:wc:{window}:{key}"
        pipe = _redis().pipeline()
        pipe.incr(full)
        pipe.expire(full, WINDOW * 2)
        return int(pipe.execute()[0])
    return _memory.incr(key, window)


def hit(
    *, channel_pk: int, visitor: str, ip: str, per_visitor: int, per_ip: int, now: float | None = None
) -> Verdict:
    """Count one message; refuse when the visitor's or the address's count in this minute is exceeded.

    Both counters move on every attempt, refused ones included, so a client that keeps hammering stays
    refused until the window ends."""
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    retry = int((window + 1) * WINDOW - now) + 1
    by_visitor = _incr(f"{channel_pk}:v:{visitor}", window)
    by_ip = _incr(f"{channel_pk}:ip:{ip}", window)
    if by_visitor > per_visitor:
        return Verdict(False, "visitor", retry)
    if by_ip > per_ip:
        return Verdict(False, "ip", retry)
    return Verdict(True)


def reset_memory() -> None:
    """Tests only: forget the in-process counters."""
    with _memory.lock:
        _memory.counts.clear()
