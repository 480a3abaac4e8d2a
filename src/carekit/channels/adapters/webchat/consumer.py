"""The visitor's websocket at /ws/webchat/<public key>/: the widget's live transport.

Protocol (JSON frames, `type` first). The client opens with `hello` {visitor, token, lang} and gets
`welcome` (the state: history, orders when identified, online/offline, upload limits). Each `message`
{client_id, text} is answered by `ack` {client_id, message, duplicate} or `error` {client_id, code,
message, retry_after}; the client keeps a message until it is acked and resends it after a reconnect,
and the server stores it once per client id (the inbound external id). `prechat` {name, contact},
`verify` {code}, `offline` {client_id, name, contact, text}, `ping`. The server pushes `message`
{message} for replies and for the visitor's own messages from other tabs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation

from carekit.channels.adapters.webchat import push
from carekit.channels.adapters.webchat import session as sessions
from carekit.conversations import public as conversations
from carekit.core.realtime import publish

UNKNOWN_CHANNEL = 4404
ORIGIN_REFUSED = 4403
MAX_TEXT = 20_000


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _in_language(fn: Any, language: str) -> Any:
    """Run `fn` with the visitor's language active (labels, refusals, order statuses)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        with translation.override(language if language in ("ru", "en") else "en"):
            return fn(*args, **kwargs)

    return database_sync_to_async(run)


class WidgetConsumer(AsyncJsonWebsocketConsumer):
    session: sessions.Session | None = None
    group: str = ""

    async def connect(self) -> None:
        if publish.server_loop() is None:
            publish.bind_loop(asyncio.get_running_loop())
        key = self.scope["url_route"]["kwargs"]["key"]
        try:
            channel = await database_sync_to_async(sessions.channel_for)(key)
        except sessions.WidgetError:
            # accepted, then closed with a code: the widget can tell why (a refused handshake cannot)
            await self.accept()
            await self.close(code=UNKNOWN_CHANNEL)
            return
        if not sessions.origin_allowed(channel, _header(self.scope, b"origin")):
            await self.accept()
            await self.close(code=ORIGIN_REFUSED)
            return
        self.key = key
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    def _db(self, fn: Any) -> Any:
        return _in_language(fn, self.session.language if self.session else "")

    async def _join(self) -> None:
        s = self.session
        wanted = push.group_for(s.channel.public_id, s.customer_id) if s and s.customer_id else ""
        if wanted == self.group:
            return
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        self.group = wanted
        if wanted:
            await self.channel_layer.group_add(wanted, self.channel_name)

    async def _welcome(self, kind: str = "welcome") -> None:
        assert self.session is not None
        state = await self._db(sessions.state)(self.session)
        await self._join()
        await self.send_json({"type": kind, **state})

    async def _error(self, err: sessions.WidgetError, client_id: str = "") -> None:
        await self.send_json(
            {
                "type": "error",
                "client_id": client_id,
                "code": err.code,
                "message": err.message,
                "retry_after": err.retry_after,
            }
        )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        if kind == "hello":
            client = self.scope.get("client") or ("", 0)
            self.session = await database_sync_to_async(sessions.open_session)(
                public_key=self.key,
                visitor=str(content.get("visitor", ""))[:64],
                token=str(content.get("token", ""))[:4096],
                ip=str(client[0]),
                language=str(content.get("lang", ""))[:8],
            )
            await self._welcome()
            return
        if self.session is None:
            await self._error(sessions.WidgetError("hello first", code="no_session"))
            return
        client_id = str(content.get("client_id", ""))[:64]
        try:
            if kind == "message":
                message, duplicate = await self._db(sessions.send_message)(
                    self.session, client_id=client_id, text=str(content.get("text", ""))[:MAX_TEXT]
                )
                await self._join()
                await self.send_json(
                    {"type": "ack", "client_id": client_id, "message": message, "duplicate": duplicate}
                )
            elif kind == "offline":
                message, duplicate = await self._db(sessions.send_offline)(
                    self.session,
                    client_id=client_id,
                    name=str(content.get("name", ""))[:120],
                    contact=str(content.get("contact", ""))[:200],
                    text=str(content.get("text", ""))[:MAX_TEXT],
                )
                await self._join()
                await self.send_json(
                    {"type": "ack", "client_id": client_id, "message": message, "duplicate": duplicate}
                )
            elif kind == "prechat":
                await self._db(sessions.prechat)(
                    self.session,
                    name=str(content.get("name", ""))[:120],
                    contact=str(content.get("contact", ""))[:200],
                )
                await self._welcome("state")
            elif kind == "verify":
                await self._db(sessions.verify_code)(self.session, code=str(content.get("code", ""))[:12])
                await self._welcome("state")
        except sessions.WidgetError as err:
            await self._error(err, client_id)

    async def webchat_typing(self, event: dict[str, Any]) -> None:
        if self.session is not None and self.session.customer_id:
            await self.send_json({"type": "typing"})

    async def webchat_push(self, event: dict[str, Any]) -> None:
        s = self.session
        if s is None or not s.customer_id:
            return
        view = await database_sync_to_async(conversations.message_view)(s.workspace_id, event["message_id"])
        # The group names the customer, but the check is made here again: a socket shows only messages of
        # the customer it is identified as, on its own channel.
        if view is None or view.customer_id != s.customer_id or view.channel_ref != s.channel.public_id:
            return
        await self.send_json({"type": "message", "message": sessions.message_dict(view)})
