"""The ASGI application: HTTP to Django, /ws/ to the real-time consumer, lifespan binds the publish loop."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from carekit.core.realtime import publish
from carekit.core.realtime.consumers import RealtimeConsumer

websocket_urlpatterns = [path("ws/", RealtimeConsumer.as_asgi())]


class LifespanBindsLoop:
    """Answer the ASGI lifespan protocol and remember the server's loop for `publish_on_commit`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                publish.bind_loop(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                publish.bind_loop(None)
                await send({"type": "lifespan.shutdown.complete"})
                return


class _PublicFirst:
    """Sockets whose path matches a public route go there; every other socket to the agent stack."""

    def __init__(self, routes: list[Any], agent: Any) -> None:
        self.routes = routes
        self.public = URLRouter(routes)
        self.agent = agent

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path_ = scope["path"].lstrip("/")
        app = self.public if any(r.pattern.match(path_) for r in self.routes) else self.agent
        await app(scope, receive, send)


def build_application(http_app: Any, public_websockets: list[Any] | None = None) -> Any:
    """`public_websockets`: routes for sockets opened from other sites (the chat widget on a shop's
    pages); they skip the same-host origin check and the session, and check origin and identity
    themselves."""
    agent = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
    websocket = _PublicFirst(public_websockets, agent) if public_websockets else agent
    return LifespanBindsLoop(ProtocolTypeRouter({"http": http_app, "websocket": websocket}))
