"""The webhook Telegram posts updates to: `/hooks/telegram/<public key>/`, checked by the
`X-Telegram-Bot-Api-Secret-Token` header (the channel's signing secret, given to setWebhook)."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from carekit.channels import selectors, services
from carekit.channels.adapters.telegram.intake import _quarantine, process_update

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "details": None}}, status=status)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, public_key: str) -> JsonResponse:
    channel = selectors.channel_by_public_key(public_key)
    if channel is None or channel.kind != "telegram":
        return _error(404, "not_found", "No such channel.")
    given = request.headers.get(SECRET_HEADER, "")
    if not given or not services.secret_matches(channel, given):
        return _error(403, "bad_secret", "The secret token does not match this channel.")
    if int(request.headers.get("Content-Length") or 0) > MAX_UPDATE_BYTES:
        _quarantine(channel, "too_large", "the update is larger than 1 MB", request.body[:4096])
        return JsonResponse({"ok": True, "status": "quarantined"})
    try:
        update = json.loads(request.body)
    except ValueError:
        outcome = _quarantine(channel, "malformed_update", "the body is not JSON", request.body)
    else:
        outcome = process_update(channel, update)
    if outcome.status == "retry":
        # Telegram repeats an update its webhook did not accept; nothing was stored.
        return _error(503, "provider_unavailable", "A file could not be fetched; retry later.")
    return JsonResponse({"ok": True, "status": outcome.status, "reason": outcome.reason})
