"""Sending a scenario's message after commit: claim, send through core's outbound registry, mark.

The claim (`pending -> sending` with a lease) and the mark are separate transactions around the
provider call. A worker killed in between leaves a `sending` row whose lease expires; the sweep sends
it again with the same idempotency key, which the sender passes to the provider (ADR 0901).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from carekit.core import outbound
from carekit.scenarios.conditions import Scope, render
from carekit.scenarios.enums import MessageStatus
from carekit.scenarios.models import ScenarioMessage

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def claim(message_pk: int, now: datetime) -> ScenarioMessage | None:
    with transaction.atomic(durable=True):
        m = ScenarioMessage.objects.select_for_update().select_related("run").filter(pk=message_pk).first()
        if m is None or m.status in (MessageStatus.SENT, MessageStatus.FAILED):
            return None
        if m.status == MessageStatus.SENDING and m.lease_until and m.lease_until > now:
            return None
        if m.due_at and m.due_at > now:
            return None
        m.status, m.lease_until, m.attempts = MessageStatus.SENDING, now + LEASE, m.attempts + 1
        m.save(update_fields=["status", "lease_until", "attempts"])
        return m


def build(m: ScenarioMessage) -> outbound.OutboundMessage | None:
    from carekit.customers import public as customers

    to = customers.contact_address(m.workspace_id, m.customer_id, m.channel)
    if not to:
        return None
    ref = customers.customer(m.workspace_id, m.customer_id)
    state = m.run.context
    scope = Scope(
        event=state.get("event") or {},
        at=m.planned_at,
        load_tz=lambda: None,  # type: ignore[arg-type,return-value]
        last_event=state.get("last_event") or {},
        vars=state.get("vars") or {},
        load_customer=lambda: {
            "display_name": ref.display_name if ref else "",
            "language": ref.language if ref else "",
        },
    )
    return outbound.OutboundMessage(
        workspace_id=m.workspace_id,
        channel=m.channel,
        to=to,
        body=render(m.template, scope.read),
        subject=render(m.subject, scope.read),
        message_class=outbound.MessageClass(m.message_class),
        idempotency_key=m.idempotency_key,
    )


def send_one(message_pk: int, *, now: datetime) -> str:
    """Send one due message; returns its status afterwards ('' if it was not ours to send now)."""
    m = claim(message_pk, now)
    if m is None:
        return ""
    message = build(m)
    if message is None:
        result = outbound.SendResult(ok=False, error="the customer has no address for this channel")
    else:
        try:
            result = outbound.send(message)
        except outbound.UnknownChannel:
            result = outbound.SendResult(ok=False, error=f"no sender for channel {m.channel!r}")
    with transaction.atomic(durable=True):
        if result.ok:
            status = MessageStatus.SENT
        elif result.retryable and m.attempts < MAX_ATTEMPTS:
            status = MessageStatus.PENDING
        else:
            status = MessageStatus.FAILED
        ScenarioMessage.objects.filter(pk=m.pk, status=MessageStatus.SENDING).update(
            status=status,
            provider_id=result.provider_id,
            last_error=result.error,
            lease_until=None,
            sent_at=now if result.ok else None,
        )
    return status


def due_messages(now: datetime, limit: int = 500) -> list[int]:
    from django.db.models import Q

    return list(
        ScenarioMessage.objects.filter(
            Q(status=MessageStatus.PENDING, due_at__isnull=True)
            | Q(status=MessageStatus.PENDING, due_at__lte=now)
            | Q(status=MessageStatus.SENDING, lease_until__lt=now)
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
