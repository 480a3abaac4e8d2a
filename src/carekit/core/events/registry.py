"""Which handlers subscribe to which event types."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carekit.core.models import Event

EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
Handler = Callable[["Event"], None]


@dataclass(frozen=True)
class HandlerInfo:
    name: str
    patterns: tuple[str, ...]
    func: Handler

    def matches(self, event_type: str) -> bool:
        return any(_match(p, event_type) for p in self.patterns)


_HANDLERS: dict[str, HandlerInfo] = {}


def _match(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def subscribe(*patterns: str, name: str | None = None) -> Callable[[Handler], Handler]:
    """Register an idempotent handler for event types (`a.b.c`, `a.*`, `a.b.*` or `*`).

    The handler runs in a transaction that also marks its delivery done; it must not open a durable
    transaction itself and should not call slow external services (enqueue a job for that).
    """

    def decorator(func: Handler) -> Handler:
        handler_name = name or f"{func.__module__}.{func.__qualname__}"
        if handler_name in _HANDLERS and _HANDLERS[handler_name].func is not func:
            raise ValueError(f"handler name {handler_name!r} registered twice")
        _HANDLERS[handler_name] = HandlerInfo(handler_name, tuple(patterns), func)
        handlers_for.cache_clear()
        return func

    return decorator


def unsubscribe(name: str) -> None:
    _HANDLERS.pop(name, None)
    handlers_for.cache_clear()


@functools.lru_cache(maxsize=1024)
def handlers_for(event_type: str) -> tuple[str, ...]:
    return tuple(sorted(h.name for h in _HANDLERS.values() if h.matches(event_type)))


def get_handler(name: str) -> HandlerInfo | None:
    return _HANDLERS.get(name)


def all_handlers() -> list[HandlerInfo]:
    return sorted(_HANDLERS.values(), key=lambda h: h.name)
