"""Route cases for the webhooks API (see carekit.testing.routes)."""

from __future__ import annotations

from django.db import transaction

from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.core.webhooks import services
from carekit.core.webhooks.enums import DeliveryStatus
from carekit.core.webhooks.models import WebhookDelivery, WebhookSubscription
from carekit.testing.routes import RouteCall, route_case

SCOPE = "webhooks:manage"
ACTOR = Actor.system("routes")


def _sub(ws: Workspace) -> WebhookSubscription:
    with transaction.atomic():
        return services.subscription_create(
            actor=ACTOR, workspace=ws, url="http://127.0.0.1:9/hook", event_types=["accounts.*"]
        )


def _delivery(ws: Workspace, status: str = DeliveryStatus.FAILED) -> WebhookDelivery:
    sub = _sub(ws)
    return WebhookDelivery.objects.create(
        workspace=ws,
        subscription=sub,
        event_public_id=f"evt_{sub.public_id[4:]}",
        event_type="accounts.x.y",
        status=status,
    )


@route_case("GET", "/webhooks", scope=SCOPE)
def _list_webhooks(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(
        "/webhooks", kind="list", own_ids={_sub(own).public_id}, foreign_ids={_sub(other).public_id}
    )


@route_case("POST", "/webhooks", scope=SCOPE)
def _create_webhook(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/webhooks", body={"url": "http://127.0.0.1:9/new", "event_types": ["*"]}, kind="plain")


@route_case("GET", "/webhooks/{webhook_id}", scope=SCOPE)
def _get_webhook(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/webhooks/{_sub(other).public_id}")


@route_case("DELETE", "/webhooks/{webhook_id}", scope=SCOPE)
def _deactivate_webhook(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/webhooks/{_sub(other).public_id}")


@route_case("GET", "/webhook-deliveries", scope=SCOPE)
def _list_deliveries(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(
        "/webhook-deliveries",
        kind="list",
        own_ids={_delivery(own).public_id},
        foreign_ids={_delivery(other).public_id},
    )


@route_case("GET", "/webhook-deliveries/{delivery_id}", scope=SCOPE)
def _get_delivery(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/webhook-deliveries/{_delivery(other).public_id}")


@route_case("POST", "/webhook-deliveries/{delivery_id}/resend", scope=SCOPE)
def _resend_delivery(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/webhook-deliveries/{_delivery(other).public_id}/resend")
