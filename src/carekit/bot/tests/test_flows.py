"""The bot inside real conversations: a customer's message arrives on the API channel, the bot's
handler runs after commit and its reply is stored (author kind bot) and sent through the channel."""

from __future__ import annotations

import pytest
from django.db import transaction

from carekit.accounts.enums import Role
from carekit.bot.models import Dialogue, Turn
from carekit.bot.tests import flows
from carekit.conversations import routing
from carekit.customers.models import Return
from carekit.testing.tenants import SYSTEM, add_member

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def chat(api, workspace, django_capture_on_commit_callbacks):
    flows.bot_on(workspace)
    ch = flows.channel(api)

    def make(**kw):
        return flows.Chat(api, django_capture_on_commit_callbacks, ch, **kw)

    return make


def test_order_status_for_a_verified_customer(chat, workspace):
    cid = flows.customer(workspace, verified=True)
    flows.order(workspace, cid)
    c = chat(customer_id=cid)
    c.send("где мой заказ 10234")
    reply = c.last()
    assert reply.text.startswith("Заказ 10234: Отправлен.")
    assert "TRK-777" in reply.text
    assert reply.state == "sent"
    conv = c.conversation()
    assert (conv.bot_active, conv.assignee_id, conv.first_response_at is not None) == (True, "", True)
    turn = Turn.objects.get(workspace=workspace)
    assert (turn.intent, turn.decision, turn.reason) == ("order_status", "action", "order_status")


def test_the_same_from_an_unverified_customer_reveals_nothing(chat, workspace):
    owner = flows.customer(workspace, verified=True, ref="owner")
    flows.order(workspace, owner)
    c = chat(ref="stranger")
    c.send("где мой заказ 10234")
    [reply] = c.bot()
    assert "TRK" not in reply.text
    assert "10234" not in reply.text
    assert "Отправлен" not in reply.text
    assert reply.text.startswith("Чтобы показать данные заказа")
    assert reply.data["quick_replies"] == [{"title": "Позвать человека", "payload": "/operator"}]
    assert Dialogue.objects.get(workspace=workspace).flow == "verify"


def test_a_return_starts(chat, workspace):
    cid = flows.customer(workspace, verified=True)
    flows.order(workspace, cid, status="delivered")
    c = chat(customer_id=cid)
    c.send("хочу вернуть платье")
    ret = Return.objects.get(workspace=workspace)
    assert [(i["sku"], i["quantity"]) for i in ret.items] == [("DR-1", 1)]
    assert c.last().text.startswith("Я оформил возврат «Платье льняное» из заказа 10234")


def test_asking_for_an_operator_hands_off_with_the_summary_pinned(chat, workspace):
    agent = add_member(workspace, Role.AGENT)
    with transaction.atomic():
        routing.presence_set(actor=SYSTEM, workspace=workspace, member_id=agent.public_id, presence="online")
    cid = flows.customer(workspace, verified=True)
    c = chat(customer_id=cid)
    c.send("где мой заказ 10234")
    # an agent is online, but the bot holds the conversation
    assert (c.conversation().bot_active, c.conversation().assignee_id) == (True, "")
    c.send("позовите оператора")
    conv = c.conversation()
    assert (conv.bot_active, conv.assignee_id) == (False, agent.public_id)
    assert conv.pinned["reason"] == "requested"
    assert conv.pinned["intent"] == "order_status"
    assert conv.pinned["entities"] == [["order_number", "10234"]]
    assert conv.pinned["collected"] == [["order_number", "10234"]]
    assert len(conv.pinned["answers"]) == 2
    d = Dialogue.objects.get(workspace=workspace)
    assert (d.state, d.handoff_reason) == ("handed_off", "requested")
    page = flows.signed_in(agent, workspace).get(f"/inbox/c/{conv.public_id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index('id="pinned-summary"') < html.index('id="thread"')
    assert "Клиент попросил человека" in html or "The customer asked for a person" in html
    # the bot stays silent afterwards
    c.send("алло?")
    assert len(c.bot()) == 2


def test_a_one_time_code_verifies_the_customer_and_the_status_follows(chat, workspace):
    from carekit.customers.models import Identity
    from carekit.testing.outbound import recording

    owner = flows.customer(workspace, verified=False, ref="shop-1")
    with transaction.atomic():
        Identity.objects.create(
            workspace=workspace, customer=flows.customer_row(owner), kind="email", value="olga@example.com"
        )
    flows.order(workspace, owner)
    c = chat(ref="stranger")
    c.send("где мой заказ 10234")
    with recording("email") as sent:
        c.send("мой email olga@example.com")
    assert c.last().text == "Я отправил одноразовый код туда. Пришлите его сюда."
    assert "TRK" not in c.last().text
    [code_mail] = sent.sent
    assert code_mail.to == "olga@example.com"
    code = next(w for w in code_mail.body.replace(".", " ").split() if w.isdigit() and len(w) == 6)
    c.send("000000" if code != "000000" else "111111")
    assert c.last().text == "Код неверен или срок его действия истёк."
    c.send(code)
    assert c.last().text.startswith("Заказ 10234: Отправлен.")
    d = Dialogue.objects.get(workspace=workspace)
    assert (d.customer_id, d.verified) == (owner, True)


def test_a_host_token_proves_the_identity(workspace):
    from carekit.customers import public as customers
    from carekit.customers.claims import host_token_sign
    from carekit.customers.services import settings_for

    owner = flows.customer(workspace, verified=False, ref="shop-2")
    token = host_token_sign(settings_for(workspace.pk).identity_secret, kind="external", value="shop-2")
    assert customers.identity_verified(workspace.pk, owner) is False
    with transaction.atomic():
        r = customers.resolve(
            actor=SYSTEM, workspace_id=workspace.pk, kind="visitor", value="vis-9", host_token=token
        )
    assert r.customer_id == owner
    assert customers.identity_verified(workspace.pk, owner) is True


def test_where_the_bot_is_off_an_inbound_message_gets_no_bot_delivery(workspace, settings):
    from carekit.conversations.tests.factories import inbound
    from carekit.core.models import EventDelivery

    settings.WEBHOOK_INTEREST_CACHE_SECONDS = 60  # the per-process memory is on, as in production

    def bot_rows() -> int:
        return EventDelivery.objects.filter(handler="bot.on_message_received").count()

    inbound(workspace, text="Hello")
    assert bot_rows() == 0
    flows.bot_on(workspace)  # turning the bot on forgets what this process remembered
    inbound(workspace, thread="t-2", text="Hello again")
    assert bot_rows() == 1
