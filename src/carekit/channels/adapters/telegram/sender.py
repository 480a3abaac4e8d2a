"""The outbound sender for kind "telegram" (registered in core's registry): sendMessage, then one
sendPhoto/sendDocument per attachment. Quick replies become a one-time reply keyboard."""

from __future__ import annotations

import json
from typing import Any

from carekit.channels import selectors, services
from carekit.channels.adapters.telegram.client import BotApi, TelegramError, Upload
from carekit.channels.models import Channel
from carekit.conversations import public as conversations
from carekit.core import outbound

# A JSON list of button labels; any caller building an OutboundMessage may set it.
QUICK_REPLIES_HEADER = "X-Carekit-Quick-Replies"
CHANNEL_HEADER = "X-Carekit-Channel"
MAX_TEXT = 4096


def channel_for(message: outbound.OutboundMessage, kind: str) -> Channel | None:
    return selectors.channel_for_message(message.workspace_id, kind, message.headers.get(CHANNEL_HEADER, ""))


def reply_markup(message: outbound.OutboundMessage) -> dict[str, Any] | None:
    # The channel-neutral field (the bot's quick replies: a tap sends the title back as the customer's
    # text), else the header.
    quick = (message.data or {}).get("quick_replies") or []
    raw = message.headers.get(QUICK_REPLIES_HEADER, "")
    if not quick and not raw:
        return None
    try:
        if quick:
            labels = [str(q.get("title", ""))[:64] for q in quick if str(q.get("title", "")).strip()]
        else:
            labels = [str(x)[:64] for x in json.loads(raw) if str(x).strip()]
    except (ValueError, TypeError, AttributeError):
        return None
    if not labels:
        return None
    return {
        "keyboard": [[{"text": label}] for label in labels[:12]],
        "one_time_keyboard": True,
        "resize_keyboard": True,
    }


class TelegramSender:
    channel = "telegram"

    def __init__(self, api_factory: Any = None) -> None:
        self._api_factory = api_factory

    def _api(self, channel: Channel) -> BotApi:
        from carekit.channels.adapters.telegram.intake import api_for

        return (self._api_factory or api_for)(channel)

    def send(self, message: outbound.OutboundMessage) -> outbound.SendResult:
        channel = channel_for(message, self.channel)
        if channel is None:
            return outbound.SendResult(ok=False, error="no active Telegram channel for this message")
        api = self._api(channel)
        files = (
            conversations.message_attachments(message.workspace_id, message.idempotency_key)
            if message.workspace_id and message.idempotency_key.startswith("msg_")
            else []
        )
        markup = reply_markup(message)
        first = ""
        try:
            if message.body.strip():
                params: dict[str, Any] = {"chat_id": message.to, "text": message.body[:MAX_TEXT]}
                if markup:
                    params["reply_markup"] = markup
                result = api.call("sendMessage", params)
                first = str((result or {}).get("message_id", ""))
            for f in files:
                method, fieldname = (
                    ("sendPhoto", "photo")
                    if f.content_type in ("image/jpeg", "image/png", "image/webp")
                    else ("sendDocument", "document")
                )
                result = api.call(
                    method,
                    {"chat_id": message.to},
                    upload=Upload(fieldname, f.filename, f.content_type, f.content),
                    timeout=60,
                )
                first = first or str((result or {}).get("message_id", ""))
        except TelegramError as exc:
            error = f"telegram {exc.status or 'network'}: {exc.description}"
            services.note_error(channel, error)
            return outbound.SendResult(
                ok=False, error=error, retryable=exc.retryable, retry_after=exc.retry_after
            )
        services.note_outbound(channel)
        return outbound.SendResult(ok=True, provider_id=f"{message.to}:{first}")
