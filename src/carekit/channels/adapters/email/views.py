"""The inbound-webhook endpoint: a provider (or a relay such as an MTA pipe) POSTs one raw RFC 5322
mail to `/channels/email/<public key>/inbound`, signed with the channel's signing secret like Carekit's
own webhooks: `X-Carekit-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""

from __future__ import annotations

import hashlib
import hmac
import time

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from carekit.channels import selectors, services
from carekit.channels.adapters.email import intake
from carekit.channels.adapters.email.config import mailbox
from carekit.channels.enums import ChannelKind, EmailDisposition
from carekit.core.webhooks import signing

CHUNK = 256 * 1024


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "details": None}}, status=status)


def _read_signed(request: HttpRequest, secrets: list[str], limit: int) -> tuple[bytes, int, bool]:
    """(the body up to `limit` + 1 bytes, its full size, signed?). The HMAC runs over the whole stream,
    so a mail over the limit is still authenticated before it is quarantined, without being kept."""
    parts = dict(
        p.split("=", 1) for p in request.headers.get(signing.SIGNATURE_HEADER, "").split(",") if "=" in p
    )
    try:
        stamp = int(parts.get("t", ""))
    except ValueError:
        stamp = None
    fresh = stamp is not None and abs(time.time() - stamp) <= signing.DEFAULT_TOLERANCE_SECONDS
    macs = [hmac.new(s.encode(), f"{stamp}.".encode(), hashlib.sha256) for s in secrets] if fresh else []
    kept = bytearray()
    size = 0
    while chunk := request.read(CHUNK):
        size += len(chunk)
        for mac in macs:
            mac.update(chunk)
        if len(kept) <= limit:
            kept.extend(chunk[: limit + 1 - len(kept)])
    given = parts.get("v1", "")
    signed = any(hmac.compare_digest(mac.hexdigest(), given) for mac in macs)
    return bytes(kept), size, signed


@csrf_exempt
@require_POST
def inbound(request: HttpRequest, public_key: str) -> JsonResponse:
    channel = selectors.channel_by_public_key(public_key)
    if channel is None or channel.kind != ChannelKind.EMAIL:
        return _error(404, "not_found", "Unknown channel.")
    box = mailbox(channel.config, channel.secrets)
    body, size, signed = _read_signed(request, services.signing_secrets(channel), box.max_bytes)
    if not signed:
        return _error(401, "bad_signature", "The signature does not match this channel's signing secret.")
    if size > box.max_bytes:
        result = intake.refuse(
            channel, "message_too_large", f"{size} bytes; the limit is {box.max_bytes}", body
        )
        return JsonResponse({"disposition": result.disposition, "reason": result.reason}, status=413)
    result = intake.receive_raw(channel, body)
    return JsonResponse(
        {
            "disposition": result.disposition,
            "reason": result.reason,
            "conversation_id": result.conversation_id,
            "message_id": result.message_id,
            "quarantine_id": result.quarantine_id,
        },
        status=422 if result.disposition == EmailDisposition.QUARANTINED else 200,
    )
