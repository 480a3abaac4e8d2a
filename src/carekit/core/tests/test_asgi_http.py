"""HTTP through the threaded WSGI adapter (ADR 0202): bodies, headers, streaming, the thread it runs on."""

from __future__ import annotations

import asyncio
import threading
import urllib.request
from typing import Any

import pytest

from carekit.core.asgi_http import ThreadedWsgiHttp, build_environ

pytestmark = pytest.mark.sqlite


def _call(app: ThreadedWsgiHttp, scope: dict[str, Any], chunks: list[bytes]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    incoming = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _scope(**extra: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/thing",
        "query_string": b"a=1&b=%D1%8F",
        "headers": [
            (b"host", b"example.test"),
            (b"content-type", b"application/json"),
            (b"x-forwarded-for", b"10.0.0.1"),
            (b"x-forwarded-for", b"10.0.0.2"),
            (b"x_forwarded_for", b"spoofed"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
        ],
        "client": ("127.0.0.5", 5000),
        "server": ("127.0.0.1", 18600),
        "scheme": "http",
        **extra,
    }


def test_a_request_in_several_body_messages_reaches_the_app_whole_with_its_headers():
    seen: dict[str, Any] = {}

    def wsgi(environ, start_response):
        seen["body"] = environ["wsgi.input"].read()
        seen["environ"] = environ
        seen["thread"] = threading.current_thread().name
        start_response("201 Created", [("Content-Type", "text/plain"), ("X-Two", "2")])
        return [b"made ", b"it"]

    sent = _call(ThreadedWsgiHttp(wsgi, threads=2), _scope(), [b'{"a":', b" 1", b"}"])

    env = seen["environ"]
    assert seen["body"] == b'{"a": 1}'
    assert seen["thread"].startswith("carekit-http")
    assert (env["REQUEST_METHOD"], env["PATH_INFO"], env["QUERY_STRING"]) == (
        "POST",
        "/api/v1/thing",
        "a=1&b=%D1%8F",
    )
    assert env["HTTP_X_FORWARDED_FOR"] == "10.0.0.1,10.0.0.2"  # the underscore spelling is dropped
    assert env["HTTP_COOKIE"] == "a=1; b=2"
    assert env["CONTENT_TYPE"] == "application/json"
    assert (env["REMOTE_ADDR"], env["SERVER_PORT"]) == ("127.0.0.5", "18600")
    assert sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"text/plain"), (b"x-two", b"2")],
        },
        {"type": "http.response.body", "body": b"made it"},
    ]


def test_a_streaming_response_goes_out_chunk_by_chunk_and_is_closed_in_its_thread():
    closed_in: list[str] = []

    class Streaming(list):
        streaming = True

        def close(self) -> None:
            closed_in.append(threading.current_thread().name)

    def wsgi(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/csv")])
        return Streaming([b"a,b\n", b"", b"1,2\n"])

    sent = _call(ThreadedWsgiHttp(wsgi, threads=1), _scope(method="GET"), [b""])

    assert [m.get("body") for m in sent] == [None, b"a,b\n", b"1,2\n", b""]
    assert [m.get("more_body", False) for m in sent[1:]] == [True, True, False]
    assert len(closed_in) == 1
    assert closed_in[0].startswith("carekit-http")


def test_the_path_is_handed_over_as_wsgi_expects_non_ascii():
    environ = build_environ(_scope(path="/help/поиск", root_path=""), body=None)  # type: ignore[arg-type]
    assert environ["PATH_INFO"].encode("latin1").decode("utf8") == "/help/поиск"


@pytest.mark.django_db(transaction=True)
def test_the_served_application_answers_plain_http():
    """The real stack (uvicorn → lifespan → channels router → the adapter → Django) for plain HTTP."""
    from carekit.core.realtime.testing import live_asgi_server

    with (
        live_asgi_server() as host,
        urllib.request.urlopen(f"http://{host}/healthz", timeout=10) as resp,  # our own test server
    ):
        assert resp.status == 200
        assert resp.read()
