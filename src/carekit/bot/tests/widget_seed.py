"""Seeds the demo shop for the bot's widget test (run inside the served process's database)."""

from __future__ import annotations

from django.db import transaction

from carekit.bot import services
from carekit.bot.tests import flows
from carekit.channels.adapters.webchat import tokens
from carekit.channels.adapters.webchat.demo import demo_channel
from carekit.customers import public as customers
from carekit.testing.tenants import SYSTEM

EMAIL = "vera.bot@example.test"


def seed() -> str:
    """Bot on for the web chat; a customer known by email with order 10234 (a delivered linen dress);
    returns the host-site token that proves the visitor is that customer."""
    ch = demo_channel()
    assert ch is not None
    ws = ch.workspace
    with transaction.atomic():
        services.bot_settings_update(actor=SYSTEM, workspace=ws, enabled_channels=["webchat"])
        customer_id = customers.resolve(
            actor=SYSTEM, workspace_id=ws.pk, kind="email", value=EMAIL
        ).customer_id
    flows.order(ws, customer_id, status="delivered")
    return tokens.sign(ch.secrets["signing"], kind="email", value=EMAIL, name="Vera")
