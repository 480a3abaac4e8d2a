"""The visitor's websocket on the real ASGI app (uvicorn in a thread): hello/welcome, acked messages
stored once per client id across reconnects, an agent's reply pushed live, refused origins and keys."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from carekit.channels.adapters.webchat import ratelimit
from carekit.channels.tests.webchat_helpers import SYSTEM, make_channel
from carekit.conversations.models import Conversation, Message
from carekit.core.realtime import testing
from carekit.testing.tenants import make_workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(testing, "PORTS", range(18150, 18199))  # this helper's port range
    ratelimit.reset_memory()
    with testing.live_asgi_server() as host:
        yield host


def _open(host: str, key: str, origin: str | None = None) -> ClientConnection:
    return connect(
        f"ws://{host}/ws/webchat/{key}/",
        additional_headers={"Origin": origin or f"http://{host}"},
        open_timeout=10,
    )


def _next(ws: ClientConnection, kind: str) -> dict:
    while True:
        msg = json.loads(ws.recv(timeout=15))
        if msg["type"] == kind:
            return msg
        assert msg["type"] != "error", msg


def test_messages_are_acked_stored_once_across_a_reconnect_and_replies_arrive_live(server):
    ws_ = make_workspace()
    ch = make_channel(ws_)
    with _open(server, ch.public_key) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": "", "lang": "en"}))
        welcome = _next(ws, "welcome")
        visitor = welcome["visitor"]
        assert (welcome["history"], welcome["online"], welcome["identified"]) == ([], True, False)
        ws.send(json.dumps({"type": "message", "client_id": "c-sock-0001", "text": "First"}))
        ack = _next(ws, "ack")
        assert (ack["client_id"], ack["duplicate"], ack["message"]["text"]) == ("c-sock-0001", False, "First")
        # the server sent the ack; the client pretends it was lost and reconnects
    with _open(server, ch.public_key) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": visitor, "lang": "en"}))
        assert [m["text"] for m in _next(ws, "welcome")["history"]] == ["First"]
        ws.send(json.dumps({"type": "message", "client_id": "c-sock-0001", "text": "First"}))
        ws.send(json.dumps({"type": "message", "client_id": "c-sock-0002", "text": "Second"}))
        acks = [_next(ws, "ack"), _next(ws, "ack")]
        assert [(a["client_id"], a["duplicate"]) for a in acks] == [
            ("c-sock-0001", True),
            ("c-sock-0002", False),
        ]
        assert list(Message.objects.order_by("pk").values_list("text", flat=True)) == ["First", "Second"]

        from carekit.conversations.services import message_send

        conv = Conversation.objects.get(channel="webchat")
        with transaction.atomic():
            reply = message_send(actor=SYSTEM, conversation=conv, text="An agent answers")
        pushed = _next(ws, "message")
        while pushed["message"]["direction"] == "inbound":  # the echo of the visitor's own messages
            pushed = _next(ws, "message")
        assert (pushed["message"]["id"], pushed["message"]["direction"]) == (reply.public_id, "outbound")
        assert pushed["message"]["text"] == "An agent answers"


def test_a_forged_token_gets_a_visible_reason_and_the_socket_keeps_working(server):
    ws_ = make_workspace()
    ch = make_channel(ws_)
    with _open(server, ch.public_key) as ws:
        ws.send(json.dumps({"type": "hello", "token": "eyJraW5kIjoiZW1haWwifQ.deadbeef"}))
        welcome = _next(ws, "welcome")
        assert (welcome["notice"], welcome["identified"]) == ("bad_signature", False)
        ws.send(json.dumps({"type": "message", "client_id": "c-forged-01", "text": "still here"}))
        assert _next(ws, "ack")["message"]["text"] == "still here"


def test_unknown_keys_and_foreign_origins_are_refused(server):
    ws_ = make_workspace()
    ch = make_channel(ws_, allowed_origins=["https://shop.example"])
    for key, origin, code in [("we_unknown", None, 4404), (ch.public_key, "https://evil.example", 4403)]:
        with _open(server, key, origin) as ws, pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == code
    with _open(server, ch.public_key, "https://shop.example") as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert _next(ws, "pong") == {"type": "pong"}


def test_the_load_driver_sends_through_the_real_socket_and_every_message_is_stored_once(server):
    from carekit.channels.adapters.webchat import load

    ws_ = make_workspace()
    ch = make_channel(ws_, visitor_messages_per_minute=1000, ip_messages_per_minute=1000)
    summary = load.drive(f"http://{server}", ch.public_key, visitors=4, messages=3)
    assert (
        summary["messages"],
        summary["acked"],
        summary["duplicates"],
        summary["refused"],
        summary["errors"],
    ) == (
        12,
        12,
        0,
        0,
        0,
    )
    assert Message.objects.filter(conversation__channel="webchat").count() == 12
    assert Conversation.objects.filter(channel="webchat").count() == 4
