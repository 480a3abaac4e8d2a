"""Route cases for the event log API (see carekit.testing.routes)."""

from __future__ import annotations

from django.db import transaction

from carekit.core.events import Actor, emit
from carekit.core.models import DeliveryStatus, EventDelivery, Workspace
from carekit.testing.routes import RouteCall, route_case


def _event(ws: Workspace, type_: str = "probe.thing.happened"):
    with transaction.atomic():
        return emit(
            workspace_id=ws.pk, type=type_, subject_type="thing", subject_id="t1", actor=Actor.system()
        )


def _dead(ws: Workspace):
    ev = _event(ws)
    EventDelivery.objects.filter(event_id=ev.pk).update(status=DeliveryStatus.DEAD, attempts=8)
    return ev


@route_case("GET", "/events", scope="audit:read")
def _list_events(own: Workspace, other: Workspace) -> RouteCall:
    mine, theirs = _event(own), _event(other)
    return RouteCall("/events", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("GET", "/events/{event_id}", scope="audit:read")
def _get_event(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/events/{_event(other).public_id}")


@route_case("GET", "/event-deliveries/failed", scope="events:manage")
def _failed(own: Workspace, other: Workspace) -> RouteCall:
    mine, theirs = _dead(own), _dead(other)
    return RouteCall(
        "/event-deliveries/failed",
        kind="list",
        own_ids={mine.public_id},
        foreign_ids={theirs.public_id},
        item_id=lambda item: item["event"]["id"],
    )


@route_case("POST", "/events/{event_id}/deliveries/{handler}/retry", scope="events:manage")
def _retry(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/events/{_dead(other).public_id}/deliveries/probe.record/retry")
