"""Deep links `https://t.me/<bot>?start=<payload>` that link a Telegram account to a known customer.

Carekit signs the payload for one customer (e.g. in their cabinet, or after a verified claim); the
customer opens the link, Telegram sends `/start <payload>`, and the Telegram user id becomes a verified
identity of that customer. Telegram allows 64 characters of [A-Za-z0-9_-] in a start parameter, so the
payload is `<customer id>-<expiry, base 36>-<truncated HMAC>` (about 50 characters), signed with the
channel's signing secret (a rotated secret keeps working during the grace period).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from carekit.channels.models import Channel
from carekit.channels.services import SIGNING, signing_secrets

TTL_SECONDS = 7 * 24 * 3600
MAX_PAYLOAD = 64


def _mac(secret: str, customer_id: str, exp: str) -> str:
    digest = hmac.new(secret.encode(), f"tg-start:{customer_id}:{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def _b36(n: int) -> str:
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = chars[r] + out
    return out or "0"


def payload_sign(
    channel: Channel, customer_id: str, *, ttl_seconds: int = TTL_SECONDS, now: float | None = None
) -> str:
    exp = _b36(int((now or time.time()) + ttl_seconds))
    payload = f"{customer_id}-{exp}-{_mac(channel.secrets.get(SIGNING, ''), customer_id, exp)}"
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("the customer id is too long for a Telegram start parameter")
    return payload


def payload_verify(channel: Channel, payload: str, *, now: float | None = None) -> str | None:
    """The customer id a valid, unexpired payload names; None otherwise."""
    parts = payload.split("-", 2)
    if len(parts) != 3:
        return None
    customer_id, exp, mac = parts
    try:
        expires = int(exp, 36)
    except ValueError:
        return None
    if expires < (now or time.time()):
        return None
    ok = any(hmac.compare_digest(mac, _mac(s, customer_id, exp)) for s in signing_secrets(channel))
    return customer_id if ok else None


def start_link(channel: Channel, customer_id: str) -> str:
    username = str(channel.config.get("bot_username") or "").lstrip("@")
    return f"https://t.me/{username}?start={payload_sign(channel, customer_id)}"
