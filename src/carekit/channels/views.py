"""Channel settings pages for admins (create, configure, health, secret rotation, quarantine,
deactivate) and the agents' form to log a phone call. Each write is one service call inside the view's
durable transaction; provider calls (Telegram's setWebhook) run after it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from carekit.channels import adapters, selectors, services
from carekit.channels.adapters.phone.calls import CallIn, call_record
from carekit.channels.enums import ChannelKind
from carekit.channels.models import Channel
from carekit.core.api import Principal
from carekit.core.errors import DomainError
from carekit.core.models import Workspace
from carekit.ui.public import workspace_view

READ = "channels:read"
MANAGE = "channels:manage"

# Labels and widgets of the settings adapters declare; a key not listed shows under its own name.
LABELS: dict[str, Any] = {
    "mode": gettext_lazy("Mode"),
    "bot_username": gettext_lazy("Bot user name"),
    "api_base_url": gettext_lazy("Bot API address"),
    "webhook_base_url": gettext_lazy("Public address of this Carekit (for the webhook)"),
    "bot_token": gettext_lazy("Bot token"),
    "url": gettext_lazy("Gateway URL"),
    "method": gettext_lazy("HTTP method"),
    "content_type": gettext_lazy("Payload type"),
    "payload_template": gettext_lazy("Payload template ({to}, {text}, {sender})"),
    "auth_header": gettext_lazy("Auth header name"),
    "auth_value": gettext_lazy("Auth header value"),
    "sender": gettext_lazy("Sender name or number"),
    "number": gettext_lazy("Phone number"),
    "callback_sla_minutes": gettext_lazy("Call back a missed call within (minutes)"),
}
CHOICES: dict[str, tuple[tuple[str, Any], ...]] = {
    "mode": (
        ("webhook", gettext_lazy("Webhook: Telegram posts updates to Carekit")),
        ("polling", gettext_lazy("Polling: Carekit fetches updates (getUpdates)")),
    ),
    "method": (("POST", "POST"), ("GET", "GET")),
    "content_type": (
        ("application/json", "application/json"),
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
    ),
}
TEXTAREAS = {"payload_template"}


def _fields(kind: str, channel: Channel | None, posted: dict[str, str] | None = None) -> list[dict[str, Any]]:
    try:
        adapter = adapters.get(kind)
    except DomainError:
        raise Http404 from None
    out = []
    for key in adapter.config_keys:
        stored = channel.config.get(key, "") if channel else ""
        value = posted.get(key, "") if posted is not None else stored
        out.append(
            {
                "name": f"config.{key}",
                "key": key,
                "label": LABELS.get(key, key),
                "value": "" if value is None else value,
                "choices": CHOICES.get(key, ()),
                "textarea": key in TEXTAREAS,
                "secret": False,
            }
        )
    for key in adapter.secret_keys:
        out.append(
            {
                "name": f"secrets.{key}",
                "key": key,
                "label": LABELS.get(key, key),
                "value": "",
                "choices": (),
                "textarea": False,
                "secret": True,
                "stored": bool(channel and channel.secrets.get(key)),
            }
        )
    return out


def _posted(request: HttpRequest, prefix: str) -> dict[str, str]:
    return {k[len(prefix) :]: str(v).strip() for k, v in request.POST.items() if k.startswith(prefix)}


def _channel(p: Principal, channel_id: str) -> Channel:
    ch = selectors.channel_get(p.workspace_id, channel_id)
    if ch is None:
        raise Http404
    return ch


def _webhook_url(request: HttpRequest, ch: Channel) -> str:
    if ch.kind == ChannelKind.TELEGRAM:
        return request.build_absolute_uri(reverse("channels:telegram_webhook", args=[ch.public_key]))
    if ch.kind == ChannelKind.PHONE:
        return request.build_absolute_uri(reverse("channels:phone_webhook", args=[ch.public_key]))
    return ""


@workspace_view(MANAGE)
def channel_list(request: HttpRequest, p: Principal) -> HttpResponse:
    rows = [(ch, selectors.channel_health(ch)) for ch in selectors.channels_of(p.workspace_id)]
    kinds = [(k, label) for k, label in ChannelKind.choices if k in adapters.kinds()]
    return render(request, "channels/list.html", {"rows": rows, "kinds": kinds})


@workspace_view(MANAGE)
def channel_new(request: HttpRequest, p: Principal, kind: str) -> HttpResponse:
    if kind not in ChannelKind.values:
        raise Http404
    error = ""
    posted = None
    if request.method == "POST":
        posted = _posted(request, "config.")
        try:
            with transaction.atomic(durable=True):
                ch = services.channel_create(
                    actor=p.actor,
                    workspace=Workspace.objects.get(pk=p.workspace_id),
                    kind=kind,
                    name=request.POST.get("name", ""),
                    config={k: v for k, v in posted.items() if v != ""},
                    secrets={k: v for k, v in _posted(request, "secrets.").items() if v},
                )
        except DomainError as exc:
            error = exc.message
        else:
            _show_once(request, ch, ch.secrets.get(services.SIGNING, ""))
            return redirect("channels:detail", channel_id=ch.public_id)
    return render(
        request,
        "channels/new.html",
        {
            "kind": kind,
            "kind_label": ChannelKind(kind).label,
            "fields": _fields(kind, None, posted),
            "name": request.POST.get("name", ""),
            "error": error,
        },
        status=422 if error else 200,
    )


ONCE = "channels.secret_once"


def _show_once(request: HttpRequest, ch: Channel, secret: str, notice: str = "") -> None:
    """The next page of this channel shows the secret (and notice), then it is gone: a redirect after
    the POST keeps a reload from creating or rotating again."""
    request.session[ONCE] = {"channel": ch.public_id, "secret": secret, "notice": notice}


def _detail(
    request: HttpRequest, p: Principal, ch: Channel, *, error: str = "", notice: str = "", status: int = 200
) -> HttpResponse:
    secret = ""
    once = request.session.get(ONCE)
    if once and once.get("channel") == ch.public_id:
        del request.session[ONCE]
        secret, notice = once.get("secret", ""), notice or once.get("notice", "")
    return render(
        request,
        "channels/detail.html",
        {
            "ch": ch,
            "health": selectors.channel_health(ch),
            "fields": _fields(ch.kind, ch),
            "quarantine": list(selectors.quarantine_of(p.workspace_id, ch)[:50]),
            "secret": secret,
            "error": error,
            "notice": notice,
            "webhook_url": _webhook_url(request, ch),
        },
        status=status,
    )


@workspace_view(MANAGE)
def channel_detail(request: HttpRequest, p: Principal, channel_id: str) -> HttpResponse:
    ch = _channel(p, channel_id)
    if request.method != "POST":
        return _detail(request, p, ch)
    try:
        with transaction.atomic(durable=True):
            ch = services.channel_update(
                actor=p.actor,
                channel=ch,
                name=request.POST.get("name", ch.name),
                config=_posted(request, "config."),
                secrets={k: v for k, v in _posted(request, "secrets.").items() if v},
            )
    except DomainError as exc:
        return _detail(request, p, _channel(p, channel_id), error=exc.message, status=422)
    return _detail(request, p, ch, notice=_("Saved."))


@require_POST
@workspace_view(MANAGE)
def channel_rotate(request: HttpRequest, p: Principal, channel_id: str) -> HttpResponse:
    ch = _channel(p, channel_id)
    with transaction.atomic(durable=True):
        new = services.channel_rotate_secret(actor=p.actor, channel=ch)
    ch.refresh_from_db()
    notice = _("The new secret is shown once; the old one works for 24 more hours.")
    if ch.kind == ChannelKind.TELEGRAM and ch.is_active:
        notice += " " + _telegram_connect(ch)
    _show_once(request, ch, new, notice)
    return redirect("channels:detail", channel_id=ch.public_id)


@require_POST
@workspace_view(MANAGE)
def channel_active(request: HttpRequest, p: Principal, channel_id: str) -> HttpResponse:
    ch = _channel(p, channel_id)
    with transaction.atomic(durable=True):
        services.channel_update(actor=p.actor, channel=ch, is_active=request.POST.get("active") == "1")
    return redirect("channels:detail", channel_id=ch.public_id)


def _telegram_connect(ch: Channel) -> str:
    from carekit.channels.adapters.telegram import polling

    error = polling.webhook_register(ch)
    if error:
        return _("Telegram refused: %(error)s") % {"error": error}
    if ch.config.get("mode") == "polling":
        return _("The webhook is removed; updates are fetched with getUpdates.")
    return _("Telegram will post updates to the webhook.")


@require_POST
@workspace_view(MANAGE)
def channel_connect(request: HttpRequest, p: Principal, channel_id: str) -> HttpResponse:
    ch = _channel(p, channel_id)
    if ch.kind != ChannelKind.TELEGRAM:
        raise Http404
    return _detail(request, p, ch, notice=_telegram_connect(ch))


@require_POST
@workspace_view(MANAGE)
def quarantine_dismiss(request: HttpRequest, p: Principal, channel_id: str, item_id: str) -> HttpResponse:
    ch = _channel(p, channel_id)
    item = selectors.quarantine_of(p.workspace_id, ch).filter(public_id=item_id).first()
    if item is None:
        raise Http404
    with transaction.atomic(durable=True):
        services.quarantine_dismiss(actor=p.actor, item=item)
    return redirect("channels:detail", channel_id=ch.public_id)


@require_POST
@workspace_view("inbox:write")
def call_log(request: HttpRequest, p: Principal) -> HttpResponse:
    """An agent logs a call from the conversation page; back to where they came from."""
    from carekit.accounts import public as accounts

    ch = selectors.channel_get(p.workspace_id, request.POST.get("channel_id", ""))
    ch = ch or selectors.channels_of(p.workspace_id, kind=ChannelKind.PHONE).filter(is_active=True).first()
    back = request.POST.get("next", "") or reverse("conversations:inbox")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("conversations:inbox")
    if ch is None:
        return render(
            request,
            "channels/call_error.html",
            {"error": _("No phone channel is set up."), "back": back},
            status=422,
        )
    try:
        minutes = float(request.POST.get("minutes") or 0)
    except ValueError:
        minutes = -1
    me = next((a for a in accounts.agents(p.workspace_id) if a.user_id == p.actor.id), None)
    try:
        with transaction.atomic(durable=True):
            call_record(
                actor=p.actor,
                channel=ch,
                call=CallIn(
                    direction=request.POST.get("direction", "outbound"),
                    number=request.POST.get("number", ""),
                    outcome=request.POST.get("outcome", ""),
                    duration_seconds=int(minutes * 60) if minutes >= 0 else -1,
                    note=request.POST.get("note", "")[:2000],
                    customer_id=request.POST.get("customer_id", ""),
                ),
                author_id=me.member_id if me else "",
            )
    except DomainError as exc:
        return render(request, "channels/call_error.html", {"error": exc.message, "back": back}, status=422)
    return redirect(back)
