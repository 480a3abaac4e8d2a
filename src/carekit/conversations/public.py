"""What other contexts may use from the inbox: the entry point for channel adapters, task creation,
and frozen facts. Functions run inside the caller's transaction (ARCHITECTURE.md rule 8)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from carekit.conversations import services, worktasks
from carekit.conversations.enums import DeliveryState
from carekit.conversations.models import Conversation, Message
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


@dataclass(frozen=True)
class HistoryMessage:
    direction: str  # inbound (the customer) | outbound (agent, bot or system)
    author_kind: str
    text: str
    at: datetime


@dataclass(frozen=True)
class HistoryConversation:
    conversation_id: str
    channel: str
    subject: str
    status: str
    last_message_at: datetime
    messages: tuple[HistoryMessage, ...]


def customer_history(
    workspace_id: int, customer_id: str, *, conversations: int = 10, messages: int = 50
) -> Sequence[HistoryConversation]:
    """What the customer may see of their own conversations (the cabinet): messages exchanged with
    them, newest conversation first, each oldest message first. Internal notes, activity and messages
    that never left (failed, still queued) are not part of it."""
    convs = list(
        Conversation.objects.filter(workspace_id=workspace_id, customer_id=customer_id).order_by(
            "-last_message_at", "-pk"
        )[:conversations]
    )
    hidden = (DeliveryState.FAILED, DeliveryState.QUEUED, DeliveryState.SENDING)
    out = []
    for c in convs:
        rows = (
            Message.objects.filter(workspace_id=workspace_id, conversation=c)
            .exclude(state__in=hidden)
            .order_by("-pk")
            .values_list("direction", "author_kind", "text", "created_at")[:messages]
        )
        msgs = tuple(HistoryMessage(*r) for r in reversed(rows))
        out.append(HistoryConversation(c.public_id, c.channel, c.subject, c.status, c.last_message_at, msgs))
    return out


# --- for channel adapters (email): safe text of HTML mail, and per-message details shown to agents ----


def html_to_text(html: str) -> str:
    """Plain text of an HTML body, through the inbox's sanitizer rules (scripts and styles dropped)."""
    from carekit.conversations.sanitize import html_to_text as _html_to_text

    return _html_to_text(html)


# A provider returns, for the given message public ids, lines such as ("Cc", "a@example.com") that the
# agent sees on the message (e.g. the email adapter's From/To/Cc/Bcc). Registered by the adapter.
_DETAIL_PROVIDERS: list[Callable[[int, Sequence[str]], dict[str, list[tuple[str, str]]]]] = []


def register_message_details(
    provider: Callable[[int, Sequence[str]], dict[str, list[tuple[str, str]]]],
) -> None:
    if provider not in _DETAIL_PROVIDERS:
        _DETAIL_PROVIDERS.append(provider)


def message_details(workspace_id: int, message_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for provider in _DETAIL_PROVIDERS:
        for message_id, lines in provider(workspace_id, message_ids).items():
            out.setdefault(message_id, []).extend(lines)
    return out
