"""The outbound sender for kind "sms": fills the gateway's payload template and calls it.

2xx is sent (the provider id is read from a JSON answer's `id`/`message_id` when there is one);
429, 5xx and network failures are retried; other 4xx (bad number, bad credentials) are final.
"""

from __future__ import annotations

import json
from urllib.parse import quote_plus

from carekit.channels import http, selectors, services
from carekit.channels.models import Channel
from carekit.core import outbound

MAX_TEXT = 1000


def render(template: str, content_type: str, values: dict[str, str], *, query: bool = False) -> str:
    def esc(v: str) -> str:
        if query or content_type == "application/x-www-form-urlencoded":
            return quote_plus(v)
        return json.dumps(v, ensure_ascii=False)[1:-1]

    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", esc(value))
    return out


def request_for(channel: Channel, to: str, text: str) -> tuple[str, str, bytes | None, dict[str, str]]:
    cfg = channel.config
    values = {"to": to, "text": text[:MAX_TEXT], "sender": str(cfg.get("sender") or "")}
    headers: dict[str, str] = {}
    if cfg.get("auth_header"):
        headers[str(cfg["auth_header"])] = str(channel.secrets.get("auth_value", ""))
    url = str(cfg["url"])
    if cfg.get("method") == "GET":
        query = render(str(cfg["payload_template"]), "", values, query=True)
        return "GET", f"{url}{'&' if '?' in url else '?'}{query}", None, headers
    ctype = str(cfg.get("content_type") or "application/json")
    headers["Content-Type"] = f"{ctype}; charset=utf-8" if ctype == "application/json" else ctype
    return "POST", url, render(str(cfg["payload_template"]), ctype, values).encode(), headers


class SmsSender:
    channel = "sms"

    def send(self, message: outbound.OutboundMessage) -> outbound.SendResult:
        channel = selectors.channel_for_message(
            message.workspace_id, self.channel, message.headers.get("X-Carekit-Channel", "")
        )
        if channel is None:
            return outbound.SendResult(ok=False, error="no active SMS channel for this message")
        method, url, body, headers = request_for(channel, message.to, message.body)
        if message.idempotency_key:
            headers["Idempotency-Key"] = message.idempotency_key
        try:
            resp = http.request(method, url, body=body, headers=headers, timeout=10, max_bytes=64 * 1024)
        except (http.NetworkError, http.TooLarge) as exc:
            services.note_error(channel, f"sms gateway: {exc}")
            return outbound.SendResult(ok=False, error=str(exc), retryable=True)
        except http.UnsafeTarget as exc:
            services.note_error(channel, f"sms gateway: {exc.message}")
            return outbound.SendResult(ok=False, error=exc.message)
        if 200 <= resp.status < 300:
            services.note_outbound(channel)
            return outbound.SendResult(ok=True, provider_id=_provider_id(resp.body))
        error = f"sms gateway HTTP {resp.status}: {resp.body[:300].decode('utf-8', 'replace')}"
        services.note_error(channel, error)
        retry_after = resp.headers.get("retry-after", "")
        return outbound.SendResult(
            ok=False,
            error=error,
            retryable=resp.status == 429 or resp.status >= 500,
            retry_after=int(retry_after) if retry_after.isdigit() else 0,
        )


def _provider_id(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if isinstance(data, dict):
        return str(data.get("id") or data.get("message_id") or "")[:200]
    return ""
