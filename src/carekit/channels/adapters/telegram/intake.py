"""Turning one Telegram update into a call of `conversations.public.receive_message`.

This is an entry point for the webhook view and the poller: files are downloaded first (network, no
transaction), then each update is stored in its own durable transaction. Idempotent: the message's
external id is `<chat id>:<message id>`, so a repeated update (Telegram retries webhooks; a poller may
re-read after a crash) answers with the first result. Input that cannot become a message is quarantined
with a reason, in its own transaction, and the channel goes on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from carekit.channels import services
from carekit.channels.adapters.telegram import deeplink
from carekit.channels.adapters.telegram.client import BotApi, TelegramError
from carekit.channels.models import Channel
from carekit.conversations import public as conversations
from carekit.core.errors import DomainError
from carekit.core.events import Actor
from carekit.customers import public as customers

logger = logging.getLogger(__name__)
ACTOR = Actor.system("channels.telegram")
KIND = "telegram"
MESSAGE_KEYS = ("message",)
# Parts of a message we turn into an inbox message; any other content (stickers, voice, locations...)
# is quarantined with its keys named, so an admin sees what customers send.
CONTENT_KEYS = {"text", "caption", "photo", "document"}
IGNORED_KEYS = {
    "message_id", "from", "chat", "date", "entities", "caption_entities", "reply_to_message",
    "forward_origin", "forward_from", "forward_date", "media_group_id", "has_protected_content",
    "link_preview_options", "message_thread_id", "is_topic_message", "sender_chat", "author_signature",
    "edit_date", "via_bot", "is_automatic_forward", "quote", "reply_markup", "show_caption_above_media",
}  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    status: str  # received | duplicate | linked | ignored | quarantined | retry
    reason: str = ""
    message_id: str = ""
    conversation_id: str = ""


@dataclass
class Parsed:
    update_id: int
    chat_id: str = ""
    user_id: str = ""
    message_id: str = ""
    text: str = ""
    language: str = ""
    files: list[tuple[str, str, str]] = field(default_factory=list)  # (file_id, filename, content type)
    start_payload: str | None = None


def api_for(channel: Channel) -> BotApi:
    return BotApi(
        str(channel.secrets.get("bot_token", "")),
        base_url=str(channel.config.get("api_base_url") or ""),
    )


def _quarantine(channel: Channel, reason: str, detail: str, raw: Any) -> Outcome:
    data = raw if isinstance(raw, bytes) else json.dumps(raw, ensure_ascii=False, default=str)
    with transaction.atomic(durable=True):
        services.quarantine(channel=channel, reason=reason, detail=detail, raw=data)
    return Outcome("quarantined", reason)


def parse(update: dict[str, Any]) -> Parsed | tuple[str, str]:
    """A message we can take, or (reason, detail) why not."""
    update_id = update.get("update_id")
    if not isinstance(update_id, int):
        return "malformed_update", "no integer update_id"
    kind = next((k for k in update if k != "update_id"), "")
    if kind not in MESSAGE_KEYS:
        return "unsupported_update", f"update type {kind or '(none)'} is not handled"
    msg = update[kind]
    if not isinstance(msg, dict) or not isinstance(msg.get("chat"), dict) or "message_id" not in msg:
        return "malformed_update", "the message has no chat or message_id"
    raw_sender = msg.get("from")
    sender: dict[str, Any] = raw_sender if isinstance(raw_sender, dict) else {}
    p = Parsed(
        update_id=update_id,
        chat_id=str(msg["chat"].get("id", "")),
        user_id=str(sender.get("id") or msg["chat"].get("id", "")),
        message_id=str(msg["message_id"]),
        text=str(msg.get("text") or msg.get("caption") or ""),
        language=str(sender.get("language_code") or "")[:8],
    )
    unknown = sorted(set(msg) - CONTENT_KEYS - IGNORED_KEYS)
    if unknown and not (set(msg) & CONTENT_KEYS):
        return "unsupported_message", f"message content {', '.join(unknown)} is not handled"
    photos = msg.get("photo")
    if isinstance(photos, list) and photos:
        best = max(photos, key=lambda s: (s.get("width", 0) * s.get("height", 0), s.get("file_size", 0)))
        p.files.append((str(best.get("file_id", "")), f"photo-{p.message_id}.jpg", "image/jpeg"))
    doc = msg.get("document")
    if isinstance(doc, dict):
        p.files.append(
            (
                str(doc.get("file_id", "")),
                str(doc.get("file_name") or f"document-{p.message_id}"),
                str(doc.get("mime_type") or "application/octet-stream"),
            )
        )
    if p.text.startswith("/start") and (len(p.text) == 6 or p.text[6] in " @"):
        rest = p.text[6:]
        if rest.startswith("@"):  # "/start@shop_bot <payload>" in groups
            rest = rest.partition(" ")[2]
        p.start_payload = rest.strip()
    return p


def process_update(channel: Channel, update: Any, *, api: BotApi | None = None) -> Outcome:
    """Store one update; `retry` means a provider failure worth repeating (nothing was stored)."""
    if not isinstance(update, dict):
        return _quarantine(channel, "malformed_update", "the update is not a JSON object", update)
    parsed = parse(update)
    if isinstance(parsed, tuple):
        return _quarantine(channel, parsed[0], parsed[1], update)
    if parsed.start_payload is not None:
        return _start(channel, parsed, update)
    files: list[conversations.NewAttachment] = []
    api = api or api_for(channel)
    for file_id, filename, ctype in parsed.files:
        try:
            path, content = api.download(file_id)
        except TelegramError as exc:
            if exc.retryable:
                services.note_error(channel, f"getFile: {exc.description}")
                return Outcome("retry", "file_download")
            return _quarantine(channel, "file_refused", f"{filename}: {exc.description}", update)
        if filename.startswith("photo-") and "." in path:
            filename = f"photo-{parsed.message_id}.{path.rsplit('.', 1)[1][:5]}"
        files.append(conversations.NewAttachment(filename, ctype, content))
    inbound = conversations.Inbound(
        channel=KIND,
        channel_ref=channel.public_id,
        thread_key=parsed.chat_id,
        external_id=f"{parsed.chat_id}:{parsed.message_id}",
        identity_kind="telegram",
        identity_value=parsed.user_id,
        text=parsed.text,
        language=parsed.language,
        attachments=tuple(files),
    )
    try:
        with transaction.atomic(durable=True):
            ref = conversations.receive_message(
                actor=ACTOR, workspace_id=channel.workspace_id, inbound=inbound
            )
    except DomainError as exc:
        return _quarantine(channel, exc.code, exc.message, update)
    services.note_inbound(channel)
    return Outcome("duplicate" if ref.duplicate else "received", "", ref.message_id, ref.conversation_id)


def _start(channel: Channel, parsed: Parsed, update: dict[str, Any]) -> Outcome:
    if not parsed.start_payload:
        return Outcome("ignored", "start_without_payload")
    customer_id = deeplink.payload_verify(channel, parsed.start_payload)
    if customer_id is None:
        return _quarantine(
            channel, "bad_start_payload", _("The deep-link payload is forged or expired."), update
        )
    with transaction.atomic(durable=True):
        ok = customers.identity_attach_verified(
            actor=ACTOR,
            workspace_id=channel.workspace_id,
            customer_id=customer_id,
            kind="telegram",
            value=parsed.user_id,
        )
    if not ok:
        return _quarantine(channel, "bad_start_payload", _("The customer is no longer active."), update)
    services.note_inbound(channel)
    return Outcome("linked")
