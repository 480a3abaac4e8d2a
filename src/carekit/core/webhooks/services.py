"""Every write to webhooks: keyword-only, with `actor=`, inside the caller's transaction."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.core.errors import Conflict, DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Event, Workspace
from carekit.core.webhooks import http, interest
from carekit.core.webhooks.enums import DeliveryStatus
from carekit.core.webhooks.models import WebhookDelivery, WebhookSubscription

_SEGMENT = r"[a-z][a-z0-9_]*"
# "*", "ctx.*", "ctx.entity.*" or a full "ctx.entity.verb", as the event registry reads them
_PATTERN_RE = re.compile(rf"^(\*|{_SEGMENT}\.(\*|{_SEGMENT}\.(\*|{_SEGMENT})))$")


def _valid_pattern(p: str) -> bool:
    return bool(_PATTERN_RE.match(p))


def matches(patterns: Iterable[str], event_type: str) -> bool:
    for p in patterns:
        if p == "*" or p == event_type or (p.endswith(".*") and event_type.startswith(p[:-1])):
            return True
    return False


def subscription_create(
    *, actor: Actor, workspace: Workspace, url: str, event_types: list[str], description: str = ""
) -> WebhookSubscription:
    """Subscribe `url` to event types; refuses private targets now rather than at the first delivery."""
    bad = [p for p in event_types if not _valid_pattern(p)]
    if bad or not event_types:
        raise DomainError(
            _("Event types must look like 'context.entity.verb', 'context.*' or '*'."),
            field="event_types",
            details={"invalid": bad},
        )
    http.resolve(url)
    sub = WebhookSubscription.objects.create(
        workspace=workspace,
        url=url,
        description=description.strip(),
        event_types=sorted(set(event_types)),
        secret=f"whsec_{secrets.token_urlsafe(32)}",
    )
    ws_id = workspace.pk
    transaction.on_commit(lambda: interest.forget(ws_id))
    emit(
        workspace_id=workspace.pk,
        type="webhooks.subscription.created",
        subject_type="webhook",
        subject_id=sub.public_id,
        actor=actor,
        payload={"event_types": sub.event_types},
    )
    return sub


def subscription_deactivate(*, actor: Actor, subscription: WebhookSubscription) -> WebhookSubscription:
    """Stop sending; the subscription and its delivery history stay for the record."""
    if subscription.is_active:
        subscription.is_active = False
        subscription.save(update_fields=["is_active"])
        ws_id = subscription.workspace_id
        transaction.on_commit(lambda: interest.forget(ws_id))
        emit(
            workspace_id=subscription.workspace_id,
            type="webhooks.subscription.deactivated",
            subject_type="webhook",
            subject_id=subscription.public_id,
            actor=actor,
        )
    return subscription


def payload_for(event: Event, workspace_public_id: str) -> dict[str, object]:
    """The body receivers get: the event's references and non-personal facts, never personal data."""
    actor = f"{event.actor_type}:{event.actor_id}" if event.actor_id else event.actor_type
    return {
        "event_id": event.public_id,
        "type": event.type,
        "workspace_id": workspace_public_id,
        "occurred_at": event.occurred_at.isoformat(),
        "subject": {"type": event.subject_type, "id": event.subject_id},
        "actor": actor,
        "data": event.payload,
    }


def deliveries_record(*, actor: Actor, event: Event) -> list[WebhookDelivery]:
    """Create one delivery per matching active subscription (idempotent per event and subscription);
    the sends are enqueued after commit."""
    subs = [
        s
        for s in WebhookSubscription.objects.filter(workspace_id=event.workspace_id, is_active=True)
        if matches(s.event_types, event.type)
    ]
    if not subs:
        return []
    done = set(
        WebhookDelivery.objects.filter(event_public_id=event.public_id, subscription__in=subs).values_list(
            "subscription_id", flat=True
        )
    )
    ws_public_id = Workspace.objects.only("public_id").get(pk=event.workspace_id).public_id
    body = payload_for(event, ws_public_id)
    rows = [
        WebhookDelivery.objects.create(
            workspace_id=event.workspace_id,
            subscription=s,
            event_public_id=event.public_id,
            event_type=event.type,
            payload=body,
        )
        for s in subs
        if s.pk not in done
    ]
    _enqueue_on_commit([r.pk for r in rows])
    return rows


def delivery_resend(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (a new series of attempts; earlier attempts stay recorded)."""
    if delivery.status == DeliveryStatus.PENDING:
        raise Conflict(_("This delivery is already waiting to be sent."), code="already_pending")
    if not delivery.subscription.is_active:
        raise Conflict(_("The webhook is deactivated."), code="webhook_inactive")
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, lease_until=None, completed_at=None
    )
    delivery.refresh_from_db()
    emit(
        workspace_id=delivery.workspace_id,
        type="webhooks.delivery.resent",
        subject_type="webhook_delivery",
        subject_id=delivery.public_id,
        actor=actor,
        payload={"event_id": delivery.event_public_id},
    )
    _enqueue_on_commit([delivery.pk])
    return delivery


def _enqueue_on_commit(ids: list[int]) -> None:
    if not ids:
        return

    def enqueue() -> None:
        from carekit.core.webhooks.tasks import deliver_webhook

        for pk in ids:
            deliver_webhook(pk)

    transaction.on_commit(enqueue)
