"""Consents per purpose and channel, with their history, and the check every outbound path makes."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.core.events import Actor, emit
from carekit.core.outbound import MessageClass
from carekit.customers.enums import ConsentPurpose, CustomerStatus
from carekit.customers.models import Consent, ConsentRecord, Customer
from carekit.customers.normalize import InvalidValue

ANY_CHANNEL = "any"  # a consent given for every channel; a channel-specific answer overrides it

# Which consent purpose governs each message class. Replies answer the customer's own message.
_PURPOSE_OF = {MessageClass.SERVICE: ConsentPurpose.SERVICE, MessageClass.MARKETING: ConsentPurpose.MARKETING}


def consent_set(
    *,
    actor: Actor,
    customer: Customer,
    purpose: str,
    channel: str,
    granted: bool,
    source: str,
    text_version: str = "",
) -> Consent:
    """Grant or withdraw; every call appends a history record, even when the state does not change."""
    try:
        purpose = ConsentPurpose(purpose)
    except ValueError:
        raise InvalidValue(_("Unknown consent purpose."), field="purpose") from None
    channel = (channel or "").strip().lower()
    if not channel or len(channel) > 20:
        raise InvalidValue(_("A consent needs a channel."), field="channel")
    now = timezone.now()
    ConsentRecord.objects.create(
        workspace_id=customer.workspace_id,
        customer=customer,
        purpose=purpose,
        channel=channel,
        granted=granted,
        source=source[:40],
        text_version=text_version[:40],
        occurred_at=now,
    )
    consent, _created = Consent.objects.update_or_create(
        customer=customer,
        purpose=purpose,
        channel=channel,
        defaults={"workspace_id": customer.workspace_id, "granted": granted, "updated_at": now},
    )
    emit(
        workspace_id=customer.workspace_id,
        type="customers.consent.changed",
        subject_type="customer",
        subject_id=customer.public_id,
        actor=actor,
        payload={
            "customer_id": customer.public_id,
            "purpose": purpose,
            "channel": channel,
            "granted": granted,
            "source": source[:40],
        },
    )
    return consent


def consent_state(customer: Customer, purpose: str, channel: str) -> bool | None:
    """The answer for (purpose, channel): channel-specific first, then 'any'; None when never asked."""
    rows = {
        c.channel: c.granted
        for c in Consent.objects.filter(
            customer=customer, purpose=purpose, channel__in=[channel, ANY_CHANNEL]
        )
    }
    if channel in rows:
        return rows[channel]
    return rows.get(ANY_CHANNEL)


def consent_allows(customer: Customer, message_class: str, channel: str) -> bool:
    """Whether a message of this class may go to the customer through this channel.

    Replies are always allowed (the customer wrote first). Service messages go unless the customer
    withdrew service messages (or all processing) for the channel. Marketing needs an explicit grant.
    """
    if customer.status != CustomerStatus.ACTIVE:
        return False
    message_class = MessageClass(message_class)
    if message_class == MessageClass.REPLY:
        return True
    if consent_state(customer, ConsentPurpose.PROCESSING, channel) is False:
        return False
    state = consent_state(customer, _PURPOSE_OF[message_class], channel)
    if message_class == MessageClass.SERVICE:
        return state is not False
    return state is True
