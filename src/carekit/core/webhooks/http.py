"""The one outbound HTTP client: timeouts, no redirects, bounded reads, and no private targets.

Every resolved address of the target host is checked before connecting, and the connection goes to
the checked address (the hostname is resolved once), so DNS rebinding cannot swap in an internal
address between the check and the request. Private, loopback, link-local, shared, multicast and
reserved addresses are refused unless `WEBHOOK_ALLOWED_NETWORKS` lists them (tests allow 127.0.0.1).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from carekit.core.errors import DomainError

MAX_RESPONSE_BYTES = 64 * 1024
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(DomainError):
    """The URL is malformed or points at an address this server must not call."""

    code = "unsafe_target"
    status = 400


class NetworkError(Exception):
    """The target could not be reached or did not answer in time (worth retrying)."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.WEBHOOK_ALLOWED_NETWORKS]


def _is_public(addr: IpAddress) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


def check_address(addr: IpAddress) -> None:
    if _is_public(addr) or any(addr in net for net in _allowed_networks()):
        return
    kind = (
        _("loopback")
        if addr.is_loopback
        else _("link-local")
        if addr.is_link_local
        else _("private")
        if addr.is_private
        else _("non-public")
    )
    raise UnsafeTarget(
        _("The target address %(addr)s is %(kind)s; webhooks and outbound calls only go to public addresses.")
        % {"addr": addr, "kind": kind},
        field="url",
        details={"address": str(addr), "reason": kind},
    )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: IpAddress


def resolve(url: str) -> Target:
    """Parse and vet `url`; raises UnsafeTarget with a message a user can act on."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeTarget(_("The URL must start with http:// or https:// and name a host."), field="url")
    if parts.username or parts.password:
        raise UnsafeTarget(_("The URL must not carry a user name or password."), field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeTarget(_("The URL has an invalid port."), field="url") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeTarget(
            _("The host %(host)s cannot be resolved.") % {"host": parts.hostname}, field="url"
        ) from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for addr in addresses:  # every address: a resolver may hand out any of them later
        check_address(addr)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = str(target.address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = str(target.address)

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]  # set by HTTPSConnection


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float | None = None) -> Response:
    """POST `body`; returns the status and up to 64 KiB of the answer. Redirects are not followed."""
    target = resolve(url)
    seconds = float(timeout if timeout is not None else settings.WEBHOOK_TIMEOUT_SECONDS)
    conn_cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    conn = conn_cls(target, seconds)
    try:
        conn.request("POST", target.path, body=body, headers={"User-Agent": "Carekit-Webhooks/1", **headers})
        resp = conn.getresponse()
        return Response(resp.status, resp.read(MAX_RESPONSE_BYTES))
    except (OSError, http.client.HTTPException) as exc:
        raise NetworkError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
