"""The one way to push a UI event: `publish_on_commit`, delivered to the computed recipients after commit.

Why one helper: the in-memory channel layer is not thread-safe. On-commit callbacks run in a sync
thread (a request's worker thread or a job thread), and `async_to_sync(group_send)` from there delayed
or lost messages (ARCHITECTURE.md section 7). So for the in-memory layer the send is scheduled on the
server's own event loop with `run_coroutine_threadsafe`. channels-redis sends go, in order, through one
long-lived loop per process (the server's, else a daemon thread's), so its connection pool is reused and
the caller never waits for Redis.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from carekit.core.realtime.schemas import UiEventError, get_type

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None


def bind_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Remember the loop that serves websockets in this process (set by the ASGI lifespan)."""
    global _server_loop
    _server_loop = loop


def server_loop() -> asyncio.AbstractEventLoop | None:
    return _server_loop


def group_for(workspace_id: int, user_public_id: str) -> str:
    """One group per (workspace, user): a socket joins only its session's workspace, so events of another
    workspace cannot reach it even when the same person belongs to both."""
    return f"rt.w{workspace_id}.u.{user_public_id}"


def uses_in_memory_layer() -> bool:
    backend = str(settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", ""))
    return backend.endswith("InMemoryChannelLayer")


def check_topology(*, separate_worker: bool = False, web_processes: int = 1) -> None:
    """Refuse process layouts where the in-memory layer would silently lose events."""
    if not uses_in_memory_layer():
        return
    if separate_worker:
        raise ImproperlyConfigured(
            "A separate worker needs REDIS_URL: real-time events go through the in-memory channel layer, "
            "which does not cross processes, so events published by the worker would never reach browsers. "
            "Set REDIS_URL (channels-redis) or run `carekit serve` with its embedded worker."
        )
    if web_processes > 1:
        raise ImproperlyConfigured(
            "Several web processes need REDIS_URL: the in-memory channel layer does not cross processes."
        )


def publish_on_commit(
    *, workspace_id: int, type: str, data: Mapping[str, Any], recipients: Iterable[str]
) -> None:
    """Send a UI event to `recipients` (user public ids) once the current transaction commits.

    The caller computes the recipients (who may see this change); the schema of `type` is checked now,
    so a bad event fails the transaction instead of a browser. Nothing is sent if the transaction rolls
    back.
    """
    get_type(type).check(data)
    if not transaction.get_connection().in_atomic_block:
        raise UiEventError("publish_on_commit() must run inside the entry point's transaction")
    groups = sorted({group_for(workspace_id, r) for r in recipients if r})
    if not groups:
        return
    message = {"type": "ui.event", "event": {"type": type, "data": dict(data)}}
    transaction.on_commit(lambda: publish_now(groups, message))


async def _send_all(layer: Any, groups: list[str], message: dict[str, Any]) -> None:
    for group in groups:
        await layer.group_send(group, message)


def publish_now(groups: list[str], message: dict[str, Any]) -> None:
    """Deliver without waiting for a commit. Only `publish_on_commit` and tests call this."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        if isinstance(layer, InMemoryChannelLayer):
            _publish_in_memory(layer, groups, message)
        else:
            loop = _server_loop if _server_loop is not None and not _server_loop.is_closed() else None
            _publisher(loop or _background_loop()).submit(layer, groups, message)
    except Exception:  # real-time is best effort: the committed data is the truth; clients refetch
        logger.exception("publishing a UI event to %d group(s) failed", len(groups))


class _Publisher:
    """Sends in submission order on one long-lived event loop, so channels-redis keeps its connection
    pool (a fresh `async_to_sync` loop per call opened a new Redis connection per event) and the calling
    thread (a request, a job) never waits for Redis."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[tuple[Any, list[str], dict[str, Any]]] | None = None

    def submit(self, layer: Any, groups: list[str], message: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self._put, (layer, groups, message))

    def _put(self, item: tuple[Any, list[str], dict[str, Any]]) -> None:
        if self.queue is None:
            self.queue = asyncio.Queue()
            self.loop.create_task(self._drain())
        self.queue.put_nowait(item)

    async def _drain(self) -> None:
        assert self.queue is not None
        while True:
            layer, groups, message = await self.queue.get()
            try:
                await _send_all(layer, groups, message)
            except Exception:  # best effort, as below
                logger.exception("publishing a UI event to %d group(s) failed", len(groups))


_publishers: dict[int, _Publisher] = {}
_bg_loop: asyncio.AbstractEventLoop | None = None
_bg_lock = threading.Lock()


def _publisher(loop: asyncio.AbstractEventLoop) -> _Publisher:
    with _bg_lock:
        pub = _publishers.get(id(loop))
        if pub is None or pub.loop is not loop:
            pub = _publishers[id(loop)] = _Publisher(loop)
        return pub


def _background_loop() -> asyncio.AbstractEventLoop:
    """A process without a websocket server (a worker, a command) publishes from one daemon thread's loop."""
    global _bg_loop
    with _bg_lock:
        if _bg_loop is None or _bg_loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="carekit-realtime", daemon=True).start()
            _bg_loop = loop
        return _bg_loop


def _publish_in_memory(layer: InMemoryChannelLayer, groups: list[str], message: dict[str, Any]) -> None:
    loop = _server_loop
    if loop is None or loop.is_closed():
        # No websocket server runs in this process (a command, a test without a server): nobody can be
        # subscribed to this in-memory layer, so there is nothing to deliver.
        logger.debug("no server loop in this process; UI event for %s dropped", groups)
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(_send_all(layer, groups, message))
    else:
        asyncio.run_coroutine_threadsafe(_send_all(layer, groups, message), loop)


__all__ = ["UiEventError", "bind_loop", "check_topology", "group_for", "publish_now", "publish_on_commit"]
