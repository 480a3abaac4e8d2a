"""Test helpers: the real ASGI app on uvicorn in a thread, and a signed-in websocket client."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from django.conf import settings
from django.test import Client
from websockets.sync.client import ClientConnection, connect

from carekit.core.realtime import publish

PORTS = range(8400, 8450)  # this project's port range on shared machines


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8400-8449")


@contextmanager
def live_asgi_server() -> Iterator[str]:
    """Serve `config.asgi.application` on 127.0.0.1 with lifespan on; yields `host:port`."""
    from django.db import connections

    from config.asgi import application

    # Server threads must not keep connections open past the test (PostgreSQL cannot drop the test
    # database while they live), so every request closes its connection while the server runs.
    db_settings = connections.settings["default"]
    max_age = db_settings.get("CONN_MAX_AGE", 0)
    db_settings["CONN_MAX_AGE"] = 0
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        publish.bind_loop(None)
        db_settings["CONN_MAX_AGE"] = max_age
        default = connections["default"]
        if default.settings_dict.get("OPTIONS", {}).get("pool"):
            # pooled connections the server threads returned stay open; PostgreSQL could not drop the
            # test database at the end of the run
            default.close()
            default.close_pool()  # type: ignore[attr-defined]  # PostgreSQL backend only


def session_cookie(user: Any, workspace_public_id: str) -> str:
    """A signed-in session for `user` acting in the given workspace; returns the cookie value."""
    client = Client()
    client.force_login(user)
    session = client.session
    session["carekit_workspace"] = workspace_public_id
    session.save()
    return session.session_key or ""


def open_socket(host: str, cookie: str) -> ClientConnection:
    headers = {"Origin": f"http://{host}"}
    if cookie:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    return connect(f"ws://{host}/ws/", additional_headers=headers, open_timeout=10)


def next_event(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    """The next message, skipping keep-alive pongs."""
    while True:
        msg = json.loads(ws.recv(timeout=timeout))
        if msg.get("type") != "pong":
            return msg
