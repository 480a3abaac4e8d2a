"""Loyalty screens for workspace users: program settings with the liability report, rules, tiers,
coupons, and a customer's balances, lots and history. Writes go through services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carekit.core.api import Principal, WorkspaceAuth
from carekit.core.api.errors import ApiError
from carekit.core.errors import DomainError
from carekit.loyalty import public, selectors
from carekit.loyalty.forms import CampaignForm, ProgramForm, RuleForm, TierForm
from carekit.loyalty.services import coupons, programs, rules


def _principal(request: HttpRequest, scope: str) -> Principal:
    try:
        principal = WorkspaceAuth()(request)
    except ApiError as exc:
        raise PermissionDenied(exc.message) from exc
    if principal is None or not principal.has(scope):
        raise PermissionDenied(_("You do not have permission for this page."))
    return principal


def _can_manage(principal: Principal) -> bool:
    return principal.has("loyalty:manage")


def _chart(expiring: dict[str, int]) -> list[dict[str, Any]]:
    """Bars for the expiring-points chart, scaled to the largest (drawn as inline SVG, no library)."""
    peak = max(expiring.values(), default=0) or 1
    return [
        {
            "label": days,
            "points": n,
            "height": round(120 * n / peak),
            "y": 130 - round(120 * n / peak),
            "x": 20 + i * 90,
        }
        for i, (days, n) in enumerate(sorted(expiring.items(), key=lambda kv: int(kv[0])))
    ]


def overview(request: HttpRequest) -> HttpResponse:
    p = _principal(request, "loyalty:read")
    error = ""
    with transaction.atomic(durable=True):
        program = programs.program_ensure(actor=p.actor, workspace_id=p.workspace_id)
    fields = list(ProgramForm.base_fields)
    form = ProgramForm(request.POST or None, initial={f: getattr(program, f) for f in fields})
    if request.method == "POST":
        if not _can_manage(p):
            raise PermissionDenied
        if form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    programs.program_update(actor=p.actor, program=program, changes=form.cleaned_data)
                return redirect("loyalty:overview")
            except DomainError as exc:
                error = exc.message
    report = selectors.liability(p.workspace_id)
    return render(
        request,
        "loyalty/overview.html",
        {
            "form": form,
            "error": error,
            "report": report,
            "bars": _chart(report["expiring"]),
            "can_manage": _can_manage(p),
        },
    )


def rules_view(request: HttpRequest) -> HttpResponse:
    p = _principal(request, "loyalty:read")
    campaigns = [(c.public_id, c.name) for c in selectors.campaigns(p.workspace_id)]
    form = RuleForm(request.POST or None, campaigns=campaigns)
    error = ""
    if request.method == "POST":
        if not _can_manage(p):
            raise PermissionDenied
        try:
            with transaction.atomic(durable=True):
                if request.POST.get("toggle"):
                    rule = selectors.rule(p.workspace_id, request.POST["toggle"])
                    rules.rule_update(actor=p.actor, rule=rule, changes={"active": not rule.active})
                    return redirect("loyalty:rules")
                if form.is_valid():
                    program = programs.program_ensure(actor=p.actor, workspace_id=p.workspace_id)
                    rules.rule_create(
                        actor=p.actor,
                        program=program,
                        kind=form.cleaned_data["kind"],
                        name=form.cleaned_data["name"],
                        params=form.params(),
                        cap_points=form.cleaned_data["cap_points"],
                        budget_points=form.cleaned_data["budget_points"],
                    )
                    return redirect("loyalty:rules")
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "loyalty/rules.html",
        {
            "form": form,
            "error": error,
            "rules": selectors.rules(p.workspace_id).order_by("id"),
            "can_manage": _can_manage(p),
        },
    )


def tiers_view(request: HttpRequest) -> HttpResponse:
    p = _principal(request, "loyalty:read")
    form = TierForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if not _can_manage(p):
            raise PermissionDenied
        if form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    program = programs.program_ensure(actor=p.actor, workspace_id=p.workspace_id)
                    programs.tier_create(actor=p.actor, program=program, **form.cleaned_data)
                return redirect("loyalty:tiers")
            except DomainError as exc:
                error = exc.message
    return render(
        request,
        "loyalty/tiers.html",
        {
            "form": form,
            "error": error,
            "tiers": selectors.tiers(p.workspace_id),
            "can_manage": _can_manage(p),
        },
    )


def coupons_view(request: HttpRequest) -> HttpResponse:
    p = _principal(request, "loyalty:read")
    form = CampaignForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if not _can_manage(p):
            raise PermissionDenied
        if form.is_valid():
            data = dict(form.cleaned_data)
            code, max_uses = data.pop("code"), data.pop("max_uses")
            data["categories"] = [c.strip() for c in (data["categories"] or "").split(",") if c.strip()]
            try:
                with transaction.atomic(durable=True):
                    campaign = coupons.campaign_create(actor=p.actor, workspace_id=p.workspace_id, **data)
                    if code:
                        coupons.promo_code_create(
                            actor=p.actor, campaign=campaign, code=code, max_uses=max_uses
                        )
                return redirect("loyalty:coupons")
            except DomainError as exc:
                error = exc.message
    return render(
        request,
        "loyalty/coupons.html",
        {
            "form": form,
            "error": error,
            "campaigns": selectors.campaigns(p.workspace_id).order_by("id"),
            "codes": selectors.coupons(p.workspace_id).filter(customer_id="").order_by("id"),
            "can_manage": _can_manage(p),
        },
    )


def customer_view(request: HttpRequest, customer_id: str) -> HttpResponse:
    p = _principal(request, "loyalty:read")
    summary = public.account_summary(p.workspace_id, customer_id, history=50)
    return render(request, "loyalty/customer.html", {"summary": summary, "customer_id": customer_id})
