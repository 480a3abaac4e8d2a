"""A local double of a generic HTTP SMS gateway: records each request (method, path, query, headers,
body) and answers with scripted statuses (the last one repeats) and a JSON body with a message id."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from carekit.testing.telegram import free_port


@dataclass
class SmsRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class SmsGateway:
    url: str
    statuses: list[int]
    requests: list[SmsRequest] = field(default_factory=list)
    retry_after: str = ""


@contextmanager
def sms_gateway(statuses: list[int] | None = None) -> Iterator[SmsGateway]:
    port = free_port()
    gw = SmsGateway(url=f"http://127.0.0.1:{port}/api/send", statuses=list(statuses or [200]))
    ids = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
            parts = urlsplit(self.path)
            gw.requests.append(
                SmsRequest(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
            )
            status = gw.statuses[min(len(gw.requests) - 1, len(gw.statuses) - 1)]
            data = json.dumps(
                {"id": f"sms-{next(ids)}", "status": "accepted"} if status < 300 else {"error": "refused"}
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if gw.retry_after and status == 429:
                self.send_header("Retry-After", gw.retry_after)
            self.end_headers()
            self.wfile.write(data)

        do_GET = _handle
        do_POST = _handle

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gw
    finally:
        server.shutdown()
        server.server_close()
