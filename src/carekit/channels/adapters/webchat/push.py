"""Live delivery to visitors: the outbound sender for kind "webchat" and the group a socket joins.

A push carries only the message id; each socket loads the message and checks that it belongs to the
customer the socket is identified as before showing it (events carry references, not personal data).
The visitor who is offline finds the message in the history on return, so a push is best effort and
the sender reports success once the message is published.
"""

from __future__ import annotations

from django.db import transaction

from carekit.channels import selectors, services
from carekit.channels.models import Channel
from carekit.core import outbound
from carekit.core.realtime.publish import publish_now

KIND = "webchat"
PUSH = "webchat.push"  # the consumer's handler method is webchat_push
TYPING = "webchat.typing"  # ... and webchat_typing


def group_for(channel_public_id: str, customer_id: str) -> str:
    return f"wc.{channel_public_id}.c.{customer_id}"


def _publish(channel_public_id: str, customer_id: str, message_id: str) -> None:
    # After commit (or from the delivery worker, itself after commit); `publish_now` schedules the send
    # on the server's loop for the in-memory layer, as core requires.
    publish_now([group_for(channel_public_id, customer_id)], {"type": PUSH, "message_id": message_id})


def on_commit(channel: Channel, customer_id: str, message_id: str) -> None:
    """Tell the visitor's other open tabs (and this one) about a message they wrote."""
    public_id = channel.public_id
    transaction.on_commit(lambda: _publish(public_id, customer_id, message_id))


class WebchatSender:
    channel = KIND

    def send(self, message: outbound.OutboundMessage) -> outbound.SendResult:
        channel_id = message.headers.get("X-Carekit-Channel", "")
        customer_id = message.headers.get("X-Carekit-Customer", "")
        if message.workspace_id is None or not channel_id or not customer_id:
            return outbound.SendResult(ok=False, error="a web chat message needs its channel and customer")
        channel = selectors.channel_get(message.workspace_id, channel_id)
        if channel is None or not channel.is_active:
            return outbound.SendResult(ok=False, error="the web chat channel is missing or deactivated")
        _publish(channel.public_id, customer_id, message.idempotency_key)
        services.note_outbound(channel)
        return outbound.SendResult(ok=True, provider_id=f"wc:{message.idempotency_key}")

    def typing(self, workspace_id: int, channel_ref: str, customer_id: str) -> None:
        """An agent is typing in this customer's conversation: the visitor's sockets show it a moment."""
        if channel_ref and customer_id:
            publish_now([group_for(channel_ref, customer_id)], {"type": TYPING})


def register() -> None:
    if KIND not in outbound.registered_channels():
        outbound.register_sender(WebchatSender())
