"""Callback offers: customers whose preferred channel is the phone get a call back instead of a chat
link. `callback_offer` (a service) opens the callback task and queues an SMS that says when we will
call; the "phone" outbound sender turns any message sent through the phone channel (e.g. by a
scenario) into such an offer, with the message as the task's title for the agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carekit.channels import selectors
from carekit.channels.adapters.phone import DEFAULT_CALLBACK_MINUTES
from carekit.channels.adapters.phone.calls import KIND, SOURCE
from carekit.conversations import public as conversations
from carekit.core import outbound
from carekit.core.errors import DomainError
from carekit.core.events import Actor
from carekit.customers import public as customers

ACTOR = Actor.system("channels.phone")


@dataclass(frozen=True)
class Offered:
    task_id: str
    due_at: datetime
    sms_queued: bool


def callback_minutes(workspace_id: int) -> int:
    ch = selectors.channel_for_message(workspace_id, KIND)
    return int((ch.config.get("callback_sla_minutes") if ch else 0) or DEFAULT_CALLBACK_MINUTES)


def callback_offer(
    *, actor: Actor, workspace_id: int, customer_id: str, reason: str = "", at: datetime | None = None
) -> Offered:
    """Open a callback task due within the phone channel's callback time, and text the customer."""
    at = at or timezone.now()
    minutes = callback_minutes(workspace_id)
    due = at + timedelta(minutes=minutes)
    title = (
        _("Call back: %(reason)s") % {"reason": reason.strip()[:250]} if reason.strip() else _("Call back")
    )
    task_id = conversations.task_create(
        actor=actor,
        workspace_id=workspace_id,
        title=title,
        kind="callback",
        customer_id=customer_id,
        due_at=due,
        source=f"{SOURCE}.offer",
    )
    number = customers.contact_address(workspace_id, customer_id, "sms")
    sms = bool(number) and "sms" in outbound.registered_channels()
    if sms:
        ref = customers.customer(workspace_id, customer_id)
        with translation.override((ref.language if ref else "") or None):
            body = _("We will call you back within %(minutes)s minutes.") % {"minutes": minutes}
        message = outbound.OutboundMessage(
            workspace_id=workspace_id,
            channel="sms",
            to=str(number),
            body=body,
            message_class=outbound.MessageClass.SERVICE,
            idempotency_key=task_id,
        )
        transaction.on_commit(lambda: outbound.send(message))
    return Offered(task_id, due, sms)


class PhoneSender:
    """A message "sent" through the phone channel becomes a callback offer (task + SMS)."""

    channel = "phone"

    def send(self, message: outbound.OutboundMessage) -> outbound.SendResult:
        if message.workspace_id is None:
            return outbound.SendResult(ok=False, error="no workspace")
        try:
            offered = self._offer(message)
        except DomainError as exc:
            return outbound.SendResult(ok=False, error=exc.message)
        return outbound.SendResult(ok=True, provider_id=offered.task_id)

    def _offer(self, message: outbound.OutboundMessage) -> Offered:
        assert message.workspace_id is not None
        with transaction.atomic(durable=True):
            customer_id = (
                message.headers.get("X-Carekit-Customer")
                or (
                    customers.resolve(
                        actor=ACTOR, workspace_id=message.workspace_id, kind="phone", value=message.to
                    )
                ).customer_id
            )
            return callback_offer(
                actor=ACTOR,
                workspace_id=message.workspace_id,
                customer_id=customer_id,
                reason=message.subject or message.body,
            )
