"""The telephony webhook: `/hooks/phone/<public key>/`, a JSON call record signed with the channel's
secret like Carekit's own webhooks (`X-Carekit-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`).

Body: {"call_id", "direction": "inbound"|"outbound", "from", "to", "outcome":
"answered"|"missed"|"voicemail"|"busy"|"failed", "duration_seconds", "recording_url", "started_at"}.
The customer's number is `from` for an inbound call and `to` for an outbound one.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from carekit.channels import selectors, services
from carekit.channels.adapters.phone.calls import CallIn, call_record
from carekit.core.errors import DomainError
from carekit.core.events import Actor
from carekit.core.webhooks import signing

ACTOR = Actor.system("channels.phone")
MAX_BODY = 64 * 1024


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "details": None}}, status=status)


def parse_call(data: object) -> CallIn:
    if not isinstance(data, dict):
        raise DomainError("The body is not a JSON object.", code="malformed_call")
    direction = str(data.get("direction") or "inbound")
    started = data.get("started_at")
    try:
        at = datetime.fromisoformat(str(started)) if started else None
        duration = int(data.get("duration_seconds") or 0)
    except (TypeError, ValueError):
        raise DomainError("started_at or duration_seconds is not valid.", code="malformed_call") from None
    if at is not None and at.tzinfo is None:
        raise DomainError("started_at needs a time zone.", code="malformed_call")
    return CallIn(
        direction=direction,
        number=str(data.get("from" if direction == "inbound" else "to") or ""),
        outcome=str(data.get("outcome") or ""),
        duration_seconds=duration,
        call_id=str(data.get("call_id") or "")[:100],
        recording_url=str(data.get("recording_url") or "")[:500],
        at=at,
    )


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, public_key: str) -> JsonResponse:
    channel = selectors.channel_by_public_key(public_key)
    if channel is None or channel.kind != "phone":
        return _error(404, "not_found", "No such channel.")
    if len(request.body) > MAX_BODY:
        return _error(413, "too_large", "The call record is too large.")
    header = request.headers.get(signing.SIGNATURE_HEADER, "")
    if not any(signing.verify(s, request.body, header) for s in services.signing_secrets(channel)):
        return _error(401, "bad_signature", "The signature does not match this channel's secret.")
    try:
        call = parse_call(json.loads(request.body))
        with transaction.atomic(durable=True):
            logged = call_record(actor=ACTOR, channel=channel, call=call)
    except (ValueError, DomainError) as exc:
        reason = getattr(exc, "code", "malformed_call")
        message = getattr(exc, "message", str(exc))
        with transaction.atomic(durable=True):
            services.quarantine(channel=channel, reason=reason, detail=message, raw=request.body)
        return _error(422, reason, message)
    services.note_inbound(channel)
    return JsonResponse(
        {
            "conversation_id": logged.conversation_id,
            "message_id": logged.message_id,
            "task_id": logged.task_id,
            "tasks_completed": list(logged.tasks_completed),
            "duplicate": logged.duplicate,
        },
        status=200 if logged.duplicate else 201,
    )
