"""getUpdates mode and webhook registration (entry points: they open their own transactions).

The offset is an `AdapterCursor` of the channel: the last update id handled. Each update is stored
before the cursor moves past it, so a crash between the two repeats the update, which the message's
external id turns into a duplicate: nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from carekit.channels import selectors, services
from carekit.channels.adapters.telegram.client import BotApi, TelegramError
from carekit.channels.adapters.telegram.intake import api_for, process_update
from carekit.channels.models import Channel

CURSOR = "telegram.update_id"
# Only what we turn into messages: edits and button callbacks would only fill the quarantine. Any
# other type that still arrives is quarantined with its name.
UPDATE_TYPES = ["message"]


@dataclass(frozen=True)
class PollResult:
    fetched: int
    handled: int
    error: str = ""


def poll_once(
    channel: Channel, *, timeout: int = 0, api: BotApi | None = None, limit: int = 100
) -> PollResult:
    api = api or api_for(channel)
    last = services.cursor_get(channel, CURSOR)
    params: dict = {"timeout": timeout, "limit": limit, "allowed_updates": UPDATE_TYPES}
    if last:
        params["offset"] = last + 1
    try:
        updates = api.call("getUpdates", params, timeout=timeout + 10) or []
    except TelegramError as exc:
        services.note_error(channel, f"getUpdates: {exc.description}")
        return PollResult(0, 0, exc.description)
    handled = 0
    for update in sorted(updates, key=lambda u: u.get("update_id", 0) if isinstance(u, dict) else 0):
        outcome = process_update(channel, update, api=api)
        if outcome.status == "retry":
            return PollResult(len(updates), handled, outcome.reason)
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if isinstance(update_id, int):
            with transaction.atomic(durable=True):
                services.cursor_advance(channel, CURSOR, update_id)
        handled += 1
    return PollResult(len(updates), handled)


def poll_all(*, timeout: int = 0) -> int:
    """One short poll of every active Telegram channel in polling mode (the periodic job)."""
    n = 0
    for channel in selectors.active_of_kind("telegram"):
        if channel.config.get("mode") == "polling":
            n += poll_once(channel, timeout=timeout).handled
    return n


def webhook_url(channel: Channel) -> str:
    base = str(channel.config.get("webhook_base_url") or settings.SITE_URL).rstrip("/")
    return base + reverse("channels:telegram_webhook", args=[channel.public_key])


def webhook_register(channel: Channel, *, api: BotApi | None = None) -> str:
    """setWebhook with the channel's current signing secret as `secret_token` (polling mode: the
    webhook is removed, since Telegram refuses getUpdates while one is set). Returns "" or the error."""
    api = api or api_for(channel)
    try:
        if channel.config.get("mode") == "polling":
            api.call("deleteWebhook", {"drop_pending_updates": False})
        else:
            api.call(
                "setWebhook",
                {
                    "url": webhook_url(channel),
                    "secret_token": channel.secrets.get(services.SIGNING, ""),
                    "allowed_updates": UPDATE_TYPES,
                },
            )
    except TelegramError as exc:
        services.note_error(channel, f"setWebhook: {exc.description}")
        return exc.description
    return ""
