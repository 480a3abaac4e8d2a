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
