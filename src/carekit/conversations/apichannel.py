"""The generic API channel: inbound through `POST /api/v1/inbox/api-channels/{id}/messages` (the external
system's own ids), outbound to the system's webhook URL through core webhooks (stored, signed, retried).

The channel registers an outbound sender for kind "api" in core's registry, so `message_send` reaches
it like any other channel. The sender records a webhook delivery whose body is the message itself:
unlike domain-event webhooks, this is the message being delivered to its recipient (ADR 0601).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.conversations.models import ApiChannel, Message
from carekit.core import outbound
from carekit.core.errors import DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.core.webhooks import services as webhooks
from carekit.core.webhooks.models import WebhookDelivery

CHANNEL = "api"
OUTBOUND_EVENT = "conversations.api_channel.outbound"


def api_channel_create(*, actor: Actor, workspace: Workspace, name: str, webhook_url: str) -> ApiChannel:
    """Create the channel and its webhook subscription; the signing secret is the subscription's."""
    if not name.strip():
        raise DomainError(_("The channel needs a name."), field="name")
    sub = webhooks.subscription_create(
        actor=actor,
        workspace=workspace,
        url=webhook_url,
        event_types=[OUTBOUND_EVENT],
        description=f"API channel: {name.strip()}"[:200],
    )
    channel = ApiChannel.objects.create(workspace=workspace, name=name.strip()[:120], subscription=sub)
    emit(
        workspace_id=workspace.pk,
        type="conversations.api_channel.created",
        subject_type="api_channel",
        subject_id=channel.public_id,
        actor=actor,
        payload={"channel_id": channel.public_id},
    )
    return channel


def outbound_body(message: outbound.OutboundMessage, channel: ApiChannel, ws_public_id: str) -> dict:
    row = Message.objects.filter(public_id=message.idempotency_key).only("html", "message_class").first()
    return {
        "type": "message.outbound",
        "workspace_id": ws_public_id,
        "channel_id": channel.public_id,
        "message_id": message.idempotency_key,
        "conversation_id": message.headers.get("X-Carekit-Conversation", ""),
        "thread_id": message.to,
        "text": message.body,
        "html": row.html if row else "",
        "message_class": str(message.message_class),
        "data": message.data,
        "sent_at": timezone.now().isoformat(),
    }


class ApiChannelSender:
    channel = CHANNEL

    def send(self, message: outbound.OutboundMessage) -> outbound.SendResult:
        channel_id = message.headers.get("X-Carekit-Channel", "")
        if message.workspace_id is None:
            return outbound.SendResult(ok=False, error="an API channel message needs its workspace")
        channel = (
            ApiChannel.objects.select_related("subscription", "workspace")
            .filter(workspace_id=message.workspace_id, public_id=channel_id)
            .first()
        )
        if channel is None or not channel.is_active or not channel.subscription.is_active:
            return outbound.SendResult(ok=False, error="the API channel is missing or deactivated")
        with transaction.atomic():
            # One delivery per message (the unique (subscription, event id) pair): a resend after a
            # worker crash finds the existing delivery instead of posting twice.
            delivery, created = WebhookDelivery.objects.get_or_create(
                subscription=channel.subscription,
                event_public_id=message.idempotency_key,
                defaults={
                    "workspace_id": channel.workspace_id,
                    "event_type": OUTBOUND_EVENT,
                    "payload": outbound_body(message, channel, channel.workspace.public_id),
                },
            )
            if created:
                transaction.on_commit(lambda: _deliver(delivery.pk))
        return outbound.SendResult(ok=True, provider_id=delivery.public_id)


def _deliver(delivery_pk: int) -> None:
    from carekit.core.webhooks.tasks import deliver_webhook

    deliver_webhook(delivery_pk)


def register() -> None:
    if CHANNEL not in outbound.registered_channels():
        outbound.register_sender(ApiChannelSender())
