# ruff: noqa: RUF001  (Russian demo texts)
"""Demo data for the inbox: working hours, an SLA promise with compensation, routing by topic, canned
replies in both languages, and a dozen email conversations in every state (waiting, answered, resolved).

Times are relative to the moment of loading: the two newest customer messages arrived minutes ago, so
their first-response clocks are running when the demo starts.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from carekit.accounts import public as accounts
from carekit.conversations import lifecycle, replies, routing, services, sla_setup
from carekit.conversations.models import Conversation
from carekit.conversations.services import Inbound
from carekit.demo.public import DemoContext

EVERY_DAY = {str(d): [["09:00", "21:00"]] for d in range(7)}

CANNED = [
    ("hello", "ru", "Приветствие", "Здравствуйте, {customer.first_name}! Спасибо, что написали нам."),
    ("hello", "en", "Greeting", "Hello {customer.first_name}, thank you for writing to us."),
    ("tracking", "ru", "Где заказ", "Заказ передан в СДЭК, отследить его можно по номеру в личном кабинете."),
    (
        "tracking",
        "en",
        "Where is my order",
        "Your order is with CDEK; the tracking number is in your account.",
    ),
    ("return", "ru", "Возврат", "Вернуть товар можно в течение 14 дней: оформите возврат в личном кабинете."),
    ("return", "en", "Returns", "You can return an item within 14 days: start the return in your account."),
]

# (customer index, minutes ago, subject, customer's text, agent reply or "", agent email, final state)
THREADS: list[tuple[int, int, str, str, str, str, str]] = [
    (
        0,
        3,
        "Где мой заказ 40234?",
        "Добрый день! Заказ 40234 должен был прийти вчера, но его всё нет.",
        "",
        "",
        "open",
    ),
    (6, 2, "Cardigan size", "Hi! Is the cardigan CD-051 true to size? I usually wear M.", "", "", "open"),
    (
        2,
        45,
        "Оптовый заказ пальто",
        "Здравствуйте, хотим заказать 20 пальто CT-900 для офиса. Будет скидка?",
        "Здравствуйте, Наталья! Да, для оптовых заказов от 10 штук скидка 12%. Подготовить счёт?",
        "olga.smirnova@wardrobe.demo",
        "pending",
    ),
    (
        4,
        180,
        "Возврат платья",
        "Платье DR-114 не подошло по размеру, хочу вернуть.",
        "Светлана, возврат оформлен, курьер приедет завтра с 10 до 14.",
        "sergey.kuznetsov@wardrobe.demo",
        "resolved",
    ),
    (
        9,
        300,
        "Жалоба на курьера",
        "Курьер опоздал на три часа и не позвонил. Очень недоволен!",
        "Павел, приносим извинения. Мы начислили вам 500 бонусных баллов и разобрались с курьерской службой.",
        "maria.sokolova@wardrobe.demo",
        "resolved",
    ),
    (
        1,
        60,
        "Оплата не проходит",
        "Пытаюсь оплатить заказ 40240 картой, пишет ошибка банка.",
        "Алексей, заказ 40240 оплачен, деньги поступили. Спасибо!",
        "dmitry.orlov@wardrobe.demo",
        "resolved",
    ),
    (
        7,
        1440,
        "Trench coat care",
        "How should I clean the trench coat? The label is in Russian only.",
        "Hi James, dry clean only, and no tumble drying. Enjoy the coat!",
        "kate.miller@wardrobe.demo",
        "resolved",
    ),
    (
        5,
        20,
        "Кроссовки SN-077",
        "Когда доставят кроссовки? Трек-номер не обновляется второй день.",
        "",
        "",
        "open",
    ),
    (
        3,
        10,
        "Изменить адрес доставки",
        "Можно изменить адрес доставки для заказа 40245?",
        "Михаил, конечно. Напишите, пожалуйста, новый адрес.",
        "dmitry.orlov@wardrobe.demo",
        "pending",
    ),
    (
        8,
        90,
        "Отмена заказа",
        "Отменил заказ 40243. Когда вернутся деньги?",
        "Ирина, деньги вернутся на карту в течение 3–5 рабочих дней.",
        "maria.sokolova@wardrobe.demo",
        "resolved",
    ),
]


def load(ctx: DemoContext) -> None:
    ws = ctx.shop
    now = timezone.now().replace(microsecond=0)
    teams = {t.name: t.team_id for t in accounts.teams(ws.pk)}
    calendar = sla_setup.calendar_create(
        actor=ctx.actor,
        workspace=ws,
        name="Shop hours",
        time_zone="Europe/Moscow",
        hours=EVERY_DAY,
        holidays=[],
    )
    sla_setup.sla_policy_create(
        actor=ctx.actor,
        workspace=ws,
        name="Reply within 5 minutes or 200 points",
        first_response_minutes=5,
        resolution_minutes=24 * 60,
        calendar=calendar,
        compensate_points=200,
    )
    routing.rule_create(
        actor=ctx.actor,
        workspace=ws,
        name="Returns and exchanges",
        position=1,
        keywords=["возврат", "вернуть", "обмен", "return", "exchange"],
        team_id=teams["Returns and exchanges"],
    )
    routing.rule_create(
        actor=ctx.actor,
        workspace=ws,
        name="VIP customers first",
        position=2,
        tags=["vip"],
        team_id=teams["VIP customers"],
        priority="high",
    )
    for shortcut, language, title, body in CANNED:
        replies.canned_response_create(
            actor=ctx.actor, workspace=ws, shortcut=shortcut, title=title, body=body, language=language
        )
    customers = ctx.shared.get("customers", [])
    for who, minutes, subject, text, reply, agent, state in THREADS if customers else []:
        at = now - timedelta(minutes=minutes)
        received = services.conversation_receive_message(
            actor=ctx.actor,
            workspace=ws,
            inbound=Inbound(
                channel="email",
                thread_key=f"demo-{who}-{minutes}",
                external_id=f"<demo-{who}-{minutes}@example.demo>",
                customer_id=customers[who],
                subject=subject,
                text=text,
            ),
            at=at,
        )
        conv: Conversation = received.conversation
        if not reply:
            continue
        member = ctx.members[(ws.slug, agent)].public_id
        conv = lifecycle.conversation_assign(
            actor=ctx.actor, conversation=conv, assignee_id=member, at=at + timedelta(minutes=1)
        )
        services.message_send(
            actor=ctx.actor, conversation=conv, text=reply, author_id=member, at=at + timedelta(minutes=2)
        )
        if state == "pending":
            lifecycle.conversation_wait_on_customer(
                actor=ctx.actor, conversation=conv, at=at + timedelta(minutes=2)
            )
        elif state == "resolved":
            lifecycle.conversation_resolve(actor=ctx.actor, conversation=conv, at=at + timedelta(minutes=30))
