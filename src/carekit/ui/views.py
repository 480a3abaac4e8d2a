"""Shell pages: dashboard, workspace switch, notifications, audit log, failed events, webhook deliveries.

Reads go through selectors, writes through services, each write inside the view's durable transaction.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from carekit.accounts import public as accounts
from carekit.core.api import ApiError, Principal, paginate
from carekit.core.errors import Conflict
from carekit.core.events import delivery as event_delivery
from carekit.core.models import DeliveryStatus as EventDeliveryStatus
from carekit.core.models import Event, EventDelivery
from carekit.core.realtime import notifications
from carekit.core.webhooks import selectors as webhook_selectors
from carekit.core.webhooks import services as webhook_services
from carekit.core.webhooks.enums import DeliveryStatus
from carekit.core.webhooks.models import WebhookDelivery
from carekit.ui.shell import workspace_view

PAGE = 50


def _page(request: HttpRequest, qs: Any) -> Any:
    try:
        return paginate(qs, cursor=request.GET.get("cursor") or None, limit=PAGE)
    except ApiError:  # a stale or edited cursor: start from the first page
        return paginate(qs, cursor=None, limit=PAGE)


def _back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(nxt)
    return redirect(fallback)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@workspace_view()
def dashboard(request: HttpRequest, p: Principal) -> HttpResponse:
    since = timezone.now() - timedelta(days=1)
    cards = [
        {
            "label": _("Events in the last 24 hours"),
            "value": Event.objects.filter(workspace_id=p.workspace_id, occurred_at__gte=since).count(),
            "url": reverse("ui:audit") if p.has("audit:read") else "",
        },
        {
            "label": _("Failed events"),
            "value": event_delivery.dead_letters(p.workspace_id).count(),
            "url": reverse("ui:dead_letters") if p.has("events:manage") else "",
        },
        {
            "label": _("Failed webhook deliveries"),
            "value": webhook_selectors.deliveries(p.workspace_id, status=DeliveryStatus.FAILED).count(),
            "url": reverse("ui:webhooks") if p.has("webhooks:manage") else "",
        },
        {
            "label": _("Unread notifications"),
            "value": notifications.unread_count(p.workspace_id, p.actor.id),
            "url": reverse("ui:notifications"),
        },
    ]
    return render(request, "ui/dashboard.html", {"cards": cards})


@login_required
@require_POST
def switch_workspace(request: HttpRequest) -> HttpResponse:
    if not accounts.switch_workspace(request, request.POST.get("workspace", "")):
        raise Http404
    return _back(request, "home")


# --- notifications ----------------------------------------------------------------------------------


def _bell_items(p: Principal) -> list[dict[str, Any]]:
    return [
        {
            "id": n.public_id,
            "title": notifications.title_of(n),
            "created_at": n.created_at,
            "read": bool(n.read_at),
        }
        for n in notifications.recent(p.workspace_id, p.actor.id)
    ]


@workspace_view()
@require_GET
def bell(request: HttpRequest, p: Principal) -> HttpResponse:
    return render(request, "ui/_bell_panel.html", {"items": _bell_items(p)})


@workspace_view()
def notifications_page(request: HttpRequest, p: Principal) -> HttpResponse:
    return render(request, "ui/notifications.html", {"items": _bell_items(p)})


@workspace_view()
@require_POST
def notifications_read(request: HttpRequest, p: Principal) -> HttpResponse:
    with transaction.atomic(durable=True):
        notifications.notification_mark_read(actor=p.actor, workspace_id=p.workspace_id, user_id=p.actor.id)
    if _is_htmx(request):
        return render(request, "ui/_bell_panel.html", {"items": _bell_items(p)})
    return _back(request, "ui:notifications")


# --- audit log --------------------------------------------------------------------------------------


@workspace_view("audit:read")
def audit(request: HttpRequest, p: Principal) -> HttpResponse:
    qs = Event.objects.filter(workspace_id=p.workspace_id)
    kind = request.GET.get("type", "").strip()
    if kind:
        qs = qs.filter(type__startswith=kind)
    page = _page(request, qs)
    return render(
        request, "ui/audit.html", {"events": page.items, "next_cursor": page.next_cursor, "type": kind}
    )


# --- failed events (dead letters) -------------------------------------------------------------------


@workspace_view("events:manage")
def dead_letters(request: HttpRequest, p: Principal) -> HttpResponse:
    page = _page(request, event_delivery.dead_letters(p.workspace_id))
    return render(request, "ui/dead_letters.html", {"rows": page.items, "next_cursor": page.next_cursor})


@workspace_view("events:manage")
@require_POST
def dead_letter_retry(request: HttpRequest, p: Principal, event_id: str, handler: str) -> HttpResponse:
    row = (
        EventDelivery.objects.select_related("event")
        .filter(
            workspace_id=p.workspace_id,
            event__public_id=event_id,
            handler=handler,
            status=EventDeliveryStatus.DEAD,
        )
        .first()
    )
    if row is None:
        raise Http404
    with transaction.atomic(durable=True):
        event_delivery.retry_dead(workspace_id=p.workspace_id, ids=[row.pk])
    row.refresh_from_db()
    if _is_htmx(request):
        return render(request, "ui/_dead_letter_row.html", {"row": row, "retried": True})
    messages.success(request, _("The event was queued for another attempt."))
    return _back(request, "ui:dead_letters")


# --- webhooks ---------------------------------------------------------------------------------------


@workspace_view("webhooks:manage")
def webhooks(request: HttpRequest, p: Principal) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    page = _page(request, webhook_selectors.deliveries(p.workspace_id, status=status or None))
    return render(
        request,
        "ui/webhooks.html",
        {
            "subscriptions": webhook_selectors.subscriptions(p.workspace_id).order_by("-id")[:50],
            "deliveries": page.items,
            "next_cursor": page.next_cursor,
            "status": status,
            "statuses": DeliveryStatus.choices,
        },
    )


@workspace_view("webhooks:manage")
def webhook_delivery(request: HttpRequest, p: Principal, delivery_id: str) -> HttpResponse:
    try:
        d = webhook_selectors.delivery(p.workspace_id, delivery_id)
    except WebhookDelivery.DoesNotExist:
        raise Http404 from None
    return render(request, "ui/webhook_delivery.html", {"d": d, "attempts": list(d.attempt_rows.all())})


@workspace_view("webhooks:manage")
@require_POST
def webhook_resend(request: HttpRequest, p: Principal, delivery_id: str) -> HttpResponse:
    try:
        d = webhook_selectors.delivery(p.workspace_id, delivery_id)
    except WebhookDelivery.DoesNotExist:
        raise Http404 from None
    error = ""
    try:
        with transaction.atomic(durable=True):
            webhook_services.delivery_resend(actor=p.actor, delivery=d)
    except Conflict as exc:
        error = exc.message
    d = webhook_selectors.delivery(p.workspace_id, delivery_id)
    if _is_htmx(request):
        return render(request, "ui/_delivery_row.html", {"d": d, "error": error, "resent": not error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The delivery was queued to be sent again."))
    return _back(request, "ui:webhooks")
