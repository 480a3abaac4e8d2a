"""The event log through the API: the audit trail with filters, and dead letters with retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from carekit.core.api import ApiError, need, paginate
from carekit.core.api.pagination import check_limit, cursor_pk, json_response, page_of
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


# The audit list is the busiest read, and the ORM's query building and row conversion cost more CPU
# than the database did (docs/performance.md): one SQL statement assembled from fixed fragments, the
# payload passed through as the database's JSON text (never parsed and dumped again), orjson output
# without per-field validation. The workspace condition is always the first one.
_LIST_COLUMNS = (
    "id, public_id, type, subject_type, subject_id, actor_type, actor_id, CAST(payload AS TEXT), occurred_at"
)


def _event_rows(workspace_id: int, filters: EventFilters) -> list[tuple[Any, ...]]:
    where = ["workspace_id = %s"]
    params: list[Any] = [workspace_id]
    if filters.type:
        if filters.type.endswith("*"):
            prefix = filters.type[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("type LIKE %s ESCAPE '\\'")
            params.append(prefix + "%")
        else:
            where.append("type = %s")
            params.append(filters.type)
    if filters.actor:
        kind, ident = _split(filters.actor, "actor")
        where.append("actor_type = %s")
        params.append(kind)
        if ident:
            where.append("actor_id = %s")
            params.append(ident)
    if filters.subject:
        kind, ident = _split(filters.subject, "subject")
        where += ["subject_type = %s", "subject_id = %s"]
        params += [kind, ident]
    if filters.since:
        where.append("occurred_at >= %s")
        params.append(filters.since)
    if filters.until:
        where.append("occurred_at < %s")
        params.append(filters.until)
    last_pk = cursor_pk(filters.cursor)
    if last_pk is not None:
        where.append("id < %s")
        params.append(last_pk)
    params.append(filters.limit + 1)
    # every fragment is a constant of this module; values travel only as parameters
    sql = (
        f"SELECT {_LIST_COLUMNS} FROM {Event._meta.db_table} WHERE {' AND '.join(where)} "  # noqa: S608
        "ORDER BY id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    converters = _occurred_at_converters()
    if converters:  # SQLite hands back text; PostgreSQL an aware datetime already
        rows = [(*r[:8], _convert(r[8], converters)) for r in rows]
    return rows


def _occurred_at_converters() -> list[Any]:
    return connection.ops.get_db_converters(Event._meta.get_field("occurred_at").cached_col)


def _convert(value: Any, converters: list[Any]) -> Any:
    expression = Event._meta.get_field("occurred_at").cached_col
    for convert in converters:
        value = convert(value, expression, connection)
    return value


@router.get("/events", response=EventPage, summary="Audit trail: the workspace's domain events")
def list_events(request: HttpRequest, filters: Query[EventFilters]) -> HttpResponse:
    principal = need(request, "audit:read")
    check_limit(filters.limit)
    page = page_of(_event_rows(principal.workspace_id, filters), limit=filters.limit, key=lambda r: r[0])
    items = [
        {
            "id": public_id,
            "type": type_,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "actor": f"{actor_type}:{actor_id}" if actor_id else actor_type,
            "payload": orjson.Fragment(payload),
            "occurred_at": occurred_at,
        }
        for _pk, public_id, type_, subject_type, subject_id, actor_type, actor_id, payload, occurred_at in (
            page.items
        )
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
