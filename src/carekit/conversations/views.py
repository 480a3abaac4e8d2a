"""The agent workspace: inbox views with counts, the conversation page, and its htmx fragments.

Reads go through selectors, writes through services, each write inside the view's durable transaction.
Open pages refetch fragments when the websocket says a conversation changed (static/conversations/inbox.js).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from carekit.accounts import public as accounts
from carekit.conversations import (
    delivery,
    lifecycle,
    notify,
    public,
    replies,
    reports,
    routing,
    scripts,
    selectors,
    services,
)
from carekit.conversations.enums import ConversationStatus, Presence, Priority
from carekit.conversations.models import Conversation, Macro, Message
from carekit.conversations.search import search_messages
from carekit.core import outbound
from carekit.core.api import Principal
from carekit.core.api.auth import WorkspaceAuth
from carekit.core.errors import DomainError
from carekit.customers import public as customers
from carekit.loyalty import public as loyalty

PAGE = 50


def workspace_view(scope: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A signed-in page in the session's current workspace; the shell's 403 pages without the scope.
    (The same contract as the shell's own decorator, which contexts cannot import.)"""

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


def _me(p: Principal, agents: list[accounts.AgentRef] | None = None) -> accounts.AgentRef | None:
    rows = agents if agents is not None else accounts.agents(p.workspace_id)
    return next((a for a in rows if a.user_id == p.actor.id), None)


def _my_teams(p: Principal, member_id: str) -> tuple[str, ...]:
    return tuple(t.team_id for t in accounts.teams(p.workspace_id) if member_id in t.member_ids)


def _conv(p: Principal, conversation_id: str) -> Conversation:
    try:
        return selectors.conversation(p.workspace_id, conversation_id)
    except Conversation.DoesNotExist:
        raise Http404 from None


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _inbox_context(request: HttpRequest, p: Principal) -> dict[str, Any]:
    agents = accounts.agents(p.workspace_id)
    me = _me(p, agents)
    member_id = me.member_id if me else ""
    teams = _my_teams(p, member_id)
    view = request.GET.get("view", "mine" if me else "all")
    if view not in selectors.VIEWS:
        view = "all"
    status = request.GET.get("status", "")
    if status not in ConversationStatus.values:
        status = ""
    priority = request.GET.get("priority", "")
    if priority not in Priority.values:
        priority = ""
    qs = selectors.inbox(
        p.workspace_id, view=view, member_id=member_id, team_ids=teams, status=status, priority=priority
    )
    latest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-pk").values("text")[:1]
    rows = list(qs.annotate(preview=Subquery(latest)).order_by("-last_message_at", "-pk")[:PAGE])
    names = {a.member_id: a.display_name for a in agents}
    q = request.GET.get("q", "").strip()[:200]
    my_tasks = (
        list(
            selectors.tasks(p.workspace_id, assignee_id=member_id, status="open").order_by("due_at", "pk")[
                :10
            ]
        )
        if member_id
        else []
    )
    return {
        "my_tasks": my_tasks,
        "q": q,
        "hits": list(search_messages(p.workspace_id, q)) if q else [],
        "view": view,
        "status": status,
        "priority": priority,
        "rows": rows,
        "names": names,
        "counts": selectors.inbox_counts(p.workspace_id, member_id=member_id, team_ids=teams),
        "views": [
            ("mine", _("Mine")),
            ("unassigned", _("Unassigned")),
            ("team", _("My teams")),
            ("at_risk", _("SLA at risk")),
            ("all", _("All")),
        ],
        "statuses": ConversationStatus.choices,
        "priorities": Priority.choices,
        # labels resolved once per page instead of once per row
        "status_labels": {k: str(v) for k, v in ConversationStatus.choices},
        "priority_labels": {k: str(v) for k, v in Priority.choices},
        "messages_label": _("messages"),
        "me": me,
    }


@require_GET
@workspace_view("inbox:read")
def inbox(request: HttpRequest, p: Principal) -> HttpResponse:
    ctx = _inbox_context(request, p)
    if ctx["me"] is not None:
        routing.agent_seen(p.workspace_id, ctx["me"].member_id)
        state = selectors.agent_states(p.workspace_id).filter(member_id=ctx["me"].member_id).first()
        ctx["presence"] = state.presence if state else Presence.OFFLINE
        ctx["notify_email"] = notify.wants_email(p.workspace_id, ctx["me"].user_id)
    return render(request, "conversations/inbox.html", ctx)


@require_GET
@workspace_view("inbox:read")
def inbox_rows(request: HttpRequest, p: Principal) -> HttpResponse:
    return render(request, "conversations/_inbox_body.html", _inbox_context(request, p))


def _conversation_context(request: HttpRequest, p: Principal, conv: Conversation) -> dict[str, Any]:
    agents = accounts.agents(p.workspace_id)
    profile = customers.cabinet_view(p.workspace_id, conv.customer_id)
    ref = customers.customer(p.workspace_id, conv.customer_id)
    language = conv.language or (ref.language if ref else "")
    canned = list(selectors.canned(p.workspace_id))
    seen: set[str] = set()
    options = []
    for c in sorted(canned, key=lambda c: (c.shortcut, c.language != language)):
        if c.shortcut not in seen:
            seen.add(c.shortcut)
            options.append(c)
    me = _me(p, agents)
    items = selectors.thread(conv)
    return {
        "c": conv,
        "scripts": scripts.scripts_for(conv, me.role if me else ""),
        "items": items,
        # channel details per message (e.g. an email's From/To/Cc/Bcc), from the adapters' providers
        "details": public.message_details(
            p.workspace_id, [i.obj.public_id for i in items if i.kind == "message"]
        ),
        "names": {a.member_id: a.display_name for a in agents},
        "agents": agents,
        "teams": accounts.teams(p.workspace_id),
        "profile": profile,
        "customer": ref,
        "balances": loyalty.balances(p.workspace_id, conv.customer_id),
        "clocks": selectors.clocks(conv),
        "previous": selectors.previous_conversations(conv),
        "canned": options,
        "tone_guide": services.settings_for(p.workspace_id).tone_guide,
        "priorities": Priority.choices,
        "tasks": list(conv.tasks.filter(status="open").order_by("due_at")),
        "macros": list(Macro.objects.filter(workspace_id=p.workspace_id)),
        "now": timezone.now(),
        "closed": conv.status == ConversationStatus.CLOSED,
    }


@require_GET
@workspace_view("inbox:read")
def conversation_page(request: HttpRequest, p: Principal, conversation_id: str) -> HttpResponse:
    conv = _conv(p, conversation_id)
    return render(request, "conversations/conversation.html", _conversation_context(request, p, conv))


@require_GET
@workspace_view("inbox:read")
def thread(request: HttpRequest, p: Principal, conversation_id: str) -> HttpResponse:
    conv = _conv(p, conversation_id)
    return render(
        request, "conversations/_thread.html", {**_conversation_context(request, p, conv), "oob": True}
    )


@require_GET
@workspace_view("inbox:read")
def canned_fill(request: HttpRequest, p: Principal, conversation_id: str, canned_id: str) -> HttpResponse:
    conv = _conv(p, conversation_id)
    row = selectors.canned(p.workspace_id).filter(public_id=canned_id).first()
    if row is None:
        raise Http404
    ref = customers.customer(p.workspace_id, conv.customer_id)
    variant = replies.canned_for(p.workspace_id, row.shortcut, conv.language or (ref.language if ref else ""))
    return HttpResponse(replies.canned_render(variant or row, conv), content_type="text/plain; charset=utf-8")


def _after_write(request: HttpRequest, p: Principal, conv: Conversation) -> HttpResponse:
    if _is_htmx(request):
        conv.refresh_from_db()
        return render(
            request, "conversations/_thread.html", {**_conversation_context(request, p, conv), "oob": True}
        )
    return redirect("conversations:conversation", conversation_id=conv.public_id)


def _fail(request: HttpRequest, p: Principal, conv: Conversation, exc: DomainError) -> HttpResponse:
    if _is_htmx(request):
        ctx = {**_conversation_context(request, p, conv), "oob": True}
        ctx["error"] = exc.message
        return render(request, "conversations/_thread.html", ctx, status=200)
    flash.error(request, exc.message)
    return redirect("conversations:conversation", conversation_id=conv.public_id)


@require_POST
@workspace_view("inbox:write")
def reply(request: HttpRequest, p: Principal, conversation_id: str) -> HttpResponse:
    conv = _conv(p, conversation_id)
    me = _me(p)
    try:
        with transaction.atomic(durable=True):
            services.message_send(
                actor=p.actor,
                conversation=conv,
                text=request.POST.get("text", ""),
                author_id=me.member_id if me else "",
                canned_response_id=request.POST.get("canned_id", "")[:32],
            )
    except DomainError as exc:
        return _fail(request, p, conv, exc)
    return _after_write(request, p, conv)


@require_POST
@workspace_view("inbox:write")
def typing(request: HttpRequest, p: Principal, conversation_id: str) -> HttpResponse:
    """The composer is being typed in: the customer sees "typing…" where the channel can show it."""
    conv = _conv(p, conversation_id)
    shown = outbound.typing(
        workspace_id=p.workspace_id,
        channel=conv.channel,
        channel_ref=conv.channel_ref,
        customer_id=conv.customer_id,
    )
    return HttpResponse(status=204 if shown else 202)


@require_POST
@workspace_view("inbox:write")
def message_retry(request: HttpRequest, p: Principal, conversation_id: str, message_id: str) -> HttpResponse:
    """Send a failed outbound message again (the thread shows the failure and this action)."""
    conv = _conv(p, conversation_id)
    message = conv.messages.filter(public_id=message_id, direction="outbound").first()
    if message is None:
        raise Http404
    with transaction.atomic(durable=True):
        delivery.message_retry(actor=p.actor, message=message)
    return _after_write(request, p, conv)


@require_POST
@workspace_view("inbox:write")
def note(request: HttpRequest, p: Principal, conversation_id: str) -> HttpResponse:
    conv = _conv(p, conversation_id)
    me = _me(p)
    try:
        with transaction.atomic(durable=True):
            services.note_add(
                actor=p.actor,
                conversation=conv,
                author_id=me.member_id if me else "",
                text=request.POST.get("text", ""),
            )
    except DomainError as exc:
        return _fail(request, p, conv, exc)
    return _after_write(request, p, conv)


@require_POST
@workspace_view("inbox:write")
def action(request: HttpRequest, p: Principal, conversation_id: str) -> HttpResponse:
    conv = _conv(p, conversation_id)
    name = request.POST.get("action", "")
    value = request.POST.get("value", "")
    me = _me(p)
    try:
        with transaction.atomic(durable=True):
            if name == "assign":
                lifecycle.conversation_assign(actor=p.actor, conversation=conv, assignee_id=value)
            elif name == "take" and me is not None:
                lifecycle.conversation_assign(actor=p.actor, conversation=conv, assignee_id=me.member_id)
            elif name == "transfer":
                lifecycle.conversation_transfer(actor=p.actor, conversation=conv, team_id=value)
            elif name == "resolve":
                lifecycle.conversation_resolve(actor=p.actor, conversation=conv)
            elif name == "reopen":
                lifecycle.conversation_reopen(actor=p.actor, conversation=conv)
            elif name == "pending":
                lifecycle.conversation_wait_on_customer(actor=p.actor, conversation=conv)
            elif name == "snooze":
                hours = int(value) if value.isdigit() else 4
                lifecycle.conversation_snooze(
                    actor=p.actor, conversation=conv, until=timezone.now() + timedelta(hours=hours)
                )
            elif name == "close":
                lifecycle.conversation_close(actor=p.actor, conversation=conv)
            elif name == "priority":
                lifecycle.conversation_set_priority(actor=p.actor, conversation=conv, priority=value)
            elif name == "macro":
                macro = Macro.objects.filter(workspace_id=p.workspace_id, public_id=value).first()
                if macro is None:
                    raise DomainError(_("Unknown macro."))
                replies.macro_apply(
                    actor=p.actor, macro=macro, conversation=conv, author_id=me.member_id if me else ""
                )
            else:
                raise DomainError(_("Unknown action."))
    except (DomainError, ValueError) as exc:
        err = exc if isinstance(exc, DomainError) else DomainError(_("Invalid value."))
        return _fail(request, p, conv, err)
    return _after_write(request, p, conv)


@require_POST
@workspace_view("inbox:write")
def script_tick(request: HttpRequest, p: Principal, conversation_id: str, script_id: str, index: int):
    conv = _conv(p, conversation_id)
    script = conv.scripts.filter(public_id=script_id).first()
    me = _me(p)
    if script is None or me is None:
        raise Http404
    try:
        with transaction.atomic(durable=True):
            scripts.script_tick(actor=p.actor, script=script, index=index, member=me)
    except DomainError as exc:
        return _fail(request, p, conv, exc)
    return _after_write(request, p, conv)


@require_POST
@workspace_view("inbox:read")
def notify_pref(request: HttpRequest, p: Principal) -> HttpResponse:
    me = _me(p)
    if me is not None:
        from carekit.core.models import Workspace

        with transaction.atomic(durable=True):
            notify.preference_set(
                actor=p.actor,
                workspace=Workspace.objects.get(pk=p.workspace_id),
                user_id=me.user_id,
                email=request.POST.get("email") == "1",
            )
    return redirect("conversations:inbox")


@require_POST
@workspace_view("inbox:write")
def presence(request: HttpRequest, p: Principal) -> HttpResponse:
    me = _me(p)
    value = request.POST.get("presence", "")
    if me is not None and value in Presence.values:
        from carekit.core.models import Workspace

        with transaction.atomic(durable=True):
            routing.presence_set(
                actor=p.actor,
                workspace=Workspace.objects.get(pk=p.workspace_id),
                member_id=me.member_id,
                presence=value,
            )
    return redirect("conversations:inbox")


@require_GET
@workspace_view("inbox:admin")
def supervisor(request: HttpRequest, p: Principal) -> HttpResponse:
    agents = accounts.agents(p.workspace_id)
    teams = accounts.teams(p.workspace_id)
    board = selectors.supervisor_board(
        p.workspace_id, [(a.member_id, a.display_name) for a in agents], [(t.team_id, t.name) for t in teams]
    )
    until = timezone.now()
    days = selectors.daily_report(p.workspace_id, until - timedelta(days=30), until)
    peak = max([d["conversations"] for d in days] or [1])
    return render(
        request,
        "conversations/supervisor.html",
        {
            **board,
            "agent_refs": agents,
            "days": days,
            "peak": peak,
            "summary": selectors.report(p.workspace_id, until - timedelta(days=30), until),
        },
    )


@require_GET
@workspace_view("inbox:admin")
def supervisor_csv(request: HttpRequest, p: Principal) -> HttpResponse:
    import csv

    until = timezone.now()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="inbox-report.csv"'
    fields = ["day", "conversations", "frt_avg_seconds", "resolution_avg_seconds", "sla_attainment"]
    writer = csv.DictWriter(response, fieldnames=fields)
    writer.writeheader()
    for row in selectors.daily_report(p.workspace_id, until - timedelta(days=90), until):
        writer.writerow(row)
    return response


def _report_params(request: HttpRequest) -> tuple[str, int]:
    by = request.GET.get("by", "team")
    days = request.GET.get("days", "30")
    return (by if by in ("team", "agent") else "team"), (int(days) if days in ("7", "30", "90") else 30)


def _report_rows(p: Principal, by: str, days: int) -> tuple[list[dict[str, Any]], dict[str, str], Any, Any]:
    until = timezone.now()
    since = until - timedelta(days=days)
    rows = reports.report(p.workspace_id, since, until, by=by)
    if by == "team":
        names = {t.team_id: t.name for t in accounts.teams(p.workspace_id)}
        names[""] = _("No team")
    else:
        names = {a.member_id: a.display_name for a in accounts.agents(p.workspace_id)}
        names[""] = _("Unassigned")
    return rows, names, reports.local_day(p.workspace_id, since), reports.local_day(p.workspace_id, until)


@require_GET
@workspace_view("inbox:admin")
def team_report(request: HttpRequest, p: Principal) -> HttpResponse:
    """Per team or per agent, per day: handled, first response and resolution times, with a chart."""
    by, days = _report_params(request)
    rows, names, first, last = _report_rows(p, by, days)
    dates = reports.days_between(first, last)
    groups = sorted({str(r["group"]) for r in rows}, key=lambda g: (g == "", str(names.get(g, g)).lower()))
    handled = {(str(r["group"]), str(r["day"])): int(str(r["handled"])) for r in rows}
    peak = max(handled.values(), default=0) or 1
    width = 12  # per day; SVG numbers are formatted here, never localised ("41,5" is no coordinate)
    charts = [
        {
            "name": names.get(g, g),
            "total": sum(handled.get((g, d.isoformat()), 0) for d in dates),
            "bars": [
                {
                    "x": i * width,
                    "h": f"{40 * handled.get((g, d.isoformat()), 0) / peak:.1f}",
                    "y": f"{43 - 40 * handled.get((g, d.isoformat()), 0) / peak:.1f}",
                    "day": d.isoformat(),
                    "n": handled.get((g, d.isoformat()), 0),
                }
                for i, d in enumerate(dates)
            ],
        }
        for g in groups
    ]
    for r in rows:
        r["name"] = names.get(str(r["group"]), str(r["group"]))
        frt, res = r["frt_avg_seconds"], r["resolution_avg_seconds"]
        r["frt_min"] = round(float(frt) / 60, 1) if isinstance(frt, float) else None
        r["resolution_h"] = round(float(res) / 3600, 1) if isinstance(res, float) else None
    return render(
        request,
        "conversations/report.html",
        {
            "by": by,
            "days": days,
            "rows": list(reversed(rows)),
            "charts": charts,
            "chart_width": len(dates) * width,
            "first": first,
            "last": last,
        },
    )


@require_GET
@workspace_view("inbox:admin")
def team_report_csv(request: HttpRequest, p: Principal) -> HttpResponse:
    import csv

    by, days = _report_params(request)
    rows, names, _first, _last = _report_rows(p, by, days)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="inbox-{by}-report.csv"'
    fields = [
        "day",
        by,
        f"{by}_id",
        "handled",
        "first_responses",
        "frt_avg_seconds",
        "resolution_avg_seconds",
    ]
    writer = csv.DictWriter(response, fieldnames=fields)
    writer.writeheader()
    for r in rows:
        group = str(r["group"])
        writer.writerow(
            {
                **{k: r[k] for k in fields if k in r},
                by: names.get(group, group),
                f"{by}_id": group,
            }
        )
    return response
