"""What other contexts may use from the inbox: the entry point for channel adapters, task creation,
and frozen facts. Functions run inside the caller's transaction (ARCHITECTURE.md rule 8)."""

from __future__ import annotations

from collections.abc import Sequence
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


# --- reads for the web chat widget (carekit.channels.adapters.webchat) ----------------------------


@dataclass(frozen=True)
class MessageView:
    """One message as the customer may see it (no notes, no internal fields)."""

    message_id: str
    conversation_id: str
    customer_id: str
    thread_key: str
    channel_ref: str
    direction: str
    author_kind: str
    text: str
    created_at: datetime
    attachments: tuple[tuple[str, int], ...]  # (filename, size)


def _view(m) -> MessageView:  # a Message with its conversation loaded
    c = m.conversation
    return MessageView(
        m.public_id,
        c.public_id,
        c.customer_id,
        c.thread_key,
        c.channel_ref,
        m.direction,
        m.author_kind,
        m.text,
        m.created_at,
        tuple((a.filename, a.size) for a in m.attachments.all()),
    )


def customer_messages(
    workspace_id: int, *, channel: str, channel_ref: str, customer_id: str, limit: int = 200
) -> list[MessageView]:
    """The customer's messages on one channel instance, oldest first (the newest `limit`)."""
    from carekit.conversations.models import Message

    rows = list(
        Message.objects.filter(
            workspace_id=workspace_id,
            conversation__channel=channel,
            conversation__channel_ref=channel_ref,
            conversation__customer_id=customer_id,
        )
        .select_related("conversation")
        .prefetch_related("attachments")
        .order_by("-created_at", "-pk")[:limit]
    )
    return [_view(m) for m in reversed(rows)]


def message_view(workspace_id: int, message_id: str) -> MessageView | None:
    from carekit.conversations.models import Message

    m = (
        Message.objects.filter(workspace_id=workspace_id, public_id=message_id)
        .select_related("conversation")
        .prefetch_related("attachments")
        .first()
    )
    return _view(m) if m is not None else None


def thread_customer(workspace_id: int, *, channel: str, channel_ref: str, thread_key: str) -> str | None:
    """The customer of the thread's latest conversation (after merges), or None for a new thread."""
    return (
        Conversation.objects.filter(
            workspace_id=workspace_id, channel=channel, channel_ref=channel_ref, thread_key=thread_key
        )
        .order_by("-pk")
        .values_list("customer_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class AttachmentLimits:
    max_bytes: int
    allowed_types: tuple[str, ...]


def attachment_limits(workspace_id: int) -> AttachmentLimits:
    from carekit.conversations.models import DEFAULT_ALLOWED_TYPES

    cfg = services.settings_for(workspace_id)
    return AttachmentLimits(cfg.attachment_max_bytes, tuple(cfg.allowed_types or DEFAULT_ALLOWED_TYPES))


def calendar_opening(workspace_id: int, calendar_id: str, *, at: datetime) -> datetime | None:
    """When the business calendar is next open at or after `at` (`at` itself while open); None for an
    unknown calendar or one without working time."""
    from carekit.conversations.business_hours import Calendar, add_business_seconds
    from carekit.conversations.models import BusinessCalendar

    row = BusinessCalendar.objects.filter(workspace_id=workspace_id, public_id=calendar_id).first()
    if row is None:
        return None
    try:
        return add_business_seconds(Calendar.of(row.time_zone, row.hours, row.holidays), at, 0)
    except ValueError:
        return None
