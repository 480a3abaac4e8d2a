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

from carekit.conversations import apichannel, replies, routing, selectors, services, sla_setup, worktasks
from carekit.conversations.enums import Presence, Priority, TaskKind
from carekit.conversations.errors import NotFound
from carekit.conversations.models import (
    BusinessCalendar,
    CannedResponse,
    Conversation,
    Macro,
    Message,
    RoutingRule,
    SlaPolicy,
    Task,
)
from carekit.conversations.search import search_messages
from carekit.core.api import StrictSchema, need, paginate
from carekit.core.errors import DomainError
from carekit.core.models import Workspace

router = Router(tags=["inbox"])


# --- schemas ----------------------------------------------------------------------------------------


class AttachmentIn(StrictSchema):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=3, max_length=100)
    content_base64: str


class InboundIn(StrictSchema):
    thread_id: str = Field(min_length=1, max_length=200, description="The external system's thread id")
    message_id: str = Field(min_length=1, max_length=200, description="The external system's message id")
    customer_id: str | None = Field(default=None, max_length=32, description="A known customer's id")
    customer_ref: str | None = Field(
        default=None, max_length=200, description="The customer's id in the external system (an identity)"
    )
    text: str = Field(default="", max_length=20_000)
    html: str = Field(default="", max_length=100_000)
    subject: str = Field(default="", max_length=300)
    language: str = Field(default="", max_length=8)
    tags: list[str] = Field(default_factory=list, max_length=20)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


class InboundOut(Schema):
    message_id: str
    conversation_id: str
    duplicate: bool
    conversation_created: bool
    reopened: bool


class ApiChannelIn(StrictSchema):
    name: str = Field(min_length=1, max_length=120)
    webhook_url: str = Field(min_length=8, max_length=500)


class ApiChannelOut(Schema):
    id: str
    name: str
    webhook_url: str
    secret: str = Field(description="Signs the outbound webhooks (X-Carekit-Signature); shown once.")


class ConversationOut(Schema):
    id: str
    customer_id: str
    channel: str
    subject: str
    status: str
    priority: str
    team_id: str
    assignee_id: str
    tags: list[str]
    language: str
    message_count: int
    created_at: datetime
    last_message_at: datetime
    waiting_since: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None


class ConversationPage(Schema):
    items: list[ConversationOut]
    next_cursor: str | None


class AttachmentOut(Schema):
    id: str
    filename: str
    content_type: str
    size: int


class MessageOut(Schema):
    id: str
    conversation_id: str
    direction: str
    author_kind: str
    author_id: str
    text: str
    html: str
    external_id: str
    state: str
    message_class: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    attachments: list[AttachmentOut]


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class SendIn(StrictSchema):
    text: str = Field(default="", max_length=20_000)
    html: str = Field(default="", max_length=100_000)
    canned_response_id: str | None = Field(default=None, max_length=32)
    message_class: Literal["reply", "service", "marketing"] = "reply"


class NoteIn(StrictSchema):
    text: str = Field(min_length=1, max_length=20_000)
    mentions: list[str] = Field(default_factory=list, max_length=20)


class NoteOut(Schema):
    id: str
    text: str
    mentions: list[str]


class ActionIn(StrictSchema):
    action: Literal[
        "assign", "unassign", "transfer", "snooze", "pending", "resolve", "reopen", "close", "priority"
    ]
    value: str = Field(default="", max_length=60)
    snooze_minutes: int = Field(default=240, ge=1, le=60 * 24 * 90)


class MergeIn(StrictSchema):
    target_id: str = Field(min_length=1, max_length=32)


class BulkIn(StrictSchema):
    conversation_ids: list[str] = Field(min_length=1, max_length=200)
    action: Literal["assign", "resolve", "close", "priority", "snooze", "transfer"]
    value: str = Field(default="", max_length=60)


class BulkOut(Schema):
    changed: int


class TaskIn(StrictSchema):
    title: str = Field(min_length=1, max_length=300)
    kind: TaskKind = TaskKind.TODO
    conversation_id: str | None = Field(default=None, max_length=32)
    assignee_id: str | None = Field(default=None, max_length=32)
    due_at: datetime | None = None


class TaskOut(Schema):
    id: str
    kind: str
    title: str
    status: str
    conversation_id: str | None
    customer_id: str
    assignee_id: str
    due_at: datetime | None


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class CannedIn(StrictSchema):
    shortcut: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_-]+$")
    title: str = Field(default="", max_length=120)
    body: str = Field(min_length=1, max_length=5000)
    language: str = Field(default="en", max_length=8)


class CannedOut(Schema):
    id: str
    shortcut: str
    title: str
    body: str
    language: str


class CannedPage(Schema):
    items: list[CannedOut]
    next_cursor: str | None


class CannedRendered(Schema):
    text: str


class RuleIn(StrictSchema):
    name: str = Field(min_length=1, max_length=120)
    position: int = Field(default=0, ge=0)
    channel: str = Field(default="", max_length=30)
    language: str = Field(default="", max_length=8)
    tags: list[str] = Field(default_factory=list, max_length=20)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    intent: str = Field(default="", max_length=60)
    team_id: str = Field(default="", max_length=32)
    priority: Priority | Literal[""] = ""


class RuleOut(Schema):
    id: str
    name: str
    position: int
    channel: str
    language: str
    tags: list[str]
    keywords: list[str]
    team_id: str
    priority: str


class RulePage(Schema):
    items: list[RuleOut]
    next_cursor: str | None


class CalendarIn(StrictSchema):
    name: str = Field(min_length=1, max_length=120)
    time_zone: str = Field(default="UTC", max_length=64)
    hours: dict[Literal["0", "1", "2", "3", "4", "5", "6"], list[tuple[str, str]]]
    holidays: list[str] = Field(default_factory=list, max_length=400)


class CalendarOut(Schema):
    id: str
    name: str
    time_zone: str
    hours: dict[str, list[list[str]]]
    holidays: list[str]


class CalendarPage(Schema):
    items: list[CalendarOut]
    next_cursor: str | None


class PolicyIn(StrictSchema):
    name: str = Field(min_length=1, max_length=120)
    position: int = Field(default=0, ge=0)
    priority: Priority | Literal[""] = ""
    channel: str = Field(default="", max_length=30)
    customer_tag: str = Field(default="", max_length=60)
    team_id: str = Field(default="", max_length=32)
    first_response_minutes: int | None = Field(default=None, ge=1)
    next_response_minutes: int | None = Field(default=None, ge=1)
    resolution_minutes: int | None = Field(default=None, ge=1)
    warn_at_percent: int = Field(default=80, ge=1, le=99)
    calendar_id: str | None = Field(default=None, max_length=32)
    notify: bool = True
    escalate_team_id: str = Field(default="", max_length=32)
    raise_priority: bool = False
    compensate_points: int = Field(default=0, ge=0, le=1_000_000)
    compensate_coupon: str = Field(default="", max_length=60)


class PolicyOut(Schema):
    id: str
    name: str
    position: int
    priority: str
    channel: str
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    calendar_id: str | None
    compensate_points: int


class PolicyPage(Schema):
    items: list[PolicyOut]
    next_cursor: str | None


class PresenceIn(StrictSchema):
    presence: Presence
    member_id: str | None = Field(
        default=None, max_length=32, description="Another agent (needs inbox:admin)"
    )
    capacity: int | None = Field(default=None, ge=0, le=100)
    channel_capacity: dict[str, int] | None = None


class PresenceOut(Schema):
    member_id: str
    presence: str
    capacity: int


class ReportOut(Schema):
    conversations: int
    frt_avg_seconds: float | None
    resolution_avg_seconds: float | None
    attainment: dict[str, float | None]


# --- serializers ------------------------------------------------------------------------------------


def _conversation(c: Conversation) -> dict[str, Any]:
    return {
        "id": c.public_id,
        "customer_id": c.customer_id,
        "channel": c.channel,
        "subject": c.subject,
        "status": c.status,
        "priority": c.priority,
        "team_id": c.team_id,
        "assignee_id": c.assignee_id,
        "tags": c.tags,
        "language": c.language,
        "message_count": c.message_count,
        "created_at": c.created_at,
        "last_message_at": c.last_message_at,
        "waiting_since": c.waiting_since,
        "first_response_at": c.first_response_at,
        "resolved_at": c.resolved_at,
    }


def _message(m: Message, conversation_id: str) -> dict[str, Any]:
    return {
        "id": m.public_id,
        "conversation_id": conversation_id,
        "direction": m.direction,
        "author_kind": m.author_kind,
        "author_id": m.author_id,
        "text": m.text,
        "html": m.html,
        "external_id": m.external_id,
        "state": m.state,
        "message_class": m.message_class,
        "attempts": m.attempts,
        "created_at": m.created_at,
        "sent_at": m.sent_at,
        "attachments": [
            {"id": a.public_id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in m.attachments.all()
        ],
    }


def _task(t: Task) -> dict[str, Any]:
    return {
        "id": t.public_id,
        "kind": t.kind,
        "title": t.title,
        "status": t.status,
        "conversation_id": t.conversation.public_id if t.conversation else None,
        "customer_id": t.customer_id,
        "assignee_id": t.assignee_id,
        "due_at": t.due_at,
    }


def _canned(c: CannedResponse) -> dict[str, Any]:
    return {
        "id": c.public_id,
        "shortcut": c.shortcut,
        "title": c.title,
        "body": c.body,
        "language": c.language,
    }


def _rule(r: RoutingRule) -> dict[str, Any]:
    return {
        "id": r.public_id,
        "name": r.name,
        "position": r.position,
        "channel": r.channel,
        "language": r.language,
        "tags": r.tags,
        "keywords": r.keywords,
        "team_id": r.team_id,
        "priority": r.priority,
    }


def _calendar(c: BusinessCalendar) -> dict[str, Any]:
    return {
        "id": c.public_id,
        "name": c.name,
        "time_zone": c.time_zone,
        "hours": c.hours,
        "holidays": c.holidays,
    }


def _policy(p: SlaPolicy) -> dict[str, Any]:
    return {
        "id": p.public_id,
        "name": p.name,
        "position": p.position,
        "priority": p.priority,
        "channel": p.channel,
        "first_response_minutes": p.first_response_minutes,
        "next_response_minutes": p.next_response_minutes,
        "resolution_minutes": p.resolution_minutes,
        "calendar_id": p.calendar.public_id if p.calendar else None,
        "compensate_points": p.compensate_points,
    }


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
            conv = services.conversation_assign(
                actor=p.actor, conversation=conv, assignee_id=v if a == "assign" else ""
            )
        elif a == "transfer":
            conv = services.conversation_transfer(actor=p.actor, conversation=conv, team_id=v)
        elif a == "snooze":
            until = timezone.now() + timedelta(minutes=body.snooze_minutes)
            conv = services.conversation_snooze(actor=p.actor, conversation=conv, until=until)
        elif a == "pending":
            conv = services.conversation_wait_on_customer(actor=p.actor, conversation=conv)
        elif a == "resolve":
            conv = services.conversation_resolve(actor=p.actor, conversation=conv)
        elif a == "reopen":
            conv = services.conversation_reopen(actor=p.actor, conversation=conv)
        elif a == "close":
            conv = services.conversation_close(actor=p.actor, conversation=conv)
        else:
            if v not in Priority.values:
                raise DomainError("Unknown priority.", field="value")
            conv = services.conversation_set_priority(actor=p.actor, conversation=conv, priority=v)
    return _conversation(conv)


@router.post("/inbox/conversations/{conversation_id}/merge", response=ConversationOut)
def conversation_merge(request: HttpRequest, conversation_id: str, body: MergeIn):
    p = need(request, "inbox:write")
    with transaction.atomic(durable=True):
        source = selectors.conversation(p.workspace_id, conversation_id)
        target = selectors.conversation(p.workspace_id, body.target_id)
        dst = services.conversation_merge(actor=p.actor, source=source, target=target)
    return _conversation(dst)


@router.post("/inbox/bulk", response=BulkOut, summary="One action on many conversations, atomically")
def conversations_bulk(request: HttpRequest, body: BulkIn):
    p = need(request, "inbox:write")
    with transaction.atomic(durable=True):
        done = services.conversations_bulk(
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
        )
    return {"member_id": s.member_id, "presence": s.presence, "capacity": s.capacity}


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
