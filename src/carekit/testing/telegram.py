"""A local double of the Telegram Bot API, and builders of the updates Telegram sends.

The double speaks the real protocol on 127.0.0.1: `POST /bot<token>/<method>` with a JSON or
multipart body, answering `{"ok": true, "result": ...}` or `{"ok": false, "error_code": ...,
"description": ..., "parameters": {"retry_after": ...}}`, and file downloads at
`GET /file/bot<token>/<file_path>`. It implements the subset Carekit uses (getMe, setWebhook,
deleteWebhook, getWebhookInfo, getUpdates, getFile, sendMessage, sendPhoto, sendDocument) with the
shapes of https://core.telegram.org/bots/api, records every call, and can be told to fail the next call
of a method (403 "bot was blocked by the user", 429 with retry_after, 5xx).

`UpdateBuilder` makes update payloads (text, photo, document, /start, unknown types) with increasing
update and message ids: tests and benchmarks post them to the webhook or queue them for getUpdates.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "123456789:AAE-test-token-for-the-local-double_x1"


def _port_range() -> range:
    # Shared machines give each engineer a port range; CI may set another.
    low, _sep, high = os.environ.get("CAREKIT_TEST_PORTS", "18300-18399").partition("-")
    return range(int(low), int(high or low) + 1)


def free_port() -> int:
    for port in _port_range():
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in CAREKIT_TEST_PORTS")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # field -> (name, type, data)


@dataclass
class BotApiDouble:
    base_url: str
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # file_id -> (file_path, content)
    updates: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def add_file(self, content: bytes, *, suffix: str = "jpg", folder: str = "photos") -> str:
        file_id = f"AgAC{secrets.token_hex(10)}"
        self.files[file_id] = (f"{folder}/file_{len(self.files)}.{suffix}", content)
        return file_id

    def fail_next(self, method: str, error_code: int, description: str, *, retry_after: int = 0) -> None:
        error: dict[str, Any] = {"ok": False, "error_code": error_code, "description": description}
        if retry_after:
            error["parameters"] = {"retry_after": retry_after}
        self.failures.setdefault(method, []).append(error)

    def queue(self, *updates: dict[str, Any]) -> None:
        """Updates getUpdates will hand out (until confirmed by a higher offset)."""
        with self._lock:
            self.updates.extend(updates)

    # --- the API --------------------------------------------------------------------------------

    def answer(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, str, bytes]]
    ) -> tuple[int, Any]:
        with self._lock:
            self.calls.append(Call(method, params, files))
            pending = self.failures.get(method)
            if pending:
                error = pending.pop(0)
                return int(error["error_code"]), error
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        try:
            return 200, {"ok": True, "result": handler(params, files)}
        except KeyError as exc:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": f"Bad Request: {exc.args[0]} is required",
            }

    def _m_getMe(self, params, files):
        return {
            "id": int(self.token.split(":")[0]),
            "is_bot": True,
            "first_name": "Shop",
            "username": "shop_bot",
        }

    def _m_setWebhook(self, params, files):
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token", "")}
        return True

    def _m_deleteWebhook(self, params, files):
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, params, files):
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    def _m_getUpdates(self, params, files):
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        while True:
            with self._lock:
                if offset:
                    # Telegram forgets updates below the offset: they were confirmed.
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                out = list(self.updates[: int(params.get("limit") or 100)])
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(0.05)

    def _m_getFile(self, params, files):
        file_id = params["file_id"]
        if file_id not in self.files:
            raise KeyError("valid file_id")
        path, content = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": file_id[-8:],
            "file_size": len(content),
            "file_path": path,
        }

    def _sent(self, params: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        chat_id = params["chat_id"]
        return {
            "message_id": next(self._ids),
            "from": self._m_getMe(params, {}),
            "chat": {
                "id": int(chat_id) if str(chat_id).lstrip("-").isdigit() else chat_id,
                "type": "private",
            },
            "date": int(time.time()),
            **extra,
        }

    def _m_sendMessage(self, params, files):
        return self._sent(params, {"text": params["text"]})

    def _m_sendPhoto(self, params, files):
        _name, _ctype, data = files.get("photo") or ("", "", b"")
        if not data and "photo" not in params:
            raise KeyError("photo")
        return self._sent(
            params, {"photo": [{"file_id": "sent", "file_unique_id": "s", "width": 1, "height": 1}]}
        )

    def _m_sendDocument(self, params, files):
        name, _ctype, data = files.get("document") or ("", "", b"")
        if not data and "document" not in params:
            raise KeyError("document")
        return self._sent(params, {"document": {"file_id": "sent", "file_unique_id": "s", "file_name": name}})


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, tuple[str, str, bytes]]]:
    if content_type.startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, str, bytes]] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename:
                files[str(name)] = (filename, part.get_content_type(), data)
            else:
                text = data.decode()
                try:
                    params[str(name)] = json.loads(text) if text[:1] in "[{" else text
                except ValueError:
                    params[str(name)] = text
        return params, files
    if content_type.startswith("application/x-www-form-urlencoded"):
        from urllib.parse import parse_qsl

        return dict(parse_qsl(body.decode())), {}
    return (json.loads(body) if body else {}), {}


@contextmanager
def bot_api_double(token: str = TOKEN) -> Iterator[BotApiDouble]:
    port = free_port()
    double = BotApiDouble(base_url=f"http://127.0.0.1:{port}", token=token)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, payload: Any, raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/octet-stream" if raw is not None else "application/json"
            )
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            prefix = f"/bot{double.token}/"
            if not self.path.startswith("/bot"):
                self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            if not self.path.startswith(prefix):
                self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            try:
                params, files = _parse_body(self.headers.get("Content-Type", ""), body)
            except ValueError:
                self._reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse"})
                return
            status, payload = double.answer(self.path[len(prefix) :].split("?")[0], params, files)
            self._reply(status, payload)

        def do_GET(self) -> None:
            prefix = f"/file/bot{double.token}/"
            path = self.path[len(prefix) :] if self.path.startswith(prefix) else None
            match = next((c for p, c in double.files.values() if p == path), None)
            if match is None:
                self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            self._reply(200, None, raw=match)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()


class UpdateBuilder:
    """Update payloads as Telegram sends them (https://core.telegram.org/bots/api#update)."""

    def __init__(self, *, first_update_id: int = 500_000_000) -> None:
        self._update = itertools.count(first_update_id)
        self._message = itertools.count(1)

    def _user(self, user_id: int, language: str) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": "Anna",
            "username": f"u{user_id}",
            "language_code": language,
        }

    def message(self, user_id: int, *, language: str = "ru", **content: Any) -> dict[str, Any]:
        return {
            "update_id": next(self._update),
            "message": {
                "message_id": next(self._message),
                "from": self._user(user_id, language),
                "chat": {"id": user_id, "first_name": "Anna", "type": "private"},
                "date": int(time.time()),
                **content,
            },
        }

    def text(self, user_id: int, text: str, **kw: Any) -> dict[str, Any]:
        return self.message(user_id, text=text, **kw)

    def start(self, user_id: int, payload: str = "") -> dict[str, Any]:
        text = f"/start {payload}" if payload else "/start"
        return self.message(user_id, text=text, entities=[{"offset": 0, "length": 6, "type": "bot_command"}])

    def photo(self, user_id: int, file_id: str, *, caption: str = "", size: int = 1000) -> dict[str, Any]:
        sizes = [
            {
                "file_id": f"{file_id}-small",
                "file_unique_id": "s1",
                "width": 90,
                "height": 60,
                "file_size": 100,
            },
            {"file_id": file_id, "file_unique_id": "s2", "width": 1280, "height": 853, "file_size": size},
        ]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.message(user_id, **content)

    def document(
        self, user_id: int, file_id: str, *, file_name: str, mime_type: str, size: int = 1000
    ) -> dict[str, Any]:
        doc = {
            "file_id": file_id,
            "file_unique_id": "d1",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": size,
        }
        return self.message(user_id, document=doc)

    def sticker(self, user_id: int) -> dict[str, Any]:
        return self.message(
            user_id,
            sticker={
                "file_id": "CAAC",
                "file_unique_id": "st",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        )

    def unknown(self, kind: str = "message_reaction") -> dict[str, Any]:
        return {
            "update_id": next(self._update),
            kind: {"chat": {"id": 1, "type": "private"}, "date": int(time.time())},
        }


def post_update(
    base_url: str, public_key: str, secret: str, update: dict[str, Any], *, timeout: float = 10.0
) -> tuple[int, dict[str, Any]]:
    """POST one update to Carekit's Telegram webhook as Telegram does (for benchmarks and live tests)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)
    try:
        conn.request(
            "POST",
            f"/hooks/telegram/{public_key}/",
            body=json.dumps(update).encode(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        )
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, (json.loads(data) if data else {})
    finally:
        conn.close()


@dataclass
class LoadResult:
    statuses: dict[int, int]  # HTTP status -> count
    latencies: list[float]  # seconds per request, in completion order
    seconds: float  # wall time of the whole run


def drive_webhook(
    base_url: str,
    public_key: str,
    secret: str,
    *,
    clients: int = 8,
    per_client: int = 100,
    first_user_id: int = 10_000,
) -> LoadResult:
    """`clients` threads, each one Telegram user with its own keep-alive connection, post `per_client`
    text updates to the webhook (what a `carekit bench channels` run needs for the Telegram adapter)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    builder = UpdateBuilder()
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    latencies: list[float] = []

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
        try:
            for i in range(per_client):
                with lock:
                    update = builder.text(first_user_id + n, f"bench message {i} from client {n}")
                body = json.dumps(update).encode()
                started = time.perf_counter()
                conn.request(
                    "POST",
                    f"/hooks/telegram/{public_key}/",
                    body=body,
                    headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
                )
                resp = conn.getresponse()
                resp.read()
                took = time.perf_counter() - started
                with lock:
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                    latencies.append(took)
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(statuses, latencies, time.perf_counter() - started)
