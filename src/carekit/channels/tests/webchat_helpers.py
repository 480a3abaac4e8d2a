"""Shared set-up for the web chat tests: a channel, and a customer with an order and a past chat."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from carekit.channels import services
from carekit.channels.models import Channel
from carekit.conversations import public as conversations
from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.customers import public as customers
from carekit.customers.orders import OrderInput, order_upsert

SYSTEM = Actor.system("test")


def make_channel(ws: Workspace, **config) -> Channel:
    with transaction.atomic():
        return services.channel_create(actor=SYSTEM, workspace=ws, kind="webchat", name="Site", config=config)


def make_customer_with_history(ws: Workspace, channel: Channel, email: str = "olga@example.test") -> str:
    """A customer known by email with order 10234 and an earlier chat on this channel; returns the id."""
    with transaction.atomic():
        order_upsert(
            actor=SYSTEM,
            workspace=ws,
            data=OrderInput(
                external_id="10234",
                status="shipped",
                currency="RUB",
                total=Decimal("5490.00"),
                identity=("email", email),
                tracking_number="RA123456789RU",
            ),
        )
        customer_id = customers.identity_owner(ws.pk, "email", email)
        assert customer_id
        conversations.receive_message(
            actor=SYSTEM,
            workspace_id=ws.pk,
            inbound=conversations.Inbound(
                channel="webchat",
                channel_ref=channel.public_id,
                thread_key="v_earlier-device-000000",
                external_id="old-1",
                customer_id=customer_id,
                text="My secret earlier question about order 10234",
            ),
        )
    return customer_id
