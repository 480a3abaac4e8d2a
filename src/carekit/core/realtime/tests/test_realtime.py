"""Real-time delivery over a real websocket: after commit only, to recipients only, in their workspace."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, transaction
from django.test import override_settings
from websockets.exceptions import InvalidStatus

from carekit.core.events import Actor
from carekit.core.realtime import notifications, publish
from carekit.core.realtime.schemas import UiEventError, ui_event_type
from carekit.core.realtime.testing import live_asgi_server, next_event, open_socket, session_cookie
from carekit.testing.tenants import add_member, make_user, make_workspace

SYSTEM = Actor.system("test")
PING = ui_event_type("test.ping", fields={"n": int})


def _sentinel(ws_id: int, user_public_id: str, n: int) -> None:
    """Delivered at once (no transaction): anything queued before it would arrive first."""
    publish.publish_now(
        [publish.group_for(ws_id, user_public_id)],
        {"type": "ui.event", "event": {"type": "test.ping", "data": {"n": n}}},
    )


def _notify(ws, user, text: str = "hello") -> str:
    rows = notifications.notification_create(
        actor=SYSTEM,
        workspace_id=ws.pk,
        user_ids=[user.public_id],
        kind="system.message",
        params={"text": text},
    )
    return rows[0].public_id


@pytest.fixture
def shop(transactional_db):
    owner = make_user()
    ws = make_workspace("Realtime shop", owner=owner)
    return ws, owner


@pytest.mark.sqlite
def test_event_arrives_only_after_commit(shop):
    ws, owner = shop
    with live_asgi_server() as host, open_socket(host, session_cookie(owner, ws.public_id)) as sock:
        assert next_event(sock) == {"type": "hello", "data": {"workspace": ws.public_id}}
        with transaction.atomic():
            nid = _notify(ws, owner)
            _sentinel(ws.pk, owner.public_id, 1)
            # the transaction is still open: the sentinel, sent after the notification, comes first
            assert next_event(sock) == {"type": "test.ping", "data": {"n": 1}}
        assert next_event(sock) == {
            "type": "notification.created",
            "data": {"id": nid, "kind": "system.message"},
        }


@pytest.mark.sqlite
def test_rolled_back_event_never_arrives(shop):
    ws, owner = shop
    with live_asgi_server() as host, open_socket(host, session_cookie(owner, ws.public_id)) as sock:
        next_event(sock)

        def rolled_back() -> None:
            with transaction.atomic():
                _notify(ws, owner)
                raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            rolled_back()
        _sentinel(ws.pk, owner.public_id, 2)
        assert next_event(sock) == {"type": "test.ping", "data": {"n": 2}}
    assert notifications.unread_count(ws.pk, owner.public_id) == 0


@pytest.mark.sqlite
def test_no_event_of_another_workspace_or_for_another_user(shop):
    ws, owner = shop
    colleague = add_member(ws).user
    other_ws = make_workspace("Second shop", owner=owner)  # the same person owns both
    with (
        live_asgi_server() as host,
        open_socket(host, session_cookie(owner, ws.public_id)) as owner_sock,
        open_socket(host, session_cookie(colleague, ws.public_id)) as colleague_sock,
    ):
        next_event(owner_sock)
        next_event(colleague_sock)
        with transaction.atomic():
            _notify(other_ws, owner)  # another workspace, same user
            colleague_nid = _notify(ws, colleague)  # same workspace, another recipient
        _sentinel(ws.pk, owner.public_id, 3)
        assert next_event(owner_sock) == {"type": "test.ping", "data": {"n": 3}}
        assert next_event(colleague_sock)["data"] == {"id": colleague_nid, "kind": "system.message"}


@pytest.mark.sqlite
def test_socket_without_session_is_refused(shop):
    with live_asgi_server() as host:
        with pytest.raises(InvalidStatus) as err:
            open_socket(host, "")
        assert err.value.response.status_code == 403
        with pytest.raises(InvalidStatus):
            open_socket(host, "not-a-session")


@pytest.mark.sqlite
def test_stale_state_plus_events_equals_fresh_load(shop):
    ws, owner = shop
    with transaction.atomic():
        first = [_notify(ws, owner, f"n{i}") for i in range(3)]
    stale = notifications.bell_state(ws.pk, owner.public_id)
    with live_asgi_server() as host, open_socket(host, session_cookie(owner, ws.public_id)) as sock:
        next_event(sock)
        with transaction.atomic():
            _notify(ws, owner, "later")
            notifications.notification_mark_read(
                actor=SYSTEM, workspace_id=ws.pk, user_id=owner.public_id, ids=[first[0]]
            )
        with transaction.atomic():
            _notify(ws, owner, "latest")
            notifications.notification_mark_read(actor=SYSTEM, workspace_id=ws.pk, user_id=owner.public_id)
        events = [next_event(sock) for _ in range(4)]
    assert [e["type"] for e in events] == [
        "notification.created",
        "notification.read",
        "notification.created",
        "notification.read",
    ]
    state = stale
    for event in events:
        state = notifications.apply_event(state, event)
    fresh = notifications.bell_state(ws.pk, owner.public_id)
    assert state == fresh
    assert fresh.unread == 0
    assert len(fresh.items) == 5


def test_schema_is_enforced(shop):
    ws, _owner = shop
    with transaction.atomic():
        with pytest.raises(UiEventError):
            publish.publish_on_commit(workspace_id=ws.pk, type="test.unknown", data={}, recipients=["x"])
        with pytest.raises(UiEventError):
            publish.publish_on_commit(workspace_id=ws.pk, type="test.ping", data={"n": "1"}, recipients=["x"])
        with pytest.raises(UiEventError):
            publish.publish_on_commit(
                workspace_id=ws.pk, type="test.ping", data={"n": 1, "extra": 2}, recipients=["x"]
            )
    with pytest.raises(UiEventError):
        publish.publish_on_commit(workspace_id=ws.pk, type="test.ping", data={"n": 1}, recipients=["x"])


IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.mark.sqlite
@override_settings(CHANNEL_LAYERS=IN_MEMORY)  # whatever REDIS_URL this run has
def test_separate_worker_refused_with_in_memory_layer(db):
    with pytest.raises(CommandError, match="REDIS_URL"):
        call_command("worker")
    with pytest.raises(CommandError, match="REDIS_URL"):
        call_command("serve", "--no-worker", "--port", "8449")


@pytest.mark.redis
def test_channels_redis_delivers_from_a_worker_thread(shop):
    import os
    import threading

    url = os.environ["CAREKIT_TEST_REDIS_URL"]
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": "ck-test-rt"},
        }
    }
    ws, owner = shop
    with override_settings(CHANNEL_LAYERS=layers):
        publish.check_topology(separate_worker=True, web_processes=2)  # accepted with Redis
        with live_asgi_server() as host, open_socket(host, session_cookie(owner, ws.public_id)) as sock:
            next_event(sock)
            out: list[str] = []

            def job() -> None:  # what a Huey worker thread does
                try:
                    with transaction.atomic():
                        out.append(_notify(ws, owner))
                finally:
                    connections.close_all()

            t = threading.Thread(target=job)
            t.start()
            t.join()
            assert next_event(sock)["data"] == {"id": out[0], "kind": "system.message"}
