"""The customer's own cabinet: server-rendered pages over `carekit.customers.public`.

Entry points: each view that writes opens the durable transaction. The signed-in customer is kept in
the session per workspace; staff sign-in is separate and grants nothing here.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from carekit.conversations import public as conversations
from carekit.core.errors import DomainError
from carekit.core.models import Workspace
from carekit.customers import public as customers
from carekit.loyalty import public as loyalty

SESSION_KEY = "carekit_portal"
PENDING_EMAIL_KEY = "carekit_portal_email"


def _workspace(slug: str) -> Workspace:
    ws = Workspace.objects.filter(slug=slug).first()
    if ws is None:
        raise Http404
    return ws


def _signed_in(request: HttpRequest, ws: Workspace) -> str | None:
    return (request.session.get(SESSION_KEY) or {}).get(str(ws.pk))


def _points(workspace_id: int, customer_id: str) -> dict:
    summary = loyalty.account_summary(workspace_id, customer_id, history=10)
    recent = [(loyalty.entry_kind_label(kind), pts, at) for kind, pts, at in summary.recent]
    return {"balances": summary.balances, "lots": summary.lots, "recent": recent}


def cabinet(request: HttpRequest, ws: str) -> HttpResponse:
    workspace = _workspace(ws)
    customer_id = _signed_in(request, workspace)
    view = customers.cabinet_view(workspace.pk, customer_id) if customer_id else None
    if view is None:
        return redirect("portal:sign_in", ws=ws)
    ctx = {
        "ws": workspace,
        "me": view,
        "channels": customers.CABINET_CHANNELS,
        "history": conversations.customer_history(workspace.pk, view.customer_id),
        "points": _points(workspace.pk, view.customer_id),
    }
    return render(request, "portal/cabinet.html", ctx)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest, ws: str) -> HttpResponse:
    workspace = _workspace(ws)
    if request.method == "POST":
        email = request.POST.get("email", "").strip()
        try:
            with transaction.atomic(durable=True):
                customers.cabinet_sign_in_send(
                    workspace_id=workspace.pk,
                    email=email,
                    link_base=request.build_absolute_uri(f"/portal/{workspace.slug}/sign-in/link/"),
                )
        except DomainError as exc:
            return render(request, "portal/sign_in.html", {"ws": workspace, "error": exc.message}, status=400)
        request.session[PENDING_EMAIL_KEY] = email
        return redirect("portal:sign_in_code", ws=ws)
    return render(request, "portal/sign_in.html", {"ws": workspace})


@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest, ws: str) -> HttpResponse:
    workspace = _workspace(ws)
    email = request.session.get(PENDING_EMAIL_KEY, "")
    if not email:
        return redirect("portal:sign_in", ws=ws)
    if request.method == "POST":
        with transaction.atomic(durable=True):
            customer_id = customers.cabinet_sign_in_check(
                workspace_id=workspace.pk, email=email, code=request.POST.get("code", "")
            )
        if customer_id is None:
            ctx = {"ws": workspace, "error": _("The code is not correct or has expired.")}
            return render(request, "portal/sign_in_code.html", ctx, status=400)
        return _enter(request, workspace, customer_id)
    return render(request, "portal/sign_in_code.html", {"ws": workspace})


def _enter(request: HttpRequest, workspace: Workspace, customer_id: str) -> HttpResponse:
    request.session.cycle_key()
    signed = dict(request.session.get(SESSION_KEY) or {})
    signed[str(workspace.pk)] = customer_id
    request.session[SESSION_KEY] = signed
    request.session.pop(PENDING_EMAIL_KEY, None)
    return redirect("portal:cabinet", ws=workspace.slug)


@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest, ws: str, token: str) -> HttpResponse:
    """A magic link signs in on POST only, so that mail scanners that open links do not use it up."""
    workspace = _workspace(ws)
    if request.method == "POST":
        with transaction.atomic(durable=True):
            customer_id = customers.cabinet_sign_in_link(workspace_id=workspace.pk, token=token)
        if customer_id is None:
            ctx = {"ws": workspace, "error": _("This link is not valid any more.")}
            return render(request, "portal/sign_in.html", ctx, status=400)
        return _enter(request, workspace, customer_id)
    return render(request, "portal/sign_in_link.html", {"ws": workspace})


@require_POST
def sign_out(request: HttpRequest, ws: str) -> HttpResponse:
    workspace = _workspace(ws)
    signed = dict(request.session.get(SESSION_KEY) or {})
    signed.pop(str(workspace.pk), None)
    request.session[SESSION_KEY] = signed
    return redirect("portal:sign_in", ws=ws)


def _require(request: HttpRequest, ws: str) -> tuple[Workspace, str]:
    workspace = _workspace(ws)
    customer_id = _signed_in(request, workspace)
    if customer_id is None:
        raise Http404
    return workspace, customer_id


@require_POST
def consents(request: HttpRequest, ws: str) -> HttpResponse:
    workspace, customer_id = _require(request, ws)
    try:
        with transaction.atomic(durable=True):
            customers.cabinet_consent_set(
                workspace_id=workspace.pk,
                customer_id=customer_id,
                purpose=request.POST.get("purpose", ""),
                channel=request.POST.get("channel", ""),
                granted=request.POST.get("granted") == "1",
                source="portal",
            )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your choice is saved."))
    return redirect("portal:cabinet", ws=ws)


@require_POST
def profile(request: HttpRequest, ws: str) -> HttpResponse:
    workspace, customer_id = _require(request, ws)
    phones = [p for p in request.POST.get("phones", "").replace(",", "\n").splitlines() if p.strip()]
    try:
        with transaction.atomic(durable=True):
            customers.cabinet_profile_update(
                workspace_id=workspace.pk,
                customer_id=customer_id,
                first_name=request.POST.get("first_name", "")[:120],
                last_name=request.POST.get("last_name", "")[:120],
                phones=phones,
                preferred_channel=request.POST.get("preferred_channel", ""),
            )
    except (DomainError, ValidationError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, _("Your details are saved."))
    return redirect("portal:cabinet", ws=ws)


@require_POST
def export(request: HttpRequest, ws: str) -> HttpResponse:
    workspace, customer_id = _require(request, ws)
    with transaction.atomic(durable=True):
        customers.cabinet_export_request(workspace_id=workspace.pk, customer_id=customer_id)
    messages.success(request, _("Your data is being prepared; the download appears here when ready."))
    return redirect("portal:cabinet", ws=ws)


def export_download(request: HttpRequest, ws: str, export_id: str) -> HttpResponse:
    workspace, customer_id = _require(request, ws)
    data = customers.cabinet_export_take(
        workspace_id=workspace.pk, customer_id=customer_id, export_id=export_id
    )
    if data is None:
        raise Http404
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="my-data.zip"'
    return response


@require_POST
def erase(request: HttpRequest, ws: str) -> HttpResponse:
    workspace, customer_id = _require(request, ws)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm."))
        return redirect("portal:cabinet", ws=ws)
    with transaction.atomic(durable=True):
        customers.cabinet_erase(workspace_id=workspace.pk, customer_id=customer_id)
    request.session.flush()
    return render(request, "portal/erased.html", {"ws": workspace})


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, ws: str, token: str) -> HttpResponse:
    """Two clicks at most: the link in the message, then this page's button. No sign-in."""
    workspace = _workspace(ws)
    read = customers.unsubscribe_read(token)
    if read is None or read[0] != workspace.pk:
        raise Http404
    _ws_id, customer_id, channel = read
    done = False
    if request.method == "POST":
        with transaction.atomic(durable=True):
            done = customers.cabinet_consent_set(
                workspace_id=workspace.pk,
                customer_id=customer_id,
                purpose="marketing",
                channel=channel,
                granted=False,
                source="unsubscribe_link",
            )
        if not done:
            raise Http404
    return render(request, "portal/unsubscribe.html", {"ws": workspace, "channel": channel, "done": done})
