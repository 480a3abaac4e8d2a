"""Inbox API: the generic API channel, conversations, messages, notes, actions, tasks, canned responses,
routing rules, SLA policies, calendars, presence and the report. Thin: parse, scope, call, serialize."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from carekit.conversations import (
    apichannel,
    delivery,
    lifecycle,
    replies,
    routing,
    selectors,
    services,
    sla_setup,
    worktasks,
)
from carekit.conversations.enums import Priority
from carekit.conversations.errors import NotFound
from carekit.conversations.models import (
    BusinessCalendar,
    CannedResponse,
    Macro,
    Message,
    Task,
)
from carekit.conversations.schemas import (
    ActionIn,
    ApiChannelIn,
    ApiChannelOut,
    BulkIn,
    BulkOut,
    CalendarIn,
    CalendarOut,
    CalendarPage,
    CannedIn,
    CannedOut,
    CannedPage,
    CannedRendered,
    ConversationOut,
    ConversationPage,
    InboundIn,
    InboundOut,
    MergeIn,
    MessageOut,
    MessagePage,
    NoteIn,
    NoteOut,
    PolicyIn,
    PolicyOut,
    PolicyPage,
    PresenceIn,
    PresenceOut,
    ReportOut,
    RuleIn,
    RuleOut,
    RulePage,
    SendIn,
    TaskIn,
    TaskOut,
    TaskPage,
    _calendar,
    _canned,
    _conversation,
    _message,
    _policy,
    _rule,
    _task,
)
from carekit.conversations.search import search_messages
from carekit.core.api import StrictSchema, need, paginate
from carekit.core.errors import DomainError
from carekit.core.models import Workspace

router = Router(tags=["inbox"])


def _ws(workspace_id: int) -> Workspace:
    return Workspace.objects.get(pk=workspace_id)


def _member_of(request: HttpRequest, workspace_id: int) -> str:
    from carekit.accounts import public as accounts

    principal = need(request, "inbox:read")
    me = next((a for a in accounts.agents(workspace_id) if a.user_id == principal.actor.id), None)
    return me.member_id if me else ""


# --- the API channel --------------------------------------------------------------------------------


@router.post("/inbox/api-channels", response={201: ApiChannelOut}, summary="Create a generic API channel")
def api_channel_create(request: HttpRequest, body: ApiChannelIn):
    p = need(request, "inbox:admin")
    with transaction.atomic(durable=True):
        ch = apichannel.api_channel_create(
            actor=p.actor, workspace=_ws(p.workspace_id), name=body.name, webhook_url=body.webhook_url
        )
    sub = ch.subscription
    return Status(201, {"id": ch.public_id, "name": ch.name, "webhook_url": sub.url, "secret": sub.secret})


class DeliveredOut(Schema):
    message_id: str
    state: str
    changed: bool


@router.post(
    "/inbox/api-channels/{channel_id}/messages/{message_id}/delivered",
    response=DeliveredOut,
    summary="Confirm an outbound message was delivered (sent → delivered; a repeat changes nothing)",
)
def api_channel_delivered(request: HttpRequest, channel_id: str, message_id: str):
    p = need(request, "inbox:channel")
    with transaction.atomic(durable=True):
        ch = selectors.api_channel(p.workspace_id, channel_id)
        msg = (
            Message.objects.select_related("conversation")
            .filter(
                workspace_id=p.workspace_id,
                public_id=message_id,
                channel_key=f"{apichannel.CHANNEL}:{ch.public_id}",
            )
            .first()
        )
        if msg is None:
            raise NotFound("Unknown message.", field="message_id")
        changed = delivery.message_mark_delivered(actor=p.actor, message=msg)
    return {"message_id": msg.public_id, "state": "delivered", "changed": changed}


@router.post(
    "/inbox/api-channels/{channel_id}/messages",
    response={200: InboundOut, 201: InboundOut},
    summary="Post an inbound message (idempotent by message_id: a repeat answers 200 with the first result)",
)
def api_channel_inbound(request: HttpRequest, channel_id: str, body: InboundIn):
    p = need(request, "inbox:channel")
    files = []
    for a in body.attachments:
        try:
            content = base64.b64decode(a.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise DomainError("An attachment is not valid base64.", field="attachments") from None
        files.append(services.NewAttachment(a.filename, a.content_type, content))
    if not body.customer_id and not body.customer_ref:
        raise DomainError("customer_id or customer_ref is required.", field="customer_ref")
    with transaction.atomic(durable=True):
        ch = selectors.api_channel(p.workspace_id, channel_id)
        r = services.conversation_receive_message(
            actor=p.actor,
            workspace=ch.workspace,
            inbound=services.Inbound(
                channel=apichannel.CHANNEL,
                channel_ref=ch.public_id,
                thread_key=body.thread_id,
                external_id=body.message_id,
                customer_id=body.customer_id or "",
                identity_kind="" if body.customer_id else "external",
                identity_value="" if body.customer_id else f"{ch.public_id}:{body.customer_ref}",
                text=body.text,
                html=body.html,
                subject=body.subject,
                language=body.language,
                tags=tuple(body.tags),
                attachments=tuple(files),
            ),
        )
    out = {
        "message_id": r.message.public_id,
        "conversation_id": r.conversation.public_id,
        "duplicate": r.duplicate,
        "conversation_created": r.conversation_created,
        "reopened": r.reopened,
    }
    return Status(200 if r.duplicate else 201, out)


# --- conversations ----------------------------------------------------------------------------------


@router.get("/inbox/conversations", response=ConversationPage, summary="Inbox views: mine, unassigned, ...")
def conversations_list(
    request: HttpRequest,
    view: Literal["mine", "unassigned", "team", "at_risk", "all"] = "all",
    status: str = "",
    channel: str = "",
    cursor: str | None = None,
    limit: int = 50,
):
    p = need(request, "inbox:read")
    member_id = _member_of(request, p.workspace_id)
    from carekit.accounts import public as accounts

    teams = tuple(t.team_id for t in accounts.teams(p.workspace_id) if member_id in t.member_ids)
    qs = selectors.inbox(
        p.workspace_id, view=view, member_id=member_id, team_ids=teams, status=status, channel=channel
    )
    page = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_conversation(c) for c in page.items], "next_cursor": page.next_cursor}


@router.get("/inbox/conversations/{conversation_id}", response=ConversationOut)
def conversation_get(request: HttpRequest, conversation_id: str):
    p = need(request, "inbox:read")
    return _conversation(selectors.conversation(p.workspace_id, conversation_id))


@router.get("/inbox/conversations/{conversation_id}/messages", response=MessagePage)
def messages_list(request: HttpRequest, conversation_id: str, cursor: str | None = None, limit: int = 50):
    p = need(request, "inbox:read")
    conv = selectors.conversation(p.workspace_id, conversation_id)
    page = paginate(
        Message.objects.filter(conversation=conv).prefetch_related("attachments"), cursor=cursor, limit=limit
    )
    return {"items": [_message(m, conv.public_id) for m in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/inbox/conversations/{conversation_id}/messages",
    response={201: MessageOut},
    summary="Send a message to the customer (text, or a canned response with its variables filled)",
)
def message_send(request: HttpRequest, conversation_id: str, body: SendIn):
    p = need(request, "inbox:write")
    member_id = _member_of(request, p.workspace_id)
    with transaction.atomic(durable=True):
        conv = selectors.conversation(p.workspace_id, conversation_id)
        text, canned_id = body.text, ""
        if body.canned_response_id:
            canned = CannedResponse.objects.filter(
                workspace_id=p.workspace_id, public_id=body.canned_response_id
            ).first()
            if canned is None:
                raise NotFound("Unknown canned response.", field="canned_response_id")
            variant = replies.canned_for(p.workspace_id, canned.shortcut, conv.language) or canned
            text, canned_id = replies.canned_render(variant, conv), canned.public_id
        m = services.message_send(
            actor=p.actor,
            conversation=conv,
            text=text,
            html=body.html,
            message_class=body.message_class,
            author_id=member_id,
            canned_response_id=canned_id,
        )
    return Status(201, _message(m, conv.public_id))


@router.post("/inbox/conversations/{conversation_id}/notes", response={201: NoteOut})
def note_add(request: HttpRequest, conversation_id: str, body: NoteIn):
    p = need(request, "inbox:write")
    member_id = _member_of(request, p.workspace_id)
    with transaction.atomic(durable=True):
        conv = selectors.conversation(p.workspace_id, conversation_id)
        n = services.note_add(
            actor=p.actor, conversation=conv, author_id=member_id, text=body.text, mentions=body.mentions
        )
    return Status(201, {"id": n.public_id, "text": n.text, "mentions": n.mentions})


@router.post("/inbox/conversations/{conversation_id}/actions", response=ConversationOut)
def conversation_action(request: HttpRequest, conversation_id: str, body: ActionIn):
    p = need(request, "inbox:write")
    with transaction.atomic(durable=True):
        conv = selectors.conversation(p.workspace_id, conversation_id)
        a, v = body.action, body.value
        if a in ("assign", "unassign"):
            conv = lifecycle.conversation_assign(
                actor=p.actor, conversation=conv, assignee_id=v if a == "assign" else ""
            )
        elif a == "transfer":
            conv = lifecycle.conversation_transfer(actor=p.actor, conversation=conv, team_id=v)
        elif a == "snooze":
            until = timezone.now() + timedelta(minutes=body.snooze_minutes)
            conv = lifecycle.conversation_snooze(actor=p.actor, conversation=conv, until=until)
        elif a == "pending":
            conv = lifecycle.conversation_wait_on_customer(actor=p.actor, conversation=conv)
        elif a == "resolve":
            conv = lifecycle.conversation_resolve(actor=p.actor, conversation=conv)
        elif a == "reopen":
            conv = lifecycle.conversation_reopen(actor=p.actor, conversation=conv)
        elif a == "close":
            conv = lifecycle.conversation_close(actor=p.actor, conversation=conv)
        else:
            if v not in Priority.values:
                raise DomainError("Unknown priority.", field="value")
            conv = lifecycle.conversation_set_priority(actor=p.actor, conversation=conv, priority=v)
    return _conversation(conv)


@router.post("/inbox/conversations/{conversation_id}/merge", response=ConversationOut)
def conversation_merge(request: HttpRequest, conversation_id: str, body: MergeIn):
    p = need(request, "inbox:write")
    with transaction.atomic(durable=True):
        source = selectors.conversation(p.workspace_id, conversation_id)
        target = selectors.conversation(p.workspace_id, body.target_id)
        dst = lifecycle.conversation_merge(actor=p.actor, source=source, target=target)
    return _conversation(dst)


@router.post("/inbox/bulk", response=BulkOut, summary="One action on many conversations, atomically")
def conversations_bulk(request: HttpRequest, body: BulkIn):
    p = need(request, "inbox:write")
    with transaction.atomic(durable=True):
        done = lifecycle.conversations_bulk(
            actor=p.actor,
            workspace=_ws(p.workspace_id),
            conversation_ids=body.conversation_ids,
            action=body.action,
            value=body.value,
        )
    return {"changed": len(done)}


# --- tasks ------------------------------------------------------------------------------------------


@router.get("/inbox/tasks", response=TaskPage)
def tasks_list(request: HttpRequest, assignee_id: str = "", status: str = "", cursor: str | None = None):
    p = need(request, "inbox:read")
    page = paginate(selectors.tasks(p.workspace_id, assignee_id=assignee_id, status=status), cursor=cursor)
    return {"items": [_task(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post("/inbox/tasks", response={201: TaskOut})
def task_create(request: HttpRequest, body: TaskIn):
    p = need(request, "inbox:write")
    with transaction.atomic(durable=True):
        conv = selectors.conversation(p.workspace_id, body.conversation_id) if body.conversation_id else None
        t = worktasks.task_create(
            actor=p.actor,
            workspace=_ws(p.workspace_id),
            title=body.title,
            kind=body.kind,
            conversation=conv,
            assignee_id=body.assignee_id or "",
            due_at=body.due_at,
            source="api",
        )
    return Status(201, _task(t))


@router.post("/inbox/tasks/{task_id}/complete", response=TaskOut)
def task_complete(request: HttpRequest, task_id: str):
    p = need(request, "inbox:write")
    with transaction.atomic(durable=True):
        t = worktasks.task_complete(
            actor=p.actor, task=Task.objects.get(workspace_id=p.workspace_id, public_id=task_id)
        )
    return _task(t)


# --- canned responses -------------------------------------------------------------------------------


@router.get("/inbox/canned-responses", response=CannedPage)
def canned_list(request: HttpRequest, language: str = "", cursor: str | None = None):
    p = need(request, "inbox:read")
    page = paginate(selectors.canned(p.workspace_id, language), cursor=cursor)
    return {"items": [_canned(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/inbox/canned-responses", response={201: CannedOut})
def canned_create(request: HttpRequest, body: CannedIn):
    p = need(request, "inbox:admin")
    with transaction.atomic(durable=True):
        c = replies.canned_response_create(
            actor=p.actor,
            workspace=_ws(p.workspace_id),
            shortcut=body.shortcut,
            title=body.title,
            body=body.body,
            language=body.language,
        )
    return Status(201, _canned(c))


@router.get(
    "/inbox/conversations/{conversation_id}/canned/{canned_id}",
    response=CannedRendered,
    summary="A canned response with its variables filled for this conversation",
)
def canned_render(request: HttpRequest, conversation_id: str, canned_id: str):
    p = need(request, "inbox:read")
    conv = selectors.conversation(p.workspace_id, conversation_id)
    canned = CannedResponse.objects.get(workspace_id=p.workspace_id, public_id=canned_id)
    variant = replies.canned_for(p.workspace_id, canned.shortcut, conv.language) or canned
    return {"text": replies.canned_render(variant, conv)}


# --- macros -----------------------------------------------------------------------------------------


class MacroIn(StrictSchema):
    name: str = Field(min_length=1, max_length=120)
    actions: list[dict[str, Any]] = Field(min_length=1, max_length=20)


class MacroOut(Schema):
    id: str
    name: str
    actions: list[dict[str, Any]]


class MacroPage(Schema):
    items: list[MacroOut]
    next_cursor: str | None


def _macro(m: Macro) -> dict[str, Any]:
    return {"id": m.public_id, "name": m.name, "actions": m.actions}


@router.get("/inbox/macros", response=MacroPage)
def macros_list(request: HttpRequest, cursor: str | None = None):
    p = need(request, "inbox:read")
    page = paginate(Macro.objects.filter(workspace_id=p.workspace_id), cursor=cursor)
    return {"items": [_macro(m) for m in page.items], "next_cursor": page.next_cursor}


@router.post("/inbox/macros", response={201: MacroOut})
def macro_create(request: HttpRequest, body: MacroIn):
    p = need(request, "inbox:admin")
    with transaction.atomic(durable=True):
        m = replies.macro_create(
            actor=p.actor, workspace=_ws(p.workspace_id), name=body.name, actions=body.actions
        )
    return Status(201, _macro(m))


@router.post("/inbox/conversations/{conversation_id}/macros/{macro_id}", response=ConversationOut)
def macro_apply(request: HttpRequest, conversation_id: str, macro_id: str):
    p = need(request, "inbox:write")
    member_id = _member_of(request, p.workspace_id)
    with transaction.atomic(durable=True):
        conv = selectors.conversation(p.workspace_id, conversation_id)
        macro = Macro.objects.get(workspace_id=p.workspace_id, public_id=macro_id)
        conv = replies.macro_apply(actor=p.actor, macro=macro, conversation=conv, author_id=member_id)
    return _conversation(conv)


# --- routing, SLA, calendars, presence ---------------------------------------------------------------


@router.get("/inbox/routing-rules", response=RulePage)
def rules_list(request: HttpRequest, cursor: str | None = None):
    p = need(request, "inbox:read")
    page = paginate(selectors.rules(p.workspace_id), cursor=cursor, limit=200)
    return {"items": [_rule(r) for r in page.items], "next_cursor": page.next_cursor}


def _check_team(workspace_id: int, team_id: str) -> None:
    from carekit.accounts import public as accounts

    if team_id and not any(t.team_id == team_id for t in accounts.teams(workspace_id)):
        raise NotFound("Unknown team.", field="team_id")


@router.post("/inbox/routing-rules", response={201: RuleOut})
def rule_create(request: HttpRequest, body: RuleIn):
    p = need(request, "inbox:admin")
    _check_team(p.workspace_id, body.team_id)
    with transaction.atomic(durable=True):
        r = routing.rule_create(actor=p.actor, workspace=_ws(p.workspace_id), **body.model_dump())
    return Status(201, _rule(r))


@router.get("/inbox/calendars", response=CalendarPage)
def calendars_list(request: HttpRequest, cursor: str | None = None):
    p = need(request, "inbox:read")
    page = paginate(BusinessCalendar.objects.filter(workspace_id=p.workspace_id), cursor=cursor)
    return {"items": [_calendar(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/inbox/calendars", response={201: CalendarOut})
def calendar_create(request: HttpRequest, body: CalendarIn):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    p = need(request, "inbox:admin")
    try:
        ZoneInfo(body.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError("Unknown time zone.", field="time_zone") from None
    with transaction.atomic(durable=True):
        c = sla_setup.calendar_create(
            actor=p.actor,
            workspace=_ws(p.workspace_id),
            name=body.name,
            time_zone=body.time_zone,
            hours={k: [list(span) for span in v] for k, v in body.hours.items()},
            holidays=body.holidays,
        )
    return Status(201, _calendar(c))


@router.get("/inbox/sla-policies", response=PolicyPage)
def policies_list(request: HttpRequest, cursor: str | None = None):
    p = need(request, "inbox:read")
    page = paginate(selectors.policies(p.workspace_id).select_related("calendar"), cursor=cursor)
    return {"items": [_policy(x) for x in page.items], "next_cursor": page.next_cursor}


@router.post("/inbox/sla-policies", response={201: PolicyOut})
def policy_create(request: HttpRequest, body: PolicyIn):
    p = need(request, "inbox:admin")
    _check_team(p.workspace_id, body.team_id)
    _check_team(p.workspace_id, body.escalate_team_id)
    data = body.model_dump()
    calendar_id = data.pop("calendar_id")
    with transaction.atomic(durable=True):
        cal = (
            BusinessCalendar.objects.get(workspace_id=p.workspace_id, public_id=calendar_id)
            if calendar_id
            else None
        )
        policy = sla_setup.sla_policy_create(
            actor=p.actor, workspace=_ws(p.workspace_id), calendar=cal, **data
        )
    return Status(201, _policy(policy))


@router.put("/inbox/presence", response=PresenceOut, summary="Set an agent's presence and capacity")
def presence_set(request: HttpRequest, body: PresenceIn):
    p = need(request, "inbox:write")
    member_id = body.member_id or _member_of(request, p.workspace_id)
    if body.member_id and body.member_id != _member_of(request, p.workspace_id):
        need(request, "inbox:admin")
    if not member_id:
        raise DomainError("Name the agent (member_id): this caller is not a member.", field="member_id")
    with transaction.atomic(durable=True):
        s = routing.presence_set(
            actor=p.actor,
            workspace=_ws(p.workspace_id),
            member_id=member_id,
            presence=body.presence,
            capacity=body.capacity,
            channel_capacity=body.channel_capacity,
            skills=body.skills,
        )
    return {"member_id": s.member_id, "presence": s.presence, "capacity": s.capacity, "skills": s.skills}


class SearchHit(Schema):
    id: str
    conversation_id: str
    direction: str
    text: str
    created_at: datetime


class SearchPage(Schema):
    items: list[SearchHit]


@router.get(
    "/inbox/search",
    response=SearchPage,
    summary="Full-text search over messages (PostgreSQL full text; a documented fallback on SQLite)",
)
def search(request: HttpRequest, q: str):
    p = need(request, "inbox:read")
    hits = search_messages(p.workspace_id, q[:200])
    return {
        "items": [
            {
                "id": m.public_id,
                "conversation_id": m.conversation.public_id,
                "direction": m.direction,
                "text": m.text,
                "created_at": m.created_at,
            }
            for m in hits
        ]
    }


@router.get("/inbox/report", response=ReportOut, summary="FRT, resolution time and SLA attainment")
def report(request: HttpRequest, days: int = 30):
    p = need(request, "inbox:read")
    until = timezone.now()
    return selectors.report(p.workspace_id, until - timedelta(days=max(1, min(days, 366))), until)
