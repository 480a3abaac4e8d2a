"""Reads for webhooks; every one takes the workspace."""

from __future__ import annotations

from django.db.models import QuerySet

from carekit.core.webhooks.models import WebhookDelivery, WebhookSubscription


def subscriptions(workspace_id: int) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(workspace_id=workspace_id)


def subscription(workspace_id: int, public_id: str) -> WebhookSubscription:
    return WebhookSubscription.objects.get(workspace_id=workspace_id, public_id=public_id)


def deliveries(
    workspace_id: int, *, status: str | None = None, subscription_id: str | None = None
) -> QuerySet[WebhookDelivery]:
    qs = WebhookDelivery.objects.filter(workspace_id=workspace_id).select_related("subscription")
    if status:
        qs = qs.filter(status=status)
    if subscription_id:
        qs = qs.filter(subscription__public_id=subscription_id)
    return qs


def delivery(workspace_id: int, public_id: str) -> WebhookDelivery:
    return (
        WebhookDelivery.objects.select_related("subscription")
        .prefetch_related("attempt_rows")
        .get(workspace_id=workspace_id, public_id=public_id)
    )
