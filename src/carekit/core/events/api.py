"""The event log through the API: the audit trail with filters, and dead letters with retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from carekit.core.api import ApiError, need, paginate
from carekit.core.api.pagination import json_response, paginate_values
from carekit.core.events import delivery
from carekit.core.models import DeliveryStatus, Event, EventDelivery

router = Router(tags=["events"])


class EventOut(Schema):
    id: str
    type: str
    subject_type: str
    subject_id: str
    actor: str
    payload: dict[str, Any]
    occurred_at: datetime


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class DeliveryOut(Schema):
    event: EventOut
    handler: str
    status: str
    attempts: int
    last_error: str
    available_at: datetime


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class EventFilters(Schema):
    type: str | None = None
    actor: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = None
    limit: int = 50


def _event_out(ev: Event) -> dict[str, Any]:
    actor = f"{ev.actor_type}:{ev.actor_id}" if ev.actor_id else ev.actor_type
    return {
        "id": ev.public_id,
        "type": ev.type,
        "subject_type": ev.subject_type,
        "subject_id": ev.subject_id,
        "actor": actor,
        "payload": ev.payload,
        "occurred_at": ev.occurred_at,
    }


def _delivery_out(d: EventDelivery) -> dict[str, Any]:
    return {
        "event": _event_out(d.event),
        "handler": d.handler,
        "status": d.status,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "available_at": d.available_at,
    }


def _split(value: str, name: str) -> tuple[str, str]:
    kind, sep, ident = value.partition(":")
    if not sep or not kind:
        raise ApiError(422, "validation_error", f"{name} must look like 'kind:id'", [{"field": name}])
    return kind, ident


@router.get("/events", response=EventPage, summary="Audit trail: the workspace's domain events")
def list_events(request: HttpRequest, filters: Query[EventFilters]) -> HttpResponse:
    principal = need(request, "audit:read")
    qs = Event.objects.filter(workspace_id=principal.workspace_id)
    if filters.type:
        qs = (
            qs.filter(type__startswith=filters.type[:-1])
            if filters.type.endswith("*")
            else qs.filter(type=filters.type)
        )
    if filters.actor:
        kind, ident = _split(filters.actor, "actor")
        qs = qs.filter(actor_type=kind, **({"actor_id": ident} if ident else {}))
    if filters.subject:
        kind, ident = _split(filters.subject, "subject")
        qs = qs.filter(subject_type=kind, subject_id=ident)
    if filters.since:
        qs = qs.filter(occurred_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(occurred_at__lt=filters.until)
    # The audit list is the busiest read: plain rows and orjson instead of model objects and validation.
    rows = qs.values(
        "id",
        "public_id",
        "type",
        "subject_type",
        "subject_id",
        "actor_type",
        "actor_id",
        "payload",
        "occurred_at",
    )
    page = paginate_values(rows, cursor=filters.cursor, limit=filters.limit)
    items = [
        {
            "id": r["public_id"],
            "type": r["type"],
            "subject_type": r["subject_type"],
            "subject_id": r["subject_id"],
            "actor": f"{r['actor_type']}:{r['actor_id']}" if r["actor_id"] else r["actor_type"],
            "payload": r["payload"],
            "occurred_at": r["occurred_at"],
        }
        for r in page.items
    ]
    return json_response({"items": items, "next_cursor": page.next_cursor})


@router.get("/events/{event_id}", response=EventOut, summary="One event")
def get_event(request: HttpRequest, event_id: str) -> dict[str, Any]:
    principal = need(request, "audit:read")
    ev = Event.objects.get(workspace_id=principal.workspace_id, public_id=event_id)
    return _event_out(ev)


@router.get("/event-deliveries/failed", response=DeliveryPage, summary="Dead letters")
def failed_deliveries(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    principal = need(request, "events:manage")
    page = paginate(delivery.dead_letters(principal.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_delivery_out(d) for d in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/events/{event_id}/deliveries/{handler}/retry", response=DeliveryOut, summary="Retry a dead letter"
)
def retry_delivery(request: HttpRequest, event_id: str, handler: str) -> dict[str, Any]:
    principal = need(request, "events:manage")
    d = EventDelivery.objects.select_related("event").get(
        workspace_id=principal.workspace_id, event__public_id=event_id, handler=handler
    )
    if d.status != DeliveryStatus.DEAD:
        raise ApiError(409, "not_dead", "Only dead letters can be retried.", {"status": d.status})
    with transaction.atomic(durable=True):
        delivery.retry_dead(workspace_id=principal.workspace_id, ids=[d.pk])
    d.refresh_from_db()
    return _delivery_out(d)
