"""Plain HTTP under the ASGI server: Django's WSGI handler on a fixed pool of threads (ADR 0202).

Why not Django's ASGI handler: it runs every request's sync middleware and view in a thread created for
that request (one `ThreadSensitiveContext` each), plus several tasks and thread hops for the signals.
Measured here, that cost ≈ 3.3 ms of CPU for `/healthz` alone. Carekit's views are all synchronous, so
HTTP gains nothing from the async path: this adapter reads the request body on the event loop, runs
the WSGI application on one of `threads` long-lived threads (so each thread keeps its database
connection or borrows from the pool) and writes the answer back on the loop. Websockets and the
lifespan protocol stay on the ASGI stack (`core.realtime.asgi`).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from typing import IO, Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Send = Callable[[dict[str, Any]], Any]

# Bodies above this size go to a temporary file instead of memory (as Django's ASGI handler does).
SPOOL_BYTES = 2_621_440


class ThreadedWsgiHttp:
    """An ASGI application for `http` scopes that runs a WSGI application on a bounded thread pool."""

    def __init__(self, wsgi_app: WsgiApp, *, threads: int) -> None:
        self.wsgi_app = wsgi_app
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        # created lazily: a server that forks its workers must not inherit threads from the parent
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="carekit-http")
        return self._executor

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Any], send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"ThreadedWsgiHttp serves http scopes, not {scope['type']!r}")
        body = await _read_body(receive)
        environ = build_environ(scope, body)
        loop = asyncio.get_running_loop()
        try:
            done = await loop.run_in_executor(self.executor, self._run, environ, loop, send)
        finally:
            body.close()
        if done is not None:
            start, payload = done
            await send(start)
            await send({"type": "http.response.body", "body": payload})

    def _run(
        self, environ: dict[str, Any], loop: asyncio.AbstractEventLoop, send: Send
    ) -> tuple[dict[str, Any], bytes] | None:
        """Call the WSGI application in a pool thread. A complete answer is returned for the loop to
        send; a streaming one is sent from here, chunk by chunk, so it never sits whole in memory."""
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started["start"] = {
                "type": "http.response.start",
                "status": int(status[:3]),
                "headers": [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers],
            }

        result = self.wsgi_app(environ, start_response)
        try:
            if not getattr(result, "streaming", False):
                return started["start"], b"".join(result)

            def push(message: dict[str, Any]) -> None:
                asyncio.run_coroutine_threadsafe(send(message), loop).result()

            push(started["start"])
            for chunk in result:
                if chunk:
                    push({"type": "http.response.body", "body": chunk, "more_body": True})
            push({"type": "http.response.body", "body": b""})
            return None
        finally:
            # Django's request_finished signal runs here, in the thread that owns the connection.
            close = getattr(result, "close", None)
            if close is not None:
                close()


async def _read_body(receive: Callable[[], Any]) -> IO[bytes]:
    message = await receive()
    chunk = message.get("body", b"")
    if not message.get("more_body"):
        return BytesIO(chunk)  # the common case: one message, often empty
    # closed by the caller once the response is done
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")  # noqa: SIM115
    spool.write(chunk)
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        spool.write(message.get("body", b""))
    spool.seek(0)
    return spool


def build_environ(scope: dict[str, Any], body: IO[bytes]) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) for an ASGI HTTP scope."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    path = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf8").decode("latin1"),
        "PATH_INFO": path.encode("utf8").decode("latin1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin1"),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "REMOTE_ADDR": client[0],
        "REMOTE_HOST": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin1")
        if "_" in name:
            continue  # as Django's ASGI handler: no spoofing through underscores versus hyphens
        name = name.upper().replace("-", "_")
        value = raw_value.decode("latin1")
        key = name if name in {"CONTENT_TYPE", "CONTENT_LENGTH"} else f"HTTP_{name}"
        if key in environ:
            # repeated headers are joined as RFC 9110 allows; cookies with "; " (RFC 6265)
            value = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ','}{value}"
        environ[key] = value
    return environ
