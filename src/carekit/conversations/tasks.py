"""Inbox jobs (thin: load by id, call a service, each in its own durable transaction)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from carekit.conversations import delivery, lifecycle, routing, sla
from carekit.core.errors import DomainError
from carekit.core.events import Actor
from carekit.core.jobs import periodic, task

SYSTEM = Actor.system("conversations")
logger = logging.getLogger(__name__)


@task()
def deliver_message(message_id: int) -> str | None:
    return delivery.attempt(message_id)


def sla_run_due(at: datetime | None = None) -> tuple[int, int]:
    """Warn and breach every due clock, one transaction per clock; running it twice acts once."""
    at = at or timezone.now()
    warned = breached = 0
    for clock_id in sla.due_to_warn(at):
        with transaction.atomic(durable=True):
            warned += sla.clock_warn(actor=SYSTEM, clock_id=clock_id, at=at)
    for clock_id in sla.due_to_breach(at):
        try:
            with transaction.atomic(durable=True):
                breached += sla.clock_breach(actor=SYSTEM, clock_id=clock_id, at=at)
        except DomainError:
            # e.g. a policy naming a coupon template loyalty does not know: the clock stays running and
            # is retried next minute; the log says why, the other clocks go on
            logger.exception("SLA breach of clock %s failed", clock_id)
    return warned, breached


@periodic(minute="*", description="SLA warnings and breaches")
def sla_tick() -> tuple[int, int]:
    return sla_run_due()


@periodic(minute="*", description="wake snoozed conversations, auto-away idle agents, resend lost messages")
def inbox_tick() -> None:
    with transaction.atomic(durable=True):
        lifecycle.snoozed_wake(actor=SYSTEM)
    with transaction.atomic(durable=True):
        routing.agents_auto_away(actor=SYSTEM)
    delivery.sweep()


@periodic(minute="17", hour="*", description="close conversations resolved longer ago than the reopen window")
def inbox_close_stale() -> int:
    with transaction.atomic(durable=True):
        return lifecycle.resolved_close_stale(actor=SYSTEM)


@task(retries=3, retry_delay=60)
def email_notification(notification_pk: int) -> bool:
    """E-mail one notification to its member (their preference said so when it was created)."""
    from carekit.conversations import notify
    from carekit.core import outbound
    from carekit.core.realtime.models import Notification

    row = Notification.objects.filter(pk=notification_pk).first()
    message = notify.email_of(row) if row is not None else None
    if message is None:
        return False
    result = outbound.send(message)
    if not result.ok and result.retryable:
        raise RuntimeError(f"e-mail for notification {row.public_id if row else ''} failed: {result.error}")
    return result.ok
