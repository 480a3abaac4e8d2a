"""Inbox API schemas and the functions that turn models into them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from carekit.conversations.enums import Presence, Priority, TaskKind
from carekit.conversations.models import (
    BusinessCalendar,
    CannedResponse,
    Conversation,
    Message,
    RoutingRule,
    SlaPolicy,
    Task,
)
from carekit.core.api import StrictSchema

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
    skill: str = Field(default="", max_length=60, description="Only agents with this skill get it")


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
    skill: str = ""


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
    skills: list[str] | None = Field(default=None, max_length=50)


class PresenceOut(Schema):
    member_id: str
    presence: str
    capacity: int
    skills: list[str] = []


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
        "skill": r.skill,
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
