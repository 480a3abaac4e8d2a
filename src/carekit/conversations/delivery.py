"""Sending one outbound message: claim it, hand it to the channel's registered sender, record the result.

The state machine: queued → sending (claimed, attempts + 1) → sent; a retryable failure goes back to
queued with a backoff, a terminal one (or the last attempt) to failed. Like webhook deliveries this is
a worker entry point, so it opens its own durable transactions and calls the sender between them.
A message stuck in `sending` (its worker died) is re-queued by the sweeper; senders get the message id
as idempotency key, so a resend after such a crash can be recognised by the provider.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.conversations import realtime
from carekit.conversations.enums import DeliveryState, Direction
from carekit.conversations.models import Message
from carekit.core import outbound
from carekit.core.errors import Conflict
from carekit.core.events import Actor, emit

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BASE_DELAY = 30.0
SENDING_LEASE = timedelta(minutes=5)
ACTOR = Actor.system("conversations.delivery")


def backoff_seconds(attempts: int) -> float:
    return float(min(BASE_DELAY * (4 ** max(attempts - 1, 0)), 3 * 3600))


def _claim(message_id: int, now: datetime) -> bool:
    with transaction.atomic(durable=True):
        return bool(
            Message.objects.filter(pk=message_id, state=DeliveryState.QUEUED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .update(
                state=DeliveryState.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + SENDING_LEASE
            )
        )


def outbound_of(message: Message) -> outbound.OutboundMessage:
    conv = message.conversation
    return outbound.OutboundMessage(
        workspace_id=message.workspace_id,
        channel=conv.channel,
        to=conv.thread_key,
        body=message.text,
        message_class=outbound.MessageClass(message.message_class),
        subject=conv.subject,
        idempotency_key=message.public_id,
        data=message.data or {},
        headers={
            "X-Carekit-Channel": conv.channel_ref,
            "X-Carekit-Conversation": conv.public_id,
            "X-Carekit-Customer": conv.customer_id,
        },
    )


def attempt(message_id: int, *, now: datetime | None = None) -> str | None:
    """One attempt if the message is queued and due; returns its new state (None: nothing to do)."""
    now = now or timezone.now()
    if not _claim(message_id, now):
        return None
    message = Message.objects.select_related("conversation").get(pk=message_id)
    try:
        result = outbound.send(outbound_of(message))
    except outbound.UnknownChannel:
        result = outbound.SendResult(
            ok=False, error=f"no sender for channel {message.conversation.channel!r}"
        )
    except Exception as exc:  # a sender bug must not leave the message in `sending`; retry it
        logger.exception("sender for %s raised", message.conversation.channel)
        result = outbound.SendResult(ok=False, error=str(exc)[:500], retryable=True)
    if result.ok:
        state = DeliveryState.SENT
    elif result.retryable and message.attempts < MAX_ATTEMPTS:
        state = DeliveryState.QUEUED
    else:
        state = DeliveryState.FAILED
    delay = max(backoff_seconds(message.attempts), float(result.retry_after))
    done = timezone.now()
    with transaction.atomic(durable=True):
        Message.objects.filter(pk=message_id, state=DeliveryState.SENDING).update(
            state=state,
            provider_id=result.provider_id[:200],
            last_error="" if result.ok else result.error[:2000],
            sent_at=done if result.ok else None,
            next_attempt_at=done + timedelta(seconds=delay) if state == DeliveryState.QUEUED else None,
        )
        emit(
            workspace_id=message.workspace_id,
            type="conversations.message.delivery_changed",
            subject_type="message",
            subject_id=message.public_id,
            actor=ACTOR,
            payload={
                "message_id": message.public_id,
                "conversation_id": message.conversation.public_id,
                "state": state,
                "attempts": message.attempts,
            },
        )
        realtime.conversation_changed(message.conversation, kind="delivery", message_id=message.public_id)
    if state == DeliveryState.QUEUED:
        _schedule(message_id, delay)
    return state


def _schedule(message_id: int, delay: float) -> None:
    from carekit.conversations.tasks import deliver_message

    deliver_message.schedule((message_id,), delay=delay)


def sweep(*, now: datetime | None = None) -> int:
    """Re-queue messages whose worker died mid-send, and re-enqueue due ones whose job was lost."""
    from carekit.conversations.tasks import deliver_message

    now = now or timezone.now()
    with transaction.atomic(durable=True):
        Message.objects.filter(state=DeliveryState.SENDING, next_attempt_at__lt=now).update(
            state=DeliveryState.QUEUED, next_attempt_at=now
        )
    due = list(
        Message.objects.filter(
            state=DeliveryState.QUEUED, next_attempt_at__lte=now - timedelta(seconds=30)
        ).values_list("pk", flat=True)[:2000]
    )
    for pk in due:
        deliver_message(pk)
    return len(due)


def message_mark_delivered(*, actor: Actor, message: Message, at: datetime | None = None) -> bool:
    """The channel confirms the recipient got the message: sent → delivered. Runs inside the caller's
    transaction (unlike `attempt`); a repeat answers False and changes nothing; a message not yet sent
    (or failed) cannot be delivered."""
    at = at or timezone.now()
    if message.direction != Direction.OUTBOUND:
        raise Conflict(_("Only an outbound message can be delivered."), code="not_outbound")
    if not Message.objects.filter(pk=message.pk, state=DeliveryState.SENT).update(
        state=DeliveryState.DELIVERED
    ):
        current = Message.objects.filter(pk=message.pk).values_list("state", flat=True).first()
        if current == DeliveryState.DELIVERED:
            return False
        raise Conflict(_("The message has not been sent yet."), code="not_sent")
    message.state = DeliveryState.DELIVERED
    emit(
        workspace_id=message.workspace_id,
        type="conversations.message.delivery_changed",
        subject_type="message",
        subject_id=message.public_id,
        actor=actor,
        payload={
            "message_id": message.public_id,
            "conversation_id": message.conversation.public_id,
            "state": DeliveryState.DELIVERED,
            "attempts": message.attempts,
        },
        occurred_at=at,
    )
    realtime.conversation_changed(message.conversation, kind="delivery", message_id=message.public_id)
    return True


def message_retry(*, actor: Actor, message: Message) -> bool:
    """An agent sends a failed message again: back to queued with a fresh attempt budget, delivered
    after commit. Runs inside the caller's transaction; False if the message is not failed."""
    from carekit.conversations.services import _enqueue_delivery

    now = timezone.now()
    changed = Message.objects.filter(pk=message.pk, state=DeliveryState.FAILED).update(
        state=DeliveryState.QUEUED, attempts=0, next_attempt_at=now, last_error=""
    )
    if not changed:
        return False
    emit(
        workspace_id=message.workspace_id,
        type="conversations.message.retried",
        subject_type="message",
        subject_id=message.public_id,
        actor=actor,
        payload={"message_id": message.public_id, "conversation_id": message.conversation.public_id},
    )
    _enqueue_delivery(message.pk)
    realtime.conversation_changed(message.conversation, kind="delivery", message_id=message.public_id)
    return True
