"""Every write to conversations and messages: keyword-only, with `actor=`, inside the caller's transaction.

`conversation_receive_message` is the single entry point for every channel adapter; `message_send` is
the single way out (through core's outbound sender registry, after commit). Routing and SLA live in
`routing.py` and `sla.py` and are called from here in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.accounts import public as accounts
from carekit.conversations import notify, realtime, routing, sla
from carekit.conversations.enums import (
    ACTIVE_STATUSES,
    ActivityKind,
    AuthorKind,
    ConversationStatus,
    DeliveryState,
    Direction,
    MessageClass,
)
from carekit.conversations.errors import AttachmentRefused, ConversationClosed, NotFound
from carekit.conversations.models import (
    DEFAULT_ALLOWED_TYPES,
    Activity,
    Attachment,
    Conversation,
    InboxSettings,
    Message,
    Note,
)
from carekit.conversations.sanitize import html_to_text, sanitize_html, text_to_html
from carekit.core.errors import DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.customers import public as customers

MAX_TEXT = 20_000
MENTION_RE = re.compile(r"@([A-Za-z0-9_.+-]+)")


# --- settings ---------------------------------------------------------------------------------------


def settings_for(workspace_id: int) -> InboxSettings:
    row, _created = InboxSettings.objects.get_or_create(
        workspace_id=workspace_id, defaults={"allowed_types": list(DEFAULT_ALLOWED_TYPES)}
    )
    return row


def inbox_settings_update(*, actor: Actor, workspace: Workspace, changes: dict[str, Any]) -> InboxSettings:
    allowed = {
        "reopen_days",
        "attachment_max_bytes",
        "attachment_quota_bytes",
        "allowed_types",
        "tone_guide",
        "auto_away_minutes",
        "tracking_url_template",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError(_("Unknown settings: %(names)s") % {"names": ", ".join(sorted(unknown))})
    row = settings_for(workspace.pk)
    for key, value in changes.items():
        setattr(row, key, value)
    row.save()
    emit(
        workspace_id=workspace.pk,
        type="conversations.settings.updated",
        subject_type="workspace",
        subject_id=workspace.public_id,
        actor=actor,
        payload={"fields": sorted(changes)},
    )
    return row


# --- helpers ----------------------------------------------------------------------------------------


def _activity(conversation: Conversation, kind: str, actor: Actor, at: datetime, **data: Any) -> None:
    Activity.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        kind=kind,
        actor=str(actor)[:80],
        data=data,
        created_at=at,
    )


def _event(conversation: Conversation, verb: str, actor: Actor, at: datetime, **payload: Any) -> None:
    emit(
        workspace_id=conversation.workspace_id,
        type=f"conversations.conversation.{verb}",
        subject_type="conversation",
        subject_id=conversation.public_id,
        actor=actor,
        payload={"conversation_id": conversation.public_id, **payload},
        occurred_at=at,
    )


def _lock(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _clean_text(text: str, html: str) -> tuple[str, str]:
    if html:
        safe = sanitize_html(html)
        plain = text or html_to_text(safe)
    else:
        plain = text
        safe = text_to_html(text)
    plain = plain.strip()
    if not plain and not safe:
        return "", ""
    if len(plain) > MAX_TEXT:
        raise DomainError(
            _("The message is too long (at most %(n)s characters).") % {"n": MAX_TEXT}, field="text"
        )
    return plain, safe


# --- attachments ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    content: bytes


def _check_attachments(workspace_id: int, files: Sequence[NewAttachment]) -> InboxSettings:
    """Refuse before anything is written: size per file, allowed type, then the workspace quota."""
    cfg = settings_for(workspace_id)
    allowed = set(cfg.allowed_types or DEFAULT_ALLOWED_TYPES)
    for f in files:
        if len(f.content) > cfg.attachment_max_bytes:
            raise AttachmentRefused(
                _("%(name)s is larger than the limit of %(limit)s bytes.")
                % {"name": f.filename, "limit": cfg.attachment_max_bytes},
                field="attachments",
                code="attachment_too_large",
            )
        if f.content_type.split(";")[0].strip().lower() not in allowed:
            raise AttachmentRefused(
                _("Files of type %(type)s are not accepted.") % {"type": f.content_type},
                field="attachments",
                code="attachment_type_not_allowed",
            )
    total = sum(len(f.content) for f in files)
    if total and cfg.attachment_used_bytes + total > cfg.attachment_quota_bytes:
        raise AttachmentRefused(
            _("The workspace's storage quota for attachments is used up."),
            field="attachments",
            code="attachment_quota_exceeded",
        )
    return cfg


def _store_attachments(message: Message, files: Sequence[NewAttachment]) -> None:
    total = sum(len(f.content) for f in files)
    if not total:
        return
    # One conditional update keeps the quota exact under concurrent uploads.
    if not InboxSettings.objects.filter(
        workspace_id=message.workspace_id, attachment_used_bytes__lte=F("attachment_quota_bytes") - total
    ).update(attachment_used_bytes=F("attachment_used_bytes") + total):
        raise AttachmentRefused(
            _("The workspace's storage quota for attachments is used up."),
            field="attachments",
            code="attachment_quota_exceeded",
        )
    for f in files:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", f.filename)[-100:] or "file"
        att = Attachment(
            workspace_id=message.workspace_id,
            message=message,
            filename=f.filename[:200],
            content_type=f.content_type[:100],
            size=len(f.content),
        )
        att.file.save(name, ContentFile(f.content), save=False)
        att.save()


# --- inbound ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    """What a channel adapter hands over. The customer is given by id or by one exact identity."""

    channel: str
    thread_key: str
    external_id: str = ""
    channel_ref: str = ""
    customer_id: str = ""
    identity_kind: str = ""
    identity_value: str = ""
    text: str = ""
    html: str = ""
    subject: str = ""
    language: str = ""
    tags: tuple[str, ...] = ()
    intent: str = ""
    attachments: tuple[NewAttachment, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Received:
    message: Message
    conversation: Conversation
    duplicate: bool = False
    conversation_created: bool = False
    reopened: bool = False


def _existing(workspace_id: int, channel_key: str, external_id: str) -> Message | None:
    if not external_id:
        return None
    # No join: duplicates are rare, and planning the wide join cost more than the lookup itself.
    return Message.objects.filter(
        workspace_id=workspace_id, channel_key=channel_key, external_id=external_id
    ).first()


def conversation_receive_message(
    *, actor: Actor, workspace: Workspace, inbound: Inbound, at: datetime | None = None
) -> Received:
    """Store a customer's message: idempotent by (channel, external id); applies the lifecycle rule.

    The thread's latest conversation takes the message if it is active, or resolved within the
    workspace's `reopen_days` (it reopens); a closed one, or one resolved longer ago, is left alone
    and a new conversation starts. Routing runs for a new conversation; SLA clocks start or resume.
    """
    at = at or timezone.now()
    channel_key = f"{inbound.channel}:{inbound.channel_ref}"
    dup = _existing(workspace.pk, channel_key, inbound.external_id)
    if dup is not None:
        return Received(dup, dup.conversation, duplicate=True)
    if not inbound.thread_key:
        raise DomainError(_("A thread id is required."), field="thread_id")
    text, html = _clean_text(inbound.text, inbound.html)
    if not text and not inbound.attachments:
        raise DomainError(_("The message is empty."), field="text", code="empty_message")
    cfg = _check_attachments(workspace.pk, inbound.attachments)
    customer_id = inbound.customer_id
    if customer_id:
        ref = customers.customer(workspace.pk, customer_id)
        if ref is None:
            raise NotFound(_("Unknown customer."), field="customer_id")
        customer_id = ref.customer_id
    else:
        if not inbound.identity_kind or not inbound.identity_value:
            raise DomainError(_("The customer's identity is required."), field="customer")
        # While a thread's conversation is active its customer is fixed: skip the identity lookup on the
        # hot path (a new conversation resolves the identity again).
        customer_id = (
            Conversation.objects.filter(
                workspace=workspace,
                channel=inbound.channel,
                channel_ref=inbound.channel_ref,
                thread_key=inbound.thread_key,
                status__in=ACTIVE_STATUSES,
            )
            .order_by("-id")
            .values_list("customer_id", flat=True)
            .first()
        ) or ""
    if not customer_id:
        customer_id = customers.resolve(
            actor=actor, workspace_id=workspace.pk, kind=inbound.identity_kind, value=inbound.identity_value
        ).customer_id
    try:
        # A savepoint: a concurrent delivery of the same external id loses the unique race here and
        # answers with the winner's message instead of failing the caller's transaction.
        with transaction.atomic():
            return _receive(actor, workspace, inbound, cfg, customer_id, channel_key, text, html, at)
    except IntegrityError:
        dup = _existing(workspace.pk, channel_key, inbound.external_id)
        if dup is None:
            raise
        return Received(dup, dup.conversation, duplicate=True)


def _receive(
    actor: Actor,
    workspace: Workspace,
    inbound: Inbound,
    cfg: InboxSettings,
    customer_id: str,
    channel_key: str,
    text: str,
    html: str,
    at: datetime,
) -> Received:
    conv = (
        Conversation.objects.select_for_update()
        .filter(
            workspace=workspace,
            channel=inbound.channel,
            channel_ref=inbound.channel_ref,
            thread_key=inbound.thread_key,
        )
        .order_by("-id")
        .first()
    )
    created = reopened = False
    if conv is not None and conv.status == ConversationStatus.RESOLVED:
        if conv.resolved_at and conv.resolved_at >= at - timedelta(days=cfg.reopen_days):
            conv.status = ConversationStatus.OPEN
            conv.resolved_at = None
            reopened = True
        else:
            _close(conv, actor, at, reason="reopen_window_passed")
            conv = None
    elif conv is not None and conv.status == ConversationStatus.CLOSED:
        conv = None
    if conv is None:
        conv = Conversation.objects.create(
            workspace=workspace,
            customer_id=customer_id,
            channel=inbound.channel,
            channel_ref=inbound.channel_ref,
            thread_key=inbound.thread_key,
            subject=inbound.subject[:300],
            language=inbound.language[:8],
            tags=sorted(set(inbound.tags)),
            created_at=at,
            last_message_at=at,
            waiting_since=at,
            message_count=1,
            bot_active=routing.first_line_holds(workspace.pk, inbound.channel),
        )
        created = True
        _activity(conv, ActivityKind.CREATED, actor, at, channel=inbound.channel)
        _event(conv, "created", actor, at, customer_id=customer_id, channel=inbound.channel)
    message = Message.objects.create(
        workspace=workspace,
        conversation=conv,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        author_id=customer_id,
        text=text,
        html=html,
        channel_key=channel_key,
        external_id=inbound.external_id[:200],
        state=DeliveryState.RECEIVED,
        created_at=at,
    )
    _store_attachments(message, inbound.attachments)
    was_waiting = conv.waiting_since is not None
    woke = conv.status in (ConversationStatus.SNOOZED, ConversationStatus.PENDING)
    if woke:
        conv.status = ConversationStatus.OPEN
        conv.snoozed_until = None
    conv.last_message_at = at
    if not was_waiting:
        conv.waiting_since = at
    if not created:
        conv.message_count += 1  # the row is locked: this is exact
        conv.save(
            update_fields=[
                "status",
                "snoozed_until",
                "resolved_at",
                "last_message_at",
                "waiting_since",
                "message_count",
            ]
        )
    emit(
        workspace_id=workspace.pk,
        type="conversations.message.received",
        subject_type="message",
        subject_id=message.public_id,
        actor=actor,
        payload={
            "message_id": message.public_id,
            "conversation_id": conv.public_id,
            "customer_id": customer_id,
            "channel": inbound.channel,
            "attachments": len(inbound.attachments),
        },
        occurred_at=at,
    )
    if reopened:
        _activity(conv, ActivityKind.REOPENED, actor, at, reason="customer_message")
        _event(conv, "reopened", actor, at, reason="customer_message")
    if created:
        routing.route_new(actor=actor, conversation=conv, text=text, intent=inbound.intent, at=at)
        sla.clocks_start_new(actor=actor, conversation=conv, at=at)
    else:
        if woke:
            sla.clocks_resume(actor=actor, conversation=conv, at=at)
        if reopened:
            sla.clock_start(actor=actor, conversation=conv, target="resolution", at=at)
            if not conv.assignee_id:
                routing.assign_next(actor=actor, conversation=conv, at=at)
        if not was_waiting and conv.first_response_at is not None:
            sla.clock_start(actor=actor, conversation=conv, target="next_response", at=at)
    realtime.conversation_changed(conv, kind="message", message_id=message.public_id)
    return Received(message, conv, conversation_created=created, reopened=reopened)


# --- outbound ---------------------------------------------------------------------------------------


def message_send(
    *,
    actor: Actor,
    conversation: Conversation,
    text: str = "",
    html: str = "",
    message_class: str = MessageClass.REPLY,
    author_kind: str = AuthorKind.AGENT,
    author_id: str = "",
    canned_response_id: str = "",
    attachments: Sequence[NewAttachment] = (),
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Message:
    """Queue a message to the customer; it goes out after commit through the sender that the
    conversation's channel registered in core (`delivery.attempt`). A closed conversation refuses."""
    at = at or timezone.now()
    conv = _lock(conversation)
    if conv.status == ConversationStatus.CLOSED:
        raise ConversationClosed(
            _("This conversation is closed; a new message from the customer starts a new one.")
        )
    text, html = _clean_text(text, html)
    if not text and not attachments:
        raise DomainError(_("The message is empty."), field="text", code="empty_message")
    if message_class != MessageClass.REPLY and not customers.consent_allows(
        conv.workspace_id, conv.customer_id, message_class, conv.channel
    ):
        raise DomainError(
            _("The customer has not agreed to messages of this kind on this channel."),
            code="no_consent",
            field="message_class",
        )
    _check_attachments(conv.workspace_id, attachments)
    message = Message.objects.create(
        workspace_id=conv.workspace_id,
        conversation=conv,
        direction=Direction.OUTBOUND,
        author_kind=author_kind,
        author_id=author_id,
        text=text,
        html=html,
        channel_key=f"{conv.channel}:{conv.channel_ref}",
        state=DeliveryState.QUEUED,
        message_class=message_class,
        canned_response_id=canned_response_id,
        data=data or {},
        next_attempt_at=at,
        created_at=at,
    )
    _store_attachments(message, attachments)
    conv.last_message_at = at
    conv.message_count = F("message_count") + 1
    answered = author_kind in (AuthorKind.AGENT, AuthorKind.BOT) and conv.waiting_since is not None
    if answered:
        conv.waiting_since = None
        if conv.first_response_at is None:
            conv.first_response_at = at
    conv.save()
    conv.refresh_from_db(fields=["message_count"])
    conversation.__dict__.update(conv.__dict__)
    emit(
        workspace_id=conv.workspace_id,
        type="conversations.message.queued",
        subject_type="message",
        subject_id=message.public_id,
        actor=actor,
        payload={
            "message_id": message.public_id,
            "conversation_id": conv.public_id,
            "customer_id": conv.customer_id,
            "channel": conv.channel,
            "message_class": message_class,
            "author_kind": author_kind,
            "canned_response_id": canned_response_id,
        },
        occurred_at=at,
    )
    if answered:
        sla.clock_meet(actor=actor, conversation=conv, target="first_response", at=at)
        sla.clock_meet(actor=actor, conversation=conv, target="next_response", at=at)
    _enqueue_delivery(message.pk)
    realtime.conversation_changed(conv, kind="message", message_id=message.public_id)
    return message


def _enqueue_delivery(message_pk: int) -> None:
    def enqueue() -> None:
        from carekit.conversations.tasks import deliver_message

        deliver_message(message_pk)

    transaction.on_commit(enqueue)


# --- notes ------------------------------------------------------------------------------------------

MENTIONED = "conversations.mentioned"
ASSIGNED = "conversations.assigned"
SLA_WARNING = "conversations.sla_warning"


def _mentions(workspace_id: int, text: str, explicit: Iterable[str]) -> list[accounts.AgentRef]:
    agents = accounts.agents(workspace_id)
    wanted = set(explicit)
    handles = {h.lower() for h in MENTION_RE.findall(text)}
    out = []
    for a in agents:
        handle = a.display_name.split("@")[0].lower()
        first = a.display_name.split(" ")[0].lower()
        if a.member_id in wanted or handle in handles or first in handles or a.member_id.lower() in handles:
            out.append(a)
    return out


def note_add(
    *, actor: Actor, conversation: Conversation, author_id: str, text: str, mentions: Iterable[str] = ()
) -> Note:
    """An internal note; everyone @mentioned (by member id, first name or e-mail name) is notified."""
    text = text.strip()
    if not text:
        raise DomainError(_("The note is empty."), field="text")
    mentioned = _mentions(conversation.workspace_id, text, mentions)
    note = Note.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        author_id=author_id,
        text=text[:MAX_TEXT],
        mentions=[a.member_id for a in mentioned],
    )
    emit(
        workspace_id=conversation.workspace_id,
        type="conversations.note.added",
        subject_type="conversation",
        subject_id=conversation.public_id,
        actor=actor,
        payload={
            "note_id": note.public_id,
            "conversation_id": conversation.public_id,
            "mentions": note.mentions,
        },
    )
    users = [a.user_id for a in mentioned if a.member_id != author_id]
    if users:
        notify.notify(
            actor=actor,
            workspace_id=conversation.workspace_id,
            user_ids=users,
            kind=MENTIONED,
            subject_type="conversation",
            subject_id=conversation.public_id,
            params={"conversation": conversation.public_id},
        )
    realtime.conversation_changed(conversation, kind="note")
    return note


def _close(conv: Conversation, actor: Actor, at: datetime, reason: str) -> None:
    if conv.status == ConversationStatus.CLOSED:
        return
    had_agent = conv.status in ACTIVE_STATUSES and conv.assignee_id
    _set_status(conv, ConversationStatus.CLOSED, actor, at, ActivityKind.CLOSED, "closed", reason=reason)
    sla.clocks_finish(actor=actor, conversation=conv, at=at)
    if had_agent:
        routing.fill_slots(actor=actor, workspace_id=conv.workspace_id, at=at)


def _set_status(
    conv: Conversation, status: str, actor: Actor, at: datetime, kind: str, verb: str, **data: Any
):
    previous = conv.status
    conv.status = status
    conv.save()
    _activity(conv, kind, actor, at, previous=previous, **data)
    _event(conv, verb, actor, at, previous=previous, **data)
    realtime.conversation_changed(conv, kind="status")
