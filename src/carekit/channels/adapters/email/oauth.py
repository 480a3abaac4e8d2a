"""OAuth2 for IMAP and SMTP (Gmail and Microsoft 365 refuse passwords): the SASL XOAUTH2 string and
the access token behind it, either fixed or obtained with a refresh token from the provider's token URL.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from carekit.core.webhooks import http

REFRESH_MARGIN_SECONDS = 60


class OAuthError(Exception):
    """The token endpoint refused or could not be reached."""


class TokenProvider(Protocol):
    def token(self) -> str: ...


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64, which imaplib and smtplib add)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


@dataclass(frozen=True)
class StaticToken:
    value: str

    def token(self) -> str:
        return self.value


_cache: dict[tuple[str, str, str], tuple[str, float]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class RefreshTokenFlow:
    """RFC 6749 §6: POST grant_type=refresh_token to the token URL; the access token is cached per
    process until shortly before it expires."""

    token_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    scope: str = ""
    timeout: float = 30.0

    def token(self) -> str:
        key = (self.token_url, self.client_id, self.refresh_token)
        with _cache_lock:
            cached = _cache.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token,
            "client_id": self.client_id,
        }
        if self.client_secret:
            form["client_secret"] = self.client_secret
        if self.scope:
            form["scope"] = self.scope
        try:
            resp = http.post(
                self.token_url,
                urlencode(form).encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                timeout=self.timeout,
            )
        except http.NetworkError as exc:
            raise OAuthError(f"token endpoint unreachable: {exc}") from exc
        if resp.status != 200:
            raise OAuthError(f"token endpoint answered {resp.status}: {resp.body[:200]!r}")
        try:
            data = json.loads(resp.body)
            access = str(data["access_token"])
            expires_in = int(data.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise OAuthError("token endpoint sent no access_token") from exc
        with _cache_lock:
            _cache[key] = (access, time.monotonic() + max(expires_in - REFRESH_MARGIN_SECONDS, 0))
        return access


def provider_for(config: dict[str, Any], secrets: dict[str, Any]) -> TokenProvider:
    if secrets.get("oauth_refresh_token"):
        return RefreshTokenFlow(
            token_url=str(config.get("oauth_token_url", "")),
            client_id=str(config.get("oauth_client_id", "")),
            client_secret=str(secrets.get("oauth_client_secret", "")),
            refresh_token=str(secrets["oauth_refresh_token"]),
            scope=str(config.get("oauth_scope", "")),
            timeout=float(config.get("timeout_seconds", 30)),
        )
    return StaticToken(str(secrets.get("oauth_access_token", "")))


def forget_cached_tokens() -> None:
    with _cache_lock:
        _cache.clear()
