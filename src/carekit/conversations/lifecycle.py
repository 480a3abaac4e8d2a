"""Assignment and status of conversations: assign, transfer, snooze, wait, resolve, reopen, close,
priority, tags, merge, bulk actions, and the periodic wake-up and closing jobs' services."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.accounts import public as accounts
from carekit.conversations import notify, realtime, routing, sla
from carekit.conversations.enums import (
    ACTIVE_STATUSES,
    ActivityKind,
    ConversationStatus,
    Priority,
)
from carekit.conversations.errors import ConversationClosed, NotFound
from carekit.conversations.models import (
    Conversation,
    InboxSettings,
    Message,
    Note,
    Task,
)
from carekit.conversations.services import ASSIGNED, _activity, _close, _event, _lock, _set_status
from carekit.core.errors import Conflict, DomainError
from carekit.core.events import Actor
from carekit.core.models import Workspace

# --- assignment and status --------------------------------------------------------------------------


def _member(workspace_id: int, member_id: str) -> accounts.AgentRef:
    agent = next((a for a in accounts.agents(workspace_id) if a.member_id == member_id), None)
    if agent is None:
        raise NotFound(_("Unknown agent."), field="assignee_id")
    return agent


def conversation_assign(
    *, actor: Actor, conversation: Conversation, assignee_id: str, at: datetime | None = None
) -> Conversation:
    """Assign (or with an empty id, unassign); the agent is notified in the app."""
    at = at or timezone.now()
    conv = _lock(conversation)
    if conv.status == ConversationStatus.CLOSED:
        raise ConversationClosed(_("This conversation is closed."))
    if conv.assignee_id == assignee_id:
        return conv
    agent = _member(conv.workspace_id, assignee_id) if assignee_id else None
    previous = conv.assignee_id
    conv.assignee_id = assignee_id
    conv.assigned_at = at if assignee_id else None
    conv.save(update_fields=["assignee_id", "assigned_at"])
    kind = ActivityKind.ASSIGNED if assignee_id else ActivityKind.UNASSIGNED
    _activity(conv, kind, actor, at, assignee_id=assignee_id, previous=previous)
    _event(
        conv,
        "assigned" if assignee_id else "unassigned",
        actor,
        at,
        assignee_id=assignee_id,
        previous=previous,
    )
    if agent is not None:
        routing.note_assigned(conv.workspace_id, assignee_id, at)
        if actor.id != agent.user_id:
            notify.notify(
                actor=actor,
                workspace_id=conv.workspace_id,
                user_ids=[agent.user_id],
                kind=ASSIGNED,
                subject_type="conversation",
                subject_id=conv.public_id,
                params={"conversation": conv.public_id},
            )
    if previous:
        routing.fill_slots(actor=actor, workspace_id=conv.workspace_id, at=at)
    realtime.conversation_changed(conv, kind="assignment")
    conversation.__dict__.update(conv.__dict__)
    return conv


def conversation_transfer(
    *,
    actor: Actor,
    conversation: Conversation,
    team_id: str,
    assignee_id: str = "",
    at: datetime | None = None,
) -> Conversation:
    """Move to another team; its routing assigns someone unless an agent is named."""
    at = at or timezone.now()
    conv = _lock(conversation)
    if conv.status == ConversationStatus.CLOSED:
        raise ConversationClosed(_("This conversation is closed."))
    if team_id and not any(t.team_id == team_id for t in accounts.teams(conv.workspace_id)):
        raise NotFound(_("Unknown team."), field="team_id")
    previous_team, previous_agent = conv.team_id, conv.assignee_id
    conv.team_id = team_id
    conv.assignee_id = ""
    conv.assigned_at = None
    conv.save(update_fields=["team_id", "assignee_id", "assigned_at"])
    _activity(conv, ActivityKind.TRANSFERRED, actor, at, team_id=team_id, previous_team=previous_team)
    _event(conv, "transferred", actor, at, team_id=team_id, previous_team=previous_team)
    sla.clocks_repolicy(actor=actor, conversation=conv, at=at)
    if assignee_id:
        conversation_assign(actor=actor, conversation=conv, assignee_id=assignee_id, at=at)
    else:
        routing.assign_next(actor=actor, conversation=conv, at=at)
    if previous_agent:
        routing.fill_slots(actor=actor, workspace_id=conv.workspace_id, at=at)
    conversation.__dict__.update(conv.__dict__)
    return conv


def conversation_snooze(
    *, actor: Actor, conversation: Conversation, until: datetime, at: datetime | None = None
) -> Conversation:
    at = at or timezone.now()
    conv = _lock(conversation)
    if conv.status not in ACTIVE_STATUSES:
        raise Conflict(_("Only an active conversation can be snoozed."), code="not_active")
    if until <= at:
        raise DomainError(_("Snooze until a time in the future."), field="until")
    conv.snoozed_until = until
    _set_status(
        conv, ConversationStatus.SNOOZED, actor, at, ActivityKind.SNOOZED, "snoozed", until=until.isoformat()
    )
    conversation.__dict__.update(conv.__dict__)
    return conv


def conversation_wait_on_customer(*, actor: Actor, conversation: Conversation, at: datetime | None = None):
    """Status `pending`: we wait for the customer, so the SLA clocks pause until they write."""
    at = at or timezone.now()
    conv = _lock(conversation)
    if conv.status not in ACTIVE_STATUSES:
        raise Conflict(_("Only an active conversation can wait on the customer."), code="not_active")
    _set_status(conv, ConversationStatus.PENDING, actor, at, ActivityKind.STATUS, "pending")
    sla.clocks_pause(actor=actor, conversation=conv, at=at)
    conversation.__dict__.update(conv.__dict__)
    return conv


def conversation_resolve(
    *, actor: Actor, conversation: Conversation, at: datetime | None = None
) -> Conversation:
    """Resolve; the assignee's freed slot is filled from the waiting queue at once."""
    at = at or timezone.now()
    conv = _lock(conversation)
    if conv.status in (ConversationStatus.RESOLVED, ConversationStatus.CLOSED):
        return conv
    conv.resolved_at = at
    conv.waiting_since = None
    conv.snoozed_until = None
    _set_status(conv, ConversationStatus.RESOLVED, actor, at, ActivityKind.RESOLVED, "resolved")
    sla.clocks_finish(actor=actor, conversation=conv, at=at)
    if conv.assignee_id:
        routing.fill_slots(actor=actor, workspace_id=conv.workspace_id, at=at)
    conversation.__dict__.update(conv.__dict__)
    return conv


def conversation_reopen(
    *, actor: Actor, conversation: Conversation, at: datetime | None = None
) -> Conversation:
    at = at or timezone.now()
    conv = _lock(conversation)
    if conv.status == ConversationStatus.CLOSED:
        raise ConversationClosed(_("A closed conversation cannot be reopened."))
    if conv.status != ConversationStatus.RESOLVED:
        return conv
    conv.resolved_at = None
    _set_status(conv, ConversationStatus.OPEN, actor, at, ActivityKind.REOPENED, "reopened", reason="agent")
    sla.clock_start(actor=actor, conversation=conv, target="resolution", at=at)
    conversation.__dict__.update(conv.__dict__)
    return conv


def conversation_close(
    *, actor: Actor, conversation: Conversation, at: datetime | None = None
) -> Conversation:
    """Final: the thread's next message starts a new conversation."""
    at = at or timezone.now()
    conv = _lock(conversation)
    _close(conv, actor, at, reason="agent")
    conversation.__dict__.update(conv.__dict__)
    return conv


def conversation_set_priority(
    *, actor: Actor, conversation: Conversation, priority: str, at: datetime | None = None
) -> Conversation:
    at = at or timezone.now()
    conv = _lock(conversation)
    if conv.priority == priority:
        return conv
    previous = conv.priority
    conv.priority = Priority(priority)
    conv.save(update_fields=["priority"])
    _activity(conv, ActivityKind.PRIORITY, actor, at, priority=priority, previous=previous)
    _event(conv, "priority_changed", actor, at, priority=priority, previous=previous)
    realtime.conversation_changed(conv, kind="priority")
    conversation.__dict__.update(conv.__dict__)
    return conv


def conversation_tag(
    *, actor: Actor, conversation: Conversation, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> Conversation:
    at = timezone.now()
    conv = _lock(conversation)
    tags = (set(conv.tags) | {t.strip()[:60] for t in add if t.strip()}) - set(remove)
    if sorted(tags) == sorted(conv.tags):
        return conv
    conv.tags = sorted(tags)
    conv.save(update_fields=["tags"])
    _activity(conv, ActivityKind.TAGGED, actor, at, tags=conv.tags)
    _event(conv, "tagged", actor, at, tags=conv.tags)
    conversation.__dict__.update(conv.__dict__)
    return conv


def conversation_merge(
    *, actor: Actor, source: Conversation, target: Conversation, at: datetime | None = None
) -> Conversation:
    """Move the source's messages, notes and tasks into the target (same customer) and close the source."""
    at = at or timezone.now()
    if source.pk == target.pk or source.workspace_id != target.workspace_id:
        raise DomainError(_("Pick two different conversations."), field="target_id")
    first, second = sorted([source, target], key=lambda c: c.pk)  # lock in a fixed order
    _lock(first)
    _lock(second)
    src, dst = Conversation.objects.get(pk=source.pk), Conversation.objects.get(pk=target.pk)
    if src.customer_id != dst.customer_id:
        raise DomainError(_("Only conversations of the same customer can be merged."), field="target_id")
    if dst.status == ConversationStatus.CLOSED:
        raise ConversationClosed(_("The target conversation is closed."))
    moved = Message.objects.filter(conversation=src).update(conversation=dst)
    Note.objects.filter(conversation=src).update(conversation=dst)
    Task.objects.filter(conversation=src).update(conversation=dst)
    dst.message_count = F("message_count") + moved
    dst.last_message_at = max(dst.last_message_at, src.last_message_at)
    dst.save()
    dst.refresh_from_db(fields=["message_count"])
    src.merged_into = dst
    src.message_count = 0
    src.save(update_fields=["merged_into", "message_count"])
    _close(src, actor, at, reason="merged")
    _activity(dst, ActivityKind.MERGED, actor, at, source=src.public_id, messages=moved)
    _event(dst, "merged", actor, at, source_id=src.public_id, messages=moved)
    return dst


BULK_ACTIONS = ("assign", "resolve", "close", "priority", "snooze", "transfer")


def conversations_bulk(
    *, actor: Actor, workspace: Workspace, conversation_ids: Sequence[str], action: str, value: str = ""
) -> list[Conversation]:
    """One action on many conversations in one transaction; each gets its own timeline row and event.
    Unknown ids fail the whole call (nothing changes)."""
    if action not in BULK_ACTIONS:
        raise DomainError(_("Unknown bulk action."), field="action")
    ids = list(dict.fromkeys(conversation_ids))
    rows = {c.public_id: c for c in Conversation.objects.filter(workspace=workspace, public_id__in=ids)}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise NotFound(_("Unknown conversations."), field="conversation_ids", details=missing)
    done = []
    for cid in ids:
        conv = rows[cid]
        if action == "assign":
            done.append(conversation_assign(actor=actor, conversation=conv, assignee_id=value))
        elif action == "resolve":
            done.append(conversation_resolve(actor=actor, conversation=conv))
        elif action == "close":
            done.append(conversation_close(actor=actor, conversation=conv))
        elif action == "priority":
            done.append(conversation_set_priority(actor=actor, conversation=conv, priority=value))
        elif action == "transfer":
            done.append(conversation_transfer(actor=actor, conversation=conv, team_id=value))
        else:
            until = datetime.fromisoformat(value) if value else timezone.now() + timedelta(hours=4)
            done.append(conversation_snooze(actor=actor, conversation=conv, until=until))
    return done


def snoozed_wake(*, actor: Actor, at: datetime | None = None) -> int:
    """Reopen conversations whose snooze ended (run by a periodic job)."""
    at = at or timezone.now()
    n = 0
    for conv in Conversation.objects.filter(status=ConversationStatus.SNOOZED, snoozed_until__lte=at)[:500]:
        conv.snoozed_until = None
        _set_status(
            conv, ConversationStatus.OPEN, actor, at, ActivityKind.REOPENED, "woke", reason="snooze_ended"
        )
        n += 1
    return n


def resolved_close_stale(*, actor: Actor, at: datetime | None = None) -> int:
    """Close conversations resolved longer ago than their workspace's reopen window."""
    at = at or timezone.now()
    n = 0
    for cfg in InboxSettings.objects.all():
        stale = Conversation.objects.filter(
            workspace_id=cfg.workspace_id,
            status=ConversationStatus.RESOLVED,
            resolved_at__lt=at - timedelta(days=cfg.reopen_days),
        )[:500]
        for conv in stale:
            _close(conv, actor, at, reason="reopen_window_passed")
            n += 1
    return n
