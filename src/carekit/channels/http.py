"""The HTTP client channel adapters call providers with (Telegram's Bot API, SMS gateways).

Same safety as core's webhook client (`core.webhooks.http`): the target is vetted (no private,
loopback or link-local address unless `WEBHOOK_ALLOWED_NETWORKS` lists it), the connection goes to
the vetted address, redirects are not followed, every call has a timeout. It adds GET, a caller-chosen
read limit (file downloads) and a per-call timeout (long polling).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

from carekit.core.webhooks.http import NetworkError, Target, UnsafeTarget, resolve

__all__ = ["NetworkError", "Response", "TooLarge", "UnsafeTarget", "request"]

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 1024 * 1024


class TooLarge(Exception):
    """The answer is longer than the caller accepts."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str]


class _Pinned(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = str(target.address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = str(target.address)

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]  # set by HTTPSConnection


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Response:
    """One request; UnsafeTarget for a refused URL, NetworkError when unreachable or too slow,
    TooLarge when the answer exceeds `max_bytes`."""
    target = resolve(url)
    conn = (_PinnedTLS if target.scheme == "https" else _Pinned)(target, timeout)
    try:
        conn.request(method, target.path, body=body, headers={"User-Agent": "Carekit/1", **(headers or {})})
        resp = conn.getresponse()
        data = resp.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLarge(f"the answer is longer than {max_bytes} bytes")
        return Response(resp.status, data, {k.lower(): v for k, v in resp.getheaders()})
    except (OSError, http.client.HTTPException) as exc:
        raise NetworkError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
