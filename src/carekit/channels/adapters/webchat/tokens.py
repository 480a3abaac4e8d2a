"""The host site's widget token: it vouches that the visitor is a customer the shop has signed in.

Format (documented in docs/channels.md):
``base64url(payload) "." hex(HMAC-SHA256(secret, base64url(payload)))``
where the payload is the JSON object ``{"kind": "email"|"phone"|"external", "value": "...", "exp": <unix
seconds>}`` (optional ``"name"``), and the secret is the channel's signing secret. After a rotation the
previous secret is accepted during the grace period (`channels.services.signing_secrets`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime

from carekit.channels.models import Channel
from carekit.channels.services import signing_secrets

KINDS = ("email", "phone", "external")
MAX_TOKEN = 2048


@dataclass(frozen=True)
class Asserted:
    kind: str
    value: str
    name: str = ""


class TokenRefused(Exception):
    """Why a token was refused: `reason` is a machine-readable code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def sign(
    secret: str, *, kind: str, value: str, ttl_seconds: int = 3600, name: str = "", now: float | None = None
) -> str:
    """What the host site's backend computes (the reference implementation for integrators)."""
    payload = {"kind": kind, "value": value, "exp": int((now or time.time()) + ttl_seconds)}
    if name:
        payload["name"] = name
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, body)}"


def verify(channel: Channel, token: str, *, at: datetime | None = None) -> Asserted:
    """The identity a token asserts, or TokenRefused(bad_signature | malformed | expired)."""
    if len(token) > MAX_TOKEN:
        raise TokenRefused("malformed_token")
    body, _sep, mac = token.partition(".")
    if not body or not mac:
        raise TokenRefused("malformed_token")
    if not any(hmac.compare_digest(mac, _mac(s, body)) for s in signing_secrets(channel, at=at)):
        raise TokenRefused("bad_signature")
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        kind, value, exp = str(claims["kind"]), str(claims["value"]), int(claims["exp"])
        name = str(claims.get("name", ""))[:120]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise TokenRefused("malformed_token") from None
    if kind not in KINDS or not value:
        raise TokenRefused("malformed_token")
    now = at.timestamp() if at else time.time()
    if exp <= now:
        raise TokenRefused("expired_token")
    return Asserted(kind, value, name)
