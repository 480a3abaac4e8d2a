"""Route cases for the channels API (see carekit.testing.routes)."""

from __future__ import annotations

from django.db import transaction

from carekit.channels import services
from carekit.channels.models import Channel
from carekit.core.models import Workspace
from carekit.testing.routes import RouteCall, route_case
from carekit.testing.tenants import SYSTEM


def _phone(ws: Workspace) -> Channel:
    with transaction.atomic():
        return services.channel_create(actor=SYSTEM, workspace=ws, kind="phone", name=f"Line {ws.pk}")


@route_case("GET", "/channels", scope="channels:read")
def _list(own, other) -> RouteCall:
    mine, theirs = _phone(own), _phone(other)
    return RouteCall("/channels", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("POST", "/channels", scope="channels:manage")
def _create(own, other) -> RouteCall:
    return RouteCall("/channels", {"kind": "phone", "name": "Office"}, kind="plain")


@route_case("GET", "/channels/{channel_id}", scope="channels:read")
def _get(own, other) -> RouteCall:
    return RouteCall(f"/channels/{_phone(other).public_id}")


@route_case("PATCH", "/channels/{channel_id}", scope="channels:manage")
def _update(own, other) -> RouteCall:
    return RouteCall(f"/channels/{_phone(other).public_id}", {"name": "Renamed"})


@route_case("POST", "/channels/{channel_id}/rotate", scope="channels:manage")
def _rotate(own, other) -> RouteCall:
    return RouteCall(f"/channels/{_phone(other).public_id}/rotate", {})


@route_case("GET", "/channels/{channel_id}/quarantine", scope="channels:read")
def _quarantine(own, other) -> RouteCall:
    return RouteCall(f"/channels/{_phone(other).public_id}/quarantine")


@route_case("POST", "/channels/{channel_id}/calls", scope="inbox:write")
def _call(own, other) -> RouteCall:
    body = {"direction": "inbound", "number": "+79161234567", "outcome": "missed"}
    return RouteCall(f"/channels/{_phone(other).public_id}/calls", body)
