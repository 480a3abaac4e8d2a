"""The authenticated websocket at /ws/: one socket per tab, subscribed to its user in its workspace."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from carekit.core.api.auth import Principal, WorkspaceAuth
from carekit.core.realtime import publish

UNAUTHENTICATED = 4401


class _ScopeRequest:
    """Just enough of an HttpRequest for the session resolver that accounts registers at start-up."""

    method = "GET"

    def __init__(self, scope: dict[str, Any]) -> None:
        self.user = scope.get("user")
        self.session = scope.get("session")
        self.headers: dict[str, str] = {}


def _principal(scope: dict[str, Any]) -> Principal | None:
    if scope.get("user") is None or scope.get("session") is None:
        return None
    return WorkspaceAuth()(_ScopeRequest(scope))  # type: ignore[arg-type]  # duck-typed request


class RealtimeConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]

    async def connect(self) -> None:
        if publish.server_loop() is None:
            # Servers started without the lifespan hook (e.g. a test harness) still publish on this loop.
            publish.bind_loop(asyncio.get_running_loop())
        self.groups_joined = []
        principal = await database_sync_to_async(_principal)(self.scope)
        if principal is None or principal.actor.kind != "user":
            await self.close(code=UNAUTHENTICATED)
            return
        self.groups_joined = [publish.group_for(principal.workspace_id, principal.actor.id)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "data": {"workspace": principal.workspace_public_id}})

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket is server-to-client; a ping keeps proxies from closing an idle connection.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "data": {}})

    async def ui_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
