"""The bot's screens: measures with charts, the learning loop (suggested examples, retraining with
progress, model versions and rollback) and where the bot answers. Writes go through services."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carekit.accounts import public as accounts
from carekit.bot import measures, public, selectors, services, tasks
from carekit.bot.enums import ExampleStatus, ModelStatus, SlotStatus
from carekit.bot.models import BotModel, BotSettings, ConsultationSlot, TrainingExample
from carekit.core.api import Principal
from carekit.core.api.auth import WorkspaceAuth
from carekit.core.errors import DomainError
from carekit.core.models import Workspace

CHANNEL_KINDS = ("api", "webchat", "email", "telegram")


def workspace_view(scope: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A signed-in page in the session's workspace; the shell's 403 pages without the scope."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            principal = getattr(request, "principal", None) or WorkspaceAuth()(request)
            if principal is None:
                return render(request, "ui/no_workspace.html", status=403)
            if not principal.has(scope):
                return render(request, "ui/forbidden.html", {"scope": scope}, status=403)
            return view(request, principal, *args, **kwargs)

        return wrapper

    return decorator


@workspace_view("bot:read")
def measures_page(request: HttpRequest, p: Principal) -> HttpResponse:
    m = measures.measures(p.workspace_id)
    return render(
        request,
        "bot/measures.html",
        {
            "m": m,
            "bars": measures.day_bars(m["series"]),
            "reasons": measures.reason_bars(m["handoff_reasons"]),
            "reasons_h": 26 * len(m["handoff_reasons"]) + 4,
            "chart_w": measures.CHART_W,
            "chart_h": measures.CHART_H,
            "tab": "measures",
        },
    )


def _learning_context(p: Principal) -> dict[str, Any]:
    models = list(selectors.models(p.workspace_id).order_by("-version")[:20])
    return {
        "suggested": list(
            selectors.examples(p.workspace_id, status=ExampleStatus.SUGGESTED).order_by("-created_at")[:100]
        ),
        "models": models,
        "training": any(m.status == ModelStatus.TRAINING for m in models),
        "intents": public.intents(),
        "can_manage": p.has("bot:manage"),
        "tab": "learning",
    }


@workspace_view("bot:read")
def learning_page(request: HttpRequest, p: Principal) -> HttpResponse:
    return render(request, "bot/learning.html", _learning_context(p))


@workspace_view("bot:read")
def models_fragment(request: HttpRequest, p: Principal) -> HttpResponse:
    return render(request, "bot/_models.html", _learning_context(p))


@require_POST
@workspace_view("bot:manage")
def example_review(request: HttpRequest, p: Principal, example_id: str) -> HttpResponse:
    try:
        ex = selectors.example(p.workspace_id, example_id)
    except TrainingExample.DoesNotExist:
        raise Http404 from None
    accept = request.POST.get("decision") == "accept"
    intent = (request.POST.get("intent") or "").strip()
    if accept and not intent:
        flash.error(request, _("Choose an intent to accept the example."))
        return redirect("bot:learning")
    with transaction.atomic(durable=True):
        services.example_review(actor=p.actor, example=ex, accept=accept, intent=intent or None)
    flash.success(request, _("Example accepted.") if accept else _("Example rejected."))
    return redirect("bot:learning")


@require_POST
@workspace_view("bot:manage")
def retrain(request: HttpRequest, p: Principal) -> HttpResponse:
    try:
        with transaction.atomic(durable=True):
            m = services.model_request(actor=p.actor, workspace=Workspace.objects.get(pk=p.workspace_id))
            model_pk = m.pk
            transaction.on_commit(lambda: tasks.train_model(model_pk))
        flash.success(request, _("Retraining started."))
    except DomainError as exc:
        flash.error(request, exc.message)
    return redirect("bot:learning")


@require_POST
@workspace_view("bot:manage")
def activate(request: HttpRequest, p: Principal, model_id: str) -> HttpResponse:
    try:
        model = selectors.model(p.workspace_id, model_id)
    except BotModel.DoesNotExist:
        raise Http404 from None
    try:
        with transaction.atomic(durable=True):
            services.model_activate(actor=p.actor, model=model)
        flash.success(request, _("Version %(v)s is active.") % {"v": model.version})
    except DomainError as exc:
        flash.error(request, exc.message)
    return redirect("bot:learning")


@workspace_view("bot:manage")
def settings_page(request: HttpRequest, p: Principal) -> HttpResponse:
    row = BotSettings.objects.filter(workspace_id=p.workspace_id).first()
    if request.method == "POST":
        try:
            with transaction.atomic(durable=True):
                ws = Workspace.objects.get(pk=p.workspace_id)
                if request.POST.get("form") == "slot":
                    starts = datetime.fromisoformat(request.POST.get("starts_at", ""))
                    services.slot_create(
                        actor=p.actor,
                        workspace=ws,
                        starts_at=timezone.make_aware(starts) if timezone.is_naive(starts) else starts,
                        minutes=int(request.POST.get("minutes") or 30),
                    )
                else:
                    services.bot_settings_update(
                        actor=p.actor,
                        workspace=ws,
                        enabled_channels=request.POST.getlist("channels"),
                        handoff_team_id=request.POST.get("team_id", ""),
                        calendar_id=request.POST.get("calendar_id", ""),
                    )
            flash.success(request, _("Saved."))
            return redirect("bot:settings")
        except ValueError:
            flash.error(request, _("Enter a valid date and time."))
        except DomainError as exc:
            flash.error(request, exc.message)
    slots = ConsultationSlot.objects.filter(
        workspace_id=p.workspace_id, starts_at__gte=timezone.now()
    ).order_by("starts_at")[:50]
    return render(
        request,
        "bot/settings.html",
        {
            "row": row,
            "enabled": set(row.enabled_channels) if row else set(),
            "kinds": CHANNEL_KINDS,
            "teams": accounts.teams(p.workspace_id),
            "slots": slots,
            "booked": SlotStatus.BOOKED,
            "tab": "settings",
        },
    )
