"""What other contexts may use from the inbox: the entry point for channel adapters, task creation,
and frozen facts. Functions run inside the caller's transaction (ARCHITECTURE.md rule 8)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from carekit.conversations import services, worktasks
from carekit.conversations.models import Conversation
from carekit.conversations.services import Inbound, NewAttachment
from carekit.core.events import Actor
from carekit.core.models import Workspace

__all__ = [
    "Inbound",
    "NewAttachment",
    "ReceivedRef",
    "receive_message",
    "task_create",
]


@dataclass(frozen=True)
class ReceivedRef:
    message_id: str
    conversation_id: str
    duplicate: bool
    conversation_created: bool
    reopened: bool


def receive_message(
    *, actor: Actor, workspace_id: int, inbound: Inbound, at: datetime | None = None
) -> ReceivedRef:
    """The single entry point for channel adapters: idempotent by (channel, external id)."""
    ws = Workspace.objects.get(pk=workspace_id)
    r = services.conversation_receive_message(actor=actor, workspace=ws, inbound=inbound, at=at)
    return ReceivedRef(
        r.message.public_id, r.conversation.public_id, r.duplicate, r.conversation_created, r.reopened
    )


@dataclass(frozen=True)
class ConversationRef:
    conversation_id: str
    customer_id: str
    channel: str
    status: str
    assignee_id: str
    team_id: str


def conversations_of(workspace_id: int, customer_id: str, *, limit: int = 20) -> Sequence[ConversationRef]:
    rows = Conversation.objects.filter(workspace_id=workspace_id, customer_id=customer_id).order_by("-pk")[
        :limit
    ]
    return [
        ConversationRef(c.public_id, c.customer_id, c.channel, c.status, c.assignee_id, c.team_id)
        for c in rows
    ]


def task_create(
    *,
    actor: Actor,
    workspace_id: int,
    title: str,
    kind: str = "todo",
    conversation_id: str = "",
    customer_id: str = "",
    assignee_id: str = "",
    due_at: datetime | None = None,
    source: str = "",
) -> str:
    """Create an inbox task (callback, follow_up, todo) for another context; returns its id."""
    ws = Workspace.objects.get(pk=workspace_id)
    conv = (
        Conversation.objects.filter(workspace=ws, public_id=conversation_id).first()
        if conversation_id
        else None
    )
    task = worktasks.task_create(
        actor=actor,
        workspace=ws,
        title=title,
        kind=kind,
        conversation=conv,
        customer_id=customer_id,
        assignee_id=assignee_id,
        due_at=due_at,
        source=source,
    )
    return task.public_id


# --- the first-line bot (issue 8): held conversations, bot replies, hand-off with a pinned summary ----


def register_first_line(predicate: Callable[[int, str], bool]) -> None:
    """A first-line responder (the bot) holds new conversations on the channels it answers."""
    from carekit.conversations import routing

    routing.register_first_line(predicate)


@dataclass(frozen=True)
class ConversationFacts:
    conversation_id: str
    customer_id: str
    channel: str
    status: str
    bot_active: bool
    language: str
    assignee_id: str
    team_id: str


@dataclass(frozen=True)
class MessageFacts:
    message_id: str
    conversation_id: str
    author_kind: str
    text: str


def conversation_facts(workspace_id: int, conversation_id: str) -> ConversationFacts | None:
    c = Conversation.objects.filter(workspace_id=workspace_id, public_id=conversation_id).first()
    if c is None:
        return None
    return ConversationFacts(
        c.public_id, c.customer_id, c.channel, c.status, c.bot_active, c.language, c.assignee_id, c.team_id
    )


def message_facts(workspace_id: int, message_id: str) -> MessageFacts | None:
    from carekit.conversations.models import Message

    m = (
        Message.objects.filter(workspace_id=workspace_id, public_id=message_id)
        .select_related("conversation")
        .first()
    )
    if m is None:
        return None
    return MessageFacts(m.public_id, m.conversation.public_id, m.author_kind, m.text)


def _held(workspace_id: int, conversation_id: str) -> Conversation:
    return Conversation.objects.select_for_update().get(workspace_id=workspace_id, public_id=conversation_id)


def bot_reply(
    *, actor: Actor, workspace_id: int, conversation_id: str, text: str, data: dict | None = None
) -> str:
    """A reply authored by the bot; `data` carries quick replies for senders that render them."""
    from carekit.conversations.enums import AuthorKind

    conv = _held(workspace_id, conversation_id)
    return services.message_send(
        actor=actor, conversation=conv, text=text, author_kind=AuthorKind.BOT, data=data
    ).public_id


def bot_handoff(
    *,
    actor: Actor,
    workspace_id: int,
    conversation_id: str,
    reason: str,
    summary: dict,
    team_id: str = "",
) -> None:
    """The bot lets go: its summary (intent, entities, collected fields, answers) is pinned above the
    transcript (`_pinned.html`) and routing assigns a person."""
    from django.utils import timezone

    from carekit.conversations import lifecycle, routing
    from carekit.conversations.enums import ActivityKind

    at = timezone.now()
    conv = _held(workspace_id, conversation_id)
    conv.bot_active = False
    conv.pinned = {**summary, "by": "bot", "reason": reason, "at": at.isoformat()}
    conv.save(update_fields=["bot_active", "pinned"])
    services._activity(conv, ActivityKind.TRANSFERRED, actor, at, handoff=reason, team_id=team_id)
    services._event(conv, "handed_off", actor, at, reason=reason, team_id=team_id)
    if team_id and team_id != conv.team_id:
        lifecycle.conversation_transfer(actor=actor, conversation=conv, team_id=team_id, at=at)
    else:
        routing.assign_next(actor=actor, conversation=conv, at=at)


def bot_resolve(*, actor: Actor, workspace_id: int, conversation_id: str) -> None:
    from carekit.conversations import lifecycle

    lifecycle.conversation_resolve(actor=actor, conversation=_held(workspace_id, conversation_id))


def business_open(workspace_id: int, at: datetime, calendar_id: str = "") -> tuple[bool, datetime | None]:
    """Whether `at` falls in working hours of the calendar (default: the workspace's first one), and
    when work next starts if not. A workspace without a calendar is always open."""
    from carekit.conversations.business_hours import Calendar, add_business_seconds
    from carekit.conversations.models import BusinessCalendar

    rows = BusinessCalendar.objects.filter(workspace_id=workspace_id).order_by("pk")
    row = (rows.filter(public_id=calendar_id) if calendar_id else rows).first()
    if row is None:
        return True, None
    cal = Calendar.of(row.time_zone, row.hours, row.holidays)
    try:
        starts = add_business_seconds(cal, at, 0)
    except ValueError:
        return False, None
    return starts <= at, (None if starts <= at else starts)


def customer_texts(workspace_id: int, conversation_id: str, limit: int = 20) -> list[str]:
    """The customer's messages in a conversation, oldest first (the learning loop's suggestions)."""
    from carekit.conversations.enums import AuthorKind
    from carekit.conversations.models import Message

    rows = Message.objects.filter(
        workspace_id=workspace_id, conversation__public_id=conversation_id, author_kind=AuthorKind.CUSTOMER
    ).order_by("pk")[:limit]
    return [m.text for m in rows]
