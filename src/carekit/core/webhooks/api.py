"""Webhooks API: subscriptions, deliveries with their attempts, resend. Thin endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from carekit.core.api import StrictSchema, need, paginate
from carekit.core.models import Workspace
from carekit.core.webhooks import selectors, services
from carekit.core.webhooks.enums import DeliveryStatus
from carekit.core.webhooks.models import WebhookDelivery, WebhookSubscription

router = Router(tags=["webhooks"])
SCOPE = "webhooks:manage"


class WebhookOut(Schema):
    id: str
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret; shown once, store it now.")


class WebhookPage(Schema):
    items: list[WebhookOut]
    next_cursor: str | None


class WebhookIn(StrictSchema):
    url: str = Field(min_length=8, max_length=500)
    event_types: list[str] = Field(min_length=1, max_length=50)
    description: str = Field(default="", max_length=200)


class AttemptOut(Schema):
    number: int
    outcome: str
    status_code: int | None
    error: str
    duration_ms: int
    requested_at: datetime


class DeliveryOut(Schema):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: datetime
    created_at: datetime


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


def _webhook(s: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": s.public_id,
        "url": s.url,
        "description": s.description,
        "event_types": s.event_types,
        "is_active": s.is_active,
        "created_at": s.created_at,
    }


def _delivery(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.public_id,
        "webhook_id": d.subscription.public_id,
        "event_id": d.event_public_id,
        "event_type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "next_attempt_at": d.next_attempt_at,
        "created_at": d.created_at,
    }


def _detail(d: WebhookDelivery) -> dict[str, Any]:
    attempts = [
        {
            "number": a.number,
            "outcome": a.outcome,
            "status_code": a.status_code,
            "error": a.error,
            "duration_ms": a.duration_ms,
            "requested_at": a.requested_at,
        }
        for a in d.attempt_rows.all()
    ]
    return {**_delivery(d), "payload": d.payload, "attempt_log": attempts}


@router.get("/webhooks", response=WebhookPage, summary="Webhook subscriptions")
def list_webhooks(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, SCOPE)
    page = paginate(selectors.subscriptions(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_webhook(s) for s in page.items], "next_cursor": page.next_cursor}


@router.post("/webhooks", response={201: WebhookCreated}, summary="Subscribe a URL to event types")
def create_webhook(request: HttpRequest, body: WebhookIn) -> tuple[int, dict[str, Any]]:
    p = need(request, SCOPE)
    with transaction.atomic(durable=True):
        sub = services.subscription_create(
            actor=p.actor,
            workspace=Workspace.objects.get(pk=p.workspace_id),
            url=body.url,
            event_types=body.event_types,
            description=body.description,
        )
    return 201, {**_webhook(sub), "secret": sub.secret}


@router.get("/webhooks/{webhook_id}", response=WebhookOut, summary="One webhook subscription")
def get_webhook(request: HttpRequest, webhook_id: str) -> dict[str, Any]:
    p = need(request, SCOPE)
    return _webhook(selectors.subscription(p.workspace_id, webhook_id))


@router.delete("/webhooks/{webhook_id}", response=WebhookOut, summary="Deactivate a subscription")
def deactivate_webhook(request: HttpRequest, webhook_id: str) -> dict[str, Any]:
    p = need(request, SCOPE)
    with transaction.atomic(durable=True):
        sub = services.subscription_deactivate(
            actor=p.actor, subscription=selectors.subscription(p.workspace_id, webhook_id)
        )
    return _webhook(sub)


@router.get("/webhook-deliveries", response=DeliveryPage, summary="Webhook deliveries, newest first")
def list_deliveries(
    request: HttpRequest,
    status: DeliveryStatus | None = None,
    webhook_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    p = need(request, SCOPE)
    qs = selectors.deliveries(p.workspace_id, status=status, subscription_id=webhook_id)
    page = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_delivery(d) for d in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/webhook-deliveries/{delivery_id}", response=DeliveryDetail, summary="A delivery and its attempts"
)
def get_delivery(request: HttpRequest, delivery_id: str) -> dict[str, Any]:
    p = need(request, SCOPE)
    return _detail(selectors.delivery(p.workspace_id, delivery_id))


@router.post(
    "/webhook-deliveries/{delivery_id}/resend", response=DeliveryOut, summary="Send a delivery again"
)
def resend_delivery(request: HttpRequest, delivery_id: str) -> dict[str, Any]:
    p = need(request, SCOPE)
    with transaction.atomic(durable=True):
        d = services.delivery_resend(actor=p.actor, delivery=selectors.delivery(p.workspace_id, delivery_id))
    return _delivery(d)
