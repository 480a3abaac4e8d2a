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


# --- for channel adapters and channel settings (appended for carekit.channels) ----------------------

UNDELIVERED_STATES = ("queued", "sending", "failed")


def undelivered_count(workspace_id: int, channel: str, channel_ref: str) -> int:
    """Outbound messages of one channel instance not (yet) handed to the provider: queued, being sent
    or failed. Shown on the channel's health page."""
    from carekit.conversations.models import Message

    return Message.objects.filter(
        workspace_id=workspace_id, channel_key=f"{channel}:{channel_ref}", state__in=UNDELIVERED_STATES
    ).count()


def message_attachments(workspace_id: int, message_id: str) -> list[NewAttachment]:
    """The files of one message (an outbound sender reads them to upload; read at send time only)."""
    from carekit.conversations.models import Attachment

    out = []
    for att in Attachment.objects.filter(workspace_id=workspace_id, message__public_id=message_id).order_by(
        "pk"
    ):
        with att.file.open("rb") as fh:
            out.append(NewAttachment(att.filename, att.content_type, fh.read()))
    return out


def open_tasks(workspace_id: int, *, customer_id: str, kind: str = "", source: str = "") -> list[str]:
    """Ids of the customer's open tasks, oldest first (optionally of one kind and source)."""
    from carekit.conversations.models import Task

    qs = Task.objects.filter(workspace_id=workspace_id, customer_id=customer_id, status="open")
    if kind:
        qs = qs.filter(kind=kind)
    if source:
        qs = qs.filter(source=source)
    return list(qs.order_by("pk").values_list("public_id", flat=True))


def task_done(*, actor: Actor, workspace_id: int, task_id: str) -> bool:
    """Complete an open task; False if it is unknown in this workspace or no longer open."""
    from carekit.conversations.models import Task

    task = Task.objects.select_for_update().filter(workspace_id=workspace_id, public_id=task_id).first()
    if task is None or task.status != "open":
        return False
    worktasks.task_complete(actor=actor, task=task)
    return True


def note_add(*, actor: Actor, workspace_id: int, conversation_id: str, text: str, author_id: str = "") -> str:
    """An internal note on a conversation (e.g. a logged phone call); returns its id, "" if unknown."""
    conv = Conversation.objects.filter(workspace_id=workspace_id, public_id=conversation_id).first()
    if conv is None:
        return ""
    return services.note_add(actor=actor, conversation=conv, author_id=author_id, text=text).public_id


def latest_conversation(workspace_id: int, *, channel: str, channel_ref: str, thread_key: str) -> str:
    """The id of a thread's newest conversation ("" if none): a channel logs events into it."""
    row = (
        Conversation.objects.filter(
            workspace_id=workspace_id, channel=channel, channel_ref=channel_ref, thread_key=thread_key
        )
        .order_by("-pk")
        .values_list("public_id", flat=True)
        .first()
    )
    return row or ""
