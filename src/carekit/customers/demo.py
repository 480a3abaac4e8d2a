"""Demo data for customers: the clothing shop's regulars and newcomers with orders in every state
(fixed names and amounts; times relative to the moment of loading, so the demo always looks recent)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from carekit.customers.orders import ItemInput, OrderInput, order_upsert
from carekit.customers.services import ProfileInput, customer_create
from carekit.demo.public import DemoContext

# (first, last, email, phone, language, tags, preferred channel)
CUSTOMERS: list[tuple[str, str, str, str, str, list[str], str]] = [
    ("Ekaterina", "Ivanova", "ekaterina.ivanova@example.ru", "+79161110001", "ru", ["vip"], "email"),
    ("Alexei", "Smirnov", "alexei.smirnov@example.ru", "+79161110002", "ru", [], "telegram"),
    ("Natalia", "Kuznetsova", "natalia.k@example.ru", "+79161110003", "ru", ["wholesale"], "phone"),
    ("Mikhail", "Popov", "m.popov@example.ru", "+79161110004", "ru", [], "email"),
    ("Svetlana", "Vasilieva", "sveta.vasilieva@example.ru", "+79161110005", "ru", ["vip"], "email"),
    ("Dmitry", "Sokolov", "d.sokolov@example.ru", "+79161110006", "ru", [], "sms"),
    ("Emily", "Clarke", "emily.clarke@example.co.uk", "+447911123456", "en", [], "email"),
    ("James", "Wilson", "james.wilson@example.com", "+12025550102", "en", ["vip"], "email"),
    ("Irina", "Morozova", "irina.morozova@example.ru", "+79161110009", "ru", [], "email"),
    ("Pavel", "Volkov", "pavel.volkov@example.ru", "+79161110010", "ru", ["complained"], "phone"),
]

# (customer index, external id, status, days ago, total, [(sku, name, category, qty, price)])
ORDERS: list[tuple[int, str, str, int, str, list[tuple[str, str, str, int, str]]]] = [
    (
        0,
        "40231",
        "delivered",
        40,
        "12980.00",
        [("DR-114", "Linen dress", "dresses", 1, "8990.00"), ("BL-020", "Silk blouse", "tops", 1, "3990.00")],
    ),
    (0, "40234", "shipped", 3, "5490.00", [("JK-310", "Denim jacket", "outerwear", 1, "5490.00")]),
    (1, "40240", "paid", 1, "2990.00", [("TS-001", "Cotton T-shirt", "tops", 2, "1495.00")]),
    (2, "40202", "delivered", 90, "45600.00", [("CT-900", "Wool coat", "outerwear", 4, "11400.00")]),
    (3, "40245", "placed", 0, "3490.00", [("SK-045", "Pleated skirt", "skirts", 1, "3490.00")]),
    (
        4,
        "40190",
        "delivered",
        120,
        "21970.00",
        [
            ("DR-114", "Linen dress", "dresses", 2, "8990.00"),
            ("SC-002", "Scarf", "accessories", 1, "3990.00"),
        ],
    ),
    (4, "40228", "returned", 20, "8990.00", [("DR-114", "Linen dress", "dresses", 1, "8990.00")]),
    (5, "40237", "shipped", 4, "7990.00", [("SN-077", "Leather sneakers", "shoes", 1, "7990.00")]),
    (6, "40241", "paid", 2, "4590.00", [("CD-051", "Cardigan", "knitwear", 1, "4590.00")]),
    (7, "40215", "delivered", 30, "15980.00", [("CT-901", "Trench coat", "outerwear", 1, "15980.00")]),
    (8, "40243", "cancelled", 1, "2490.00", [("TS-002", "Striped T-shirt", "tops", 1, "2490.00")]),
    (9, "40226", "delivered", 12, "6990.00", [("BT-012", "Ankle boots", "shoes", 1, "6990.00")]),
]


def load(ctx: DemoContext) -> None:
    ws = ctx.shop
    now = timezone.now().replace(microsecond=0)
    ids: list[str] = []
    for first, last, email, phone, language, tags, channel in CUSTOMERS:
        c = customer_create(
            actor=ctx.actor,
            workspace=ws,
            data=ProfileInput(
                first_name=first,
                last_name=last,
                emails=[email],
                phones=[phone],
                language=language,
                tags=tags,
                preferred_channel=channel,
            ),
        )
        ids.append(c.public_id)
    for who, number, status, days, total, items in ORDERS:
        placed = now - timedelta(days=days, hours=2)
        paid = placed + timedelta(minutes=5) if status != "placed" else None
        shipped = placed + timedelta(days=1) if status in {"shipped", "delivered", "returned"} else None
        delivered = placed + timedelta(days=3) if status in {"delivered", "returned"} else None
        order_upsert(
            actor=ctx.actor,
            workspace=ws,
            data=OrderInput(
                external_id=number,
                status=status,
                currency="RUB",
                total=Decimal(total),
                customer_id=ids[who],
                items=[
                    ItemInput(sku=s, name=n, category=cat, quantity=q, price=p) for s, n, cat, q, p in items
                ],
                placed_at=placed,
                paid_at=paid,
                carrier="CDEK" if shipped else None,
                tracking_number=f"CD{number}RU" if shipped else None,
                promised_at=placed + timedelta(days=4),
                shipped_at=shipped,
                delivered_at=delivered,
            ),
        )
    ctx.shared["customers"] = ids
