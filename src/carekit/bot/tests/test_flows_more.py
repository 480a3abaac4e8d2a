"""Every other flow through real conversations on the API channel: FAQ with "did this help?",
the size questionnaire, bookings, an exchange accepted as a named event, hand-off rules, business
hours, quick replies reaching the channel, the widget's channel, and the learning loop."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from carekit.bot import services
from carekit.bot.models import ConsultationSlot, Dialogue, TrainingExample, Turn
from carekit.bot.tests import flows
from carekit.conversations import public as conversations
from carekit.conversations import sla_setup
from carekit.conversations.models import Conversation, Message
from carekit.core.models import Event
from carekit.core.webhooks.testing import webhook_receiver
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def chat(api, workspace, django_capture_on_commit_callbacks):
    flows.bot_on(workspace)
    ch = flows.channel(api)

    def make(**kw):
        return flows.Chat(api, django_capture_on_commit_callbacks, ch, **kw)

    return make


def decisions(workspace) -> list[tuple[str, str]]:
    return list(Turn.objects.filter(workspace=workspace).order_by("pk").values_list("decision", "reason"))


def test_faq_answer_then_helped_resolves_and_counts_as_contained(chat, workspace):
    c = chat(ref="v-1")
    c.send("как долго идет доставка")
    answer = c.last()
    assert answer.text.endswith("Это помогло?")
    assert "/help/" in answer.text
    assert answer.data["quick_replies"] == [
        {"title": "Да, спасибо", "payload": "Да"},
        {"title": "Нет", "payload": "/not_helped"},
    ]
    c.send("Да")
    assert c.last().text == "Рад был помочь! Пишите в любое время."
    assert c.conversation().status == "resolved"
    d = Dialogue.objects.get(workspace=workspace)
    assert (d.state, d.resolved_by_bot, d.reopened) == ("resolved", True, False)
    assert decisions(workspace) == [("answer", "faq"), ("reply", "resolved")]


def test_faq_not_helped_hands_off(chat, workspace):
    c = chat(ref="v-1")
    c.send("how long does delivery take")
    c.send("/not_helped")
    assert c.conversation().pinned["reason"] == "not_helped"
    assert decisions(workspace)[-1] == ("handoff", "not_helped")


def test_size_questionnaire(chat, workspace):
    c = chat(ref="v-1")
    c.send("какой размер мне подойдёт")
    assert c.last().text == "Подберём размер: сколько вам лет?"
    c.send("30")
    assert c.last().text == "Какой у вас рост в сантиметрах?"
    c.send("168")
    assert c.last().text == "И ваш вес в килограммах?"
    c.send("60")
    assert c.last().text == "Вам должен подойти размер 46 (M). Это помогло?"
    d = Dialogue.objects.get(workspace=workspace)
    assert {k: d.collected[k] for k in ("age", "height", "weight", "size")} == {
        "age": 30,
        "height": 168,
        "weight": 60,
        "size": "46 (M)",
    }


def test_booking_a_consultation_slot(chat, workspace):
    start = timezone.now() + timedelta(days=1)
    with transaction.atomic():
        first = services.slot_create(actor=SYSTEM, workspace=workspace, starts_at=start)
        services.slot_create(actor=SYSTEM, workspace=workspace, starts_at=start + timedelta(hours=1))
    c = chat(ref="v-1")
    c.send("хочу записаться на примерку")
    offer = c.last()
    assert offer.text == "Выберите время консультации:"
    assert [q["payload"] for q in offer.data["quick_replies"]] == [
        f"/slot {s.public_id}" for s in ConsultationSlot.objects.order_by("starts_at")
    ]
    c.send(f"/slot {first.public_id}")
    first.refresh_from_db()
    assert (first.status, first.conversation_id) == ("booked", c.conversation_id)
    assert c.last().text.startswith("Вы записаны на ")
    assert ConsultationSlot.objects.filter(status="free").count() == 1


def test_yes_exchange_is_emitted_as_the_event_scenarios_wait_for(chat, workspace):
    cid = flows.customer(workspace, verified=True)
    flows.order(workspace, cid, status="delivered")
    c = chat(customer_id=cid)
    c.send("хочу вернуть платье")
    c.send("да, обменяйте")
    [event] = Event.objects.filter(workspace=workspace, type="bot.exchange.accepted")
    from carekit.customers.models import Order

    assert event.payload == {
        "customer_id": cid,
        "order_id": Order.objects.get(external_id="10234").public_id,
        "conversation_id": c.conversation_id,
    }
    assert c.last().text == "Спасибо! Оформим обмен и сообщим, когда он будет отправлен."


def test_no_exchange_event_without_a_recent_return(chat, workspace):
    c = chat(ref="v-1")
    c.send("да, обменяйте")
    assert Event.objects.filter(workspace=workspace, type="bot.exchange.accepted").count() == 0
    assert decisions(workspace) == [("flow", "collect")]


def test_two_misunderstandings_in_a_row_hand_off(chat, workspace):
    c = chat(ref="v-1")
    c.send("фывапролдж")
    assert c.last().text == "Извините, я не понял. Переформулируйте или выберите ниже."
    assert [q["payload"] for q in c.last().data["quick_replies"]][-1] == "/operator"
    c.send("ываываыва")
    assert decisions(workspace) == [("clarify", "misunderstood"), ("handoff", "low_confidence")]
    # the unclassified message waits for review as a training example
    assert list(TrainingExample.objects.filter(workspace=workspace).values_list("text", "status")) == [
        ("фывапролдж", "suggested")
    ]


def test_negative_sentiment_and_human_only_intents_hand_off(chat, workspace):
    chat(ref="v-1", thread="a").send("это ужасно, вы худшие, верните деньги немедленно")
    c = chat(ref="v-2", thread="b")
    c.send("товар пришёл с браком")
    assert c.last().text.startswith("Опишите, пожалуйста, обращение")
    c.send("заказ 55555, курьер опоздал на три часа")
    assert c.conversation().pinned["reason"] == "human_only"
    assert ["details", "заказ 55555, курьер опоздал на три часа"] in c.conversation().pinned["collected"]
    assert decisions(workspace) == [
        ("handoff", "negative_sentiment"),
        ("flow", "collect"),
        ("handoff", "human_only"),
    ]


def test_outside_business_hours_the_bot_collects_a_contact_and_promises_a_time(chat, workspace):
    tomorrow = (timezone.now() + timedelta(days=1)).astimezone(
        timezone.UTC if hasattr(timezone, "UTC") else None
    )
    with transaction.atomic():
        sla_setup.calendar_create(
            actor=SYSTEM,
            workspace=workspace,
            name="Office",
            time_zone="UTC",
            hours={str(tomorrow.weekday()): [["00:00", "23:59"]]},
            holidays=[],
        )
    c = chat(ref="v-1")
    c.send("позовите оператора")
    assert c.last().text.startswith(
        "Сейчас команда не работает. Оставьте телефон или e-mail — мы ответим до "
    )
    assert c.last().text.endswith(tomorrow.strftime("%d.%m.%Y 00:00."))
    assert c.conversation().bot_active is True
    c.send("мой телефон +7 916 123-45-67")
    conv = c.conversation()
    assert (conv.bot_active, conv.pinned["reason"]) == (False, "requested")
    assert ["contact", "+79161234567"] in conv.pinned["collected"]


def test_quick_replies_reach_the_channel_in_the_message_data(
    api, workspace, django_capture_on_commit_callbacks
):
    flows.bot_on(workspace)
    with webhook_receiver([200]) as receiver:
        resp = api.post("/inbox/api-channels", {"name": "Shop", "webhook_url": receiver.url})
        c = flows.Chat(api, django_capture_on_commit_callbacks, resp.json()["id"], ref="v-1")
        c.send("привет")
    [req] = receiver.requests
    body = json.loads(req.body)
    assert body["text"].startswith("Здравствуйте!")
    assert [q["payload"] for q in body["data"]["quick_replies"]] == [
        "Где мой заказ?",
        "Хочу вернуть товар",
        "Записаться на консультацию",
        "/operator",
    ]
    assert c.last().state == "sent"


def test_the_widget_channel_needs_only_the_bot_enabled_for_it(workspace, django_capture_on_commit_callbacks):
    flows.bot_on(workspace, channels=("webchat",))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        web = conversations.receive_message(
            actor=SYSTEM,
            workspace_id=workspace.pk,
            inbound=conversations.Inbound(
                channel="webchat",
                thread_key="w-1",
                external_id="w-1",
                identity_kind="visitor",
                identity_value="vis-1",
                text="привет",
            ),
        )
        other = conversations.receive_message(
            actor=SYSTEM,
            workspace_id=workspace.pk,
            inbound=conversations.Inbound(
                channel="email",
                thread_key="e-1",
                external_id="e-1",
                identity_kind="email",
                identity_value="a@example.com",
                text="привет",
            ),
        )
    assert Conversation.objects.get(public_id=web.conversation_id).bot_active is True
    assert Message.objects.filter(conversation__public_id=web.conversation_id, author_kind="bot").count() == 1
    assert Conversation.objects.get(public_id=other.conversation_id).bot_active is False
    assert (
        Message.objects.filter(conversation__public_id=other.conversation_id, author_kind="bot").count() == 0
    )


def test_an_agent_resolved_hand_off_becomes_a_suggested_example(chat, workspace, api):
    c = chat(customer_id=flows.customer(workspace, verified=True))
    c.send("можно изменить адрес доставки?")
    c.send("заказ 77777, новый адрес Ленина 1")
    with c.capture(execute=True):
        assert (
            api.post(f"/inbox/conversations/{c.conversation_id}/actions", {"action": "resolve"}).status_code
            == 200
        )
    assert list(
        TrainingExample.objects.filter(workspace=workspace).values_list("text", "intent", "status")
    ) == [("можно изменить адрес доставки?", "change_delivery", "suggested")]
    d = Dialogue.objects.get(workspace=workspace)
    assert (d.state, d.resolved_by_bot) == ("handed_off", False)


def test_a_reopened_bot_resolution_is_not_contained(chat, workspace):
    c = chat(ref="v-1")
    c.send("спасибо")
    c.send("как долго идет доставка")
    c.send("да")
    assert c.conversation().status == "resolved"
    c.send("а если не пришло?")
    d = Dialogue.objects.get(workspace=workspace)
    assert (d.reopened, d.state) == (True, "active")


def test_erasure_removes_the_dialogue_and_the_pinned_summary(chat, workspace):
    from carekit.customers.privacy import customer_erase

    c = chat(ref="v-1")
    c.send("позовите оператора, мой телефон +7 916 123-45-67")
    conv = c.conversation()
    assert conv.pinned["entities"] == [["phone", "+79161234567"]]
    with transaction.atomic():
        customer_erase(actor=SYSTEM, customer=flows.customer_row(conv.customer_id))
    conv.refresh_from_db()
    assert conv.pinned == {}
    assert Dialogue.objects.filter(workspace=workspace).count() == 0
    assert list(Message.objects.filter(conversation=conv).values_list("data", flat=True).distinct()) == [{}]
