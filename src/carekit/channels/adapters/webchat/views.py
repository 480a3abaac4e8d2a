"""HTTP side of the widget: the script, its translated labels, the HTTP fallback (state, message,
upload) sharing `session.py` with the websocket, and the demo shop page.

These endpoints are public (the widget runs on the shop's own pages): they are named by the channel's
public key, answer CORS for the channel's allowed origins, and carry no session or CSRF token.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template import Context, Engine
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from carekit.channels.adapters.webchat import session as sessions
from carekit.channels.models import Channel
from carekit.conversations import public as conversations

HERE = Path(__file__).parent
SCRIPT = HERE / "static" / "webchat" / "widget.js"
LANGUAGES = ("ru", "en")
UPLOAD_OVERHEAD = 64 * 1024  # multipart framing around the file


@lru_cache(maxsize=1)
def _engine() -> Engine:
    return Engine(dirs=[str(HERE / "templates")], libraries={"i18n": "django.templatetags.i18n"})


def language_of(request: HttpRequest, given: str = "") -> str:
    lang = (given or request.GET.get("lang", "")).lower()[:2]
    if lang in LANGUAGES:
        return lang
    accept = request.headers.get("Accept-Language", "").lower()
    return "ru" if accept.startswith("ru") else "en"


def labels() -> dict[str, str]:
    """Every string the widget shows, in the active language (the catalogues in locale/ hold them)."""
    return {
        "open": _("Chat with us"),
        "title": _("Support"),
        "close": _("Close"),
        "placeholder": _("Write a message…"),
        "send": _("Send"),
        "attach": _("Attach a file"),
        "prechat_intro": _("Introduce yourself so that we can help you faster (optional)."),
        "name": _("Your name"),
        "contact": _("Email or phone (optional)"),
        "start": _("Start the chat"),
        "skip": _("Skip"),
        "code_intro": _(
            "We sent a one-time code to this contact. Enter it to see your orders and earlier conversations."
        ),
        "code": _("Code"),
        "verify": _("Confirm"),
        "verified": _("Confirmed: you can see your orders and earlier conversations."),
        "offline_intro": _("We are offline now. Leave a message and we will answer when we are back."),
        "offline_opens": _("We open again at %(time)s."),
        "offline_text": _("Your message"),
        "offline_send": _("Leave a message"),
        "offline_sent": _("Thank you! We will answer here when we are back."),
        "orders": _("Your orders"),
        "reconnecting": _("Reconnecting…"),
        "sending": _("Sending…"),
        "agent": _("Support"),
        "you": _("You"),
        "typing": _("Support is typing…"),
        "token_refused": _("We could not confirm your sign-in on the shop; you are chatting as a guest."),
        "too_large": _("The file is too large (at most %(size)s)."),
        "empty": _("Hello! How can we help you?"),
    }


def _cors(request: HttpRequest, channel: Channel | None, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if origin and (channel is None or sessions.origin_allowed(channel, origin)):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Vary"] = "Origin"
    return response


def _error(err: sessions.WidgetError) -> JsonResponse:
    body = {"error": {"code": err.code, "message": err.message, "retry_after": err.retry_after}}
    resp = JsonResponse(body, status=err.status)
    if err.retry_after:
        resp["Retry-After"] = str(err.retry_after)
    return resp


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def public_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """CORS, preflight and the error envelope around a widget endpoint named by the channel key."""

    @csrf_exempt
    def wrapped(request: HttpRequest, key: str) -> HttpResponse:
        try:
            channel = sessions.channel_for(key)
        except sessions.WidgetError as err:
            return _cors(request, None, _error(err))
        if request.method == "OPTIONS":
            return _cors(request, channel, HttpResponse(status=204))
        if request.headers.get("Origin") and not sessions.origin_allowed(channel, request.headers["Origin"]):
            return _error(
                sessions.WidgetError(_("This site may not use this chat."), code="origin_refused", status=403)
            )
        with translation.override(language_of(request)):
            try:
                return _cors(request, channel, view(request, key))
            except sessions.WidgetError as err:
                return _cors(request, channel, _error(err))

    wrapped.__name__ = view.__name__
    return wrapped


def _json(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise sessions.WidgetError(_("The request is not valid JSON."), code="bad_json") from None
    if not isinstance(data, dict):
        raise sessions.WidgetError(_("The request is not valid JSON."), code="bad_json")
    return data


def _open(request: HttpRequest, key: str, data: dict[str, Any]) -> sessions.Session:
    return sessions.open_session(
        public_key=key,
        visitor=str(data.get("visitor", ""))[:64],
        token=str(data.get("token", ""))[:4096],
        ip=_client_ip(request),
        language=str(data.get("lang", ""))[:8],
    )


def widget_js(request: HttpRequest) -> HttpResponse:
    resp = HttpResponse(SCRIPT.read_bytes(), content_type="text/javascript; charset=utf-8")
    resp["Cache-Control"] = "public, max-age=300"
    resp["Access-Control-Allow-Origin"] = "*"
    return resp


@public_endpoint
def widget_config(request: HttpRequest, key: str) -> HttpResponse:
    channel = sessions.channel_for(key)
    with translation.override(language_of(request)):
        return JsonResponse(
            {
                "title": channel.config.get("title", "") or _("Support"),
                "color": channel.config.get("color", "") or "#2563eb",
                "labels": labels(),
            }
        )


@public_endpoint
def http_state(request: HttpRequest, key: str) -> HttpResponse:
    if request.method != "POST":
        raise sessions.WidgetError("POST", code="method_not_allowed", status=405)
    return JsonResponse(sessions.state(_open(request, key, _json(request))))


@public_endpoint
def http_message(request: HttpRequest, key: str) -> HttpResponse:
    """The fallback when websockets are blocked: the same service, the same idempotency by client id."""
    if request.method != "POST":
        raise sessions.WidgetError("POST", code="method_not_allowed", status=405)
    data = _json(request)
    session = _open(request, key, data)
    message, duplicate = sessions.send_message(
        session, client_id=str(data.get("client_id", ""))[:64], text=str(data.get("text", ""))[:20_000]
    )
    return JsonResponse(
        {"visitor": session.visitor, "message": message, "duplicate": duplicate},
        status=200 if duplicate else 201,
    )


@public_endpoint
def upload(request: HttpRequest, key: str) -> HttpResponse:
    """A file from the visitor, refused before it is read when the body is over the inbox's limit."""
    if request.method != "POST":
        raise sessions.WidgetError("POST", code="method_not_allowed", status=405)
    channel = sessions.channel_for(key)
    limits = conversations.attachment_limits(channel.workspace_id)
    too_large = sessions.WidgetError(
        _("The file is larger than the limit of %(limit)s bytes.") % {"limit": limits.max_bytes},
        code="attachment_too_large",
        status=413,
    )
    if int(request.META.get("CONTENT_LENGTH") or 0) > limits.max_bytes + UPLOAD_OVERHEAD:
        raise too_large
    session = _open(request, key, request.POST.dict())
    f = request.FILES.get("file")
    if f is None:
        raise sessions.WidgetError(_("No file was sent."), code="no_file")
    if f.size is not None and f.size > limits.max_bytes:
        raise too_large
    attachment = conversations.NewAttachment(
        filename=(f.name or "file")[:200],
        content_type=f.content_type or "application/octet-stream",
        content=f.read(),
    )
    message, duplicate = sessions.send_message(
        session,
        client_id=str(request.POST.get("client_id", ""))[:64],
        text=str(request.POST.get("text", ""))[:20_000],
        attachments=(attachment,),
    )
    return JsonResponse(
        {"visitor": session.visitor, "message": message, "duplicate": duplicate},
        status=200 if duplicate else 201,
    )


def demo_shop(request: HttpRequest) -> HttpResponse:
    """A fake shop page with the widget embedded, for `make demo` and the browser tests."""
    from carekit.channels.adapters.webchat.demo import demo_channel

    channel = demo_channel(request.GET.get("key", ""))
    if channel is None:
        raise Http404("no demo web chat channel; run `carekit demo`")
    lang = language_of(request)
    with translation.override(lang):
        html = (
            _engine()
            .get_template("webchat/demo_shop.html")
            .render(
                Context(
                    {
                        "key": channel.public_key,
                        "lang": lang,
                        "script": request.build_absolute_uri("/webchat/widget.js"),
                        "token": request.GET.get("token", ""),
                        "debug": settings.DEBUG,
                    }
                )
            )
        )
    return HttpResponse(html)
