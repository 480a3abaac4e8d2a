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


Wants = Callable[[int, str], bool]


@dataclass(frozen=True)
class HandlerInfo:
    name: str
    patterns: tuple[str, ...]
    func: Handler
    # Asked at emit time with (workspace_id, event type): False means no delivery row is written.
    wants: Wants | None = None

    def matches(self, event_type: str) -> bool:
        return any(match(p, event_type) for p in self.patterns)


_HANDLERS: dict[str, HandlerInfo] = {}


def match(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def subscribe(
    *patterns: str, name: str | None = None, wants: Wants | None = None
) -> Callable[[Handler], Handler]:
    """Register an idempotent handler for event types (`a.b.c`, `a.*`, `a.b.*` or `*`).

    `wants(workspace_id, event_type)`, if given, lets a broad subscriber (webhooks: `*`) decline events
    at emit time, so no delivery row is written for events nobody will act on. It must be cheap.

    The handler runs in a transaction that also marks its delivery done; it must not open a durable
    transaction itself and should not call slow external services (enqueue a job for that).
    """

    def decorator(func: Handler) -> Handler:
        handler_name = name or f"{func.__module__}.{func.__qualname__}"
        if handler_name in _HANDLERS and _HANDLERS[handler_name].func is not func:
            raise ValueError(f"handler name {handler_name!r} registered twice")
        _HANDLERS[handler_name] = HandlerInfo(handler_name, tuple(patterns), func, wants)
        handlers_for.cache_clear()
        return func

    return decorator


def unsubscribe(name: str) -> None:
    _HANDLERS.pop(name, None)
    handlers_for.cache_clear()


@functools.lru_cache(maxsize=1024)
def handlers_for(event_type: str) -> tuple[str, ...]:
    return tuple(sorted(h.name for h in _HANDLERS.values() if h.matches(event_type)))


def handlers_wanting(workspace_id: int, event_type: str) -> list[str]:
    """The handlers that get a delivery for this event: subscribed, and not declining it."""
    out = []
    for name in handlers_for(event_type):
        wants = _HANDLERS[name].wants
        if wants is None or wants(workspace_id, event_type):
            out.append(name)
    return out


def get_handler(name: str) -> HandlerInfo | None:
    return _HANDLERS.get(name)


def all_handlers() -> list[HandlerInfo]:
    return sorted(_HANDLERS.values(), key=lambda h: h.name)
