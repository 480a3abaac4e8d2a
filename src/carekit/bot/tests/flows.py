"""Helpers for the flow tests: a workspace with the bot on the API channel, customers, orders, and a
customer's message posted through the API channel with every after-commit effect run."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.test import Client
from django.utils import timezone

from carekit.bot import services
from carekit.conversations.models import Conversation, Message
from carekit.core.models import Workspace
from carekit.customers import services as customer_services
from carekit.customers.models import Customer
from carekit.customers.orders import ItemInput, OrderInput, order_upsert
from carekit.knowledge.services import seed_default_articles
from carekit.testing.tenants import SYSTEM


def bot_on(workspace: Workspace, channels=("api",), **kw) -> None:
    with transaction.atomic():
        services.bot_settings_update(actor=SYSTEM, workspace=workspace, enabled_channels=list(channels), **kw)
        seed_default_articles(actor=SYSTEM, workspace=workspace)


def channel(api) -> str:
    resp = api.post("/inbox/api-channels", {"name": "Shop", "webhook_url": "http://127.0.0.1:9/hook"})
    assert resp.status_code == 201, resp.content
    return resp.json()["id"]


def customer(workspace: Workspace, *, verified: bool, ref: str = "c-1") -> str:
    """A customer known to the shop's backend by its own id; `verified`: the identity is proven."""
    with transaction.atomic():
        c = customer_services.customer_resolve(
            actor=SYSTEM, workspace=workspace, kind="external", value=ref
        ).customer
        if verified:
            c.identities.update(verified=True)
    return c.public_id


def order(workspace: Workspace, customer_id: str, number: str = "10234", **kw) -> None:
    now = timezone.now()
    data = {
        "status": "shipped",
        "carrier": "СДЭК",
        "tracking_number": "TRK-777",
        "promised_at": now + timedelta(days=2),
        "shipped_at": now - timedelta(days=1),
        **kw,
    }
    with transaction.atomic():
        order_upsert(
            actor=SYSTEM,
            workspace=workspace,
            data=OrderInput(
                external_id=number,
                currency="RUB",
                total=Decimal("5990"),
                customer_id=customer_id,
                items=[
                    ItemInput("DR-1", 1, "4990", name="Платье льняное", category="dresses"),
                    ItemInput("BL-2", 1, "1000", name="Ремень", category="belts"),
                ],
                **data,
            ),
        )


class Chat:
    """One customer's thread on the API channel."""

    def __init__(self, api, capture, channel_id: str, *, customer_id: str = "", ref: str = "", thread="t-1"):
        self.api, self.capture, self.channel_id = api, capture, channel_id
        self.who = {"customer_id": customer_id} if customer_id else {"customer_ref": ref}
        self.thread, self.n, self.conversation_id = thread, 0, ""

    def send(self, text: str, expect: int = 201):
        self.n += 1
        body = {"thread_id": self.thread, "message_id": f"{self.thread}-{self.n}", "text": text, **self.who}
        with self.capture(execute=True):
            resp = self.api.post(f"/inbox/api-channels/{self.channel_id}/messages", body)
        assert resp.status_code == expect, resp.content
        if expect == 201:
            self.conversation_id = resp.json()["conversation_id"]
        return resp

    def bot(self) -> list[Message]:
        return list(
            Message.objects.filter(conversation__public_id=self.conversation_id, author_kind="bot").order_by(
                "pk"
            )
        )

    def last(self) -> Message:
        return self.bot()[-1]

    def conversation(self) -> Conversation:
        return Conversation.objects.get(public_id=self.conversation_id)


def signed_in(member, workspace: Workspace, language: str = "en") -> Client:
    """A browser session of a workspace member (the pages' tests)."""
    c = Client(headers={"accept-language": language})
    c.force_login(member.user)
    s = c.session
    s["carekit_workspace"] = workspace.public_id
    s.save()
    return c


def customer_row(customer_id: str) -> Customer:
    return Customer.objects.get(public_id=customer_id)
