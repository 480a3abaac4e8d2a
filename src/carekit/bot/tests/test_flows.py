"""The bot inside real conversations: a customer's message arrives on the API channel, the bot's
handler runs after commit and its reply is stored (author kind bot) and sent through the channel."""

from __future__ import annotations

import pytest

from carekit.bot.models import Dialogue, Turn
from carekit.bot.tests import flows
from carekit.customers.models import Return

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
    assert "TRK" not in reply.text and "10234" not in reply.text and "Отправлен" not in reply.text
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


def test_asking_for_an_operator_hands_off_with_the_summary_pinned(chat, workspace, client):
    cid = flows.customer(workspace, verified=True)
    c = chat(customer_id=cid)
    c.send("позовите оператора")
    conv = c.conversation()
    assert conv.bot_active is False
    assert conv.pinned["reason"] == "requested"
    assert conv.pinned["lines"][0] == "Причина: requested"
    d = Dialogue.objects.get(workspace=workspace)
    assert (d.state, d.handoff_reason) == ("handed_off", "requested")
    # the bot stays silent afterwards
    c.send("алло?")
    assert len(c.bot()) == 1
