from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from carekit.core.models import Event
from carekit.customers import orders as svc
from carekit.customers.models import Customer, Order, OrderItem, Return
from carekit.customers.normalize import InvalidValue
from carekit.customers.tests.factories import make_customer, make_order
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _events(ws, type_):
    return list(Event.objects.filter(workspace=ws, type=type_).order_by("pk"))


def test_upsert_creates_then_changes_status_with_one_event_each(workspace):
    c = make_customer(workspace, first_name="Anna")
    order = make_order(workspace, c, "A-1001", status="placed")
    same = make_order(workspace, c, "A-1001", status="placed")
    shipped = make_order(
        workspace, c, "A-1001", status="shipped", carrier="CDEK", tracking_number="TRK1", items=None
    )
    assert order.pk == same.pk == shipped.pk
    assert Order.objects.count() == 1
    assert OrderItem.objects.count() == 1
    events = _events(workspace, "customers.order.status_changed")
    assert [(e.payload["from"], e.payload["to"]) for e in events] == [(None, "placed"), ("placed", "shipped")]
    p = events[0].payload
    assert p["order_id"] == order.public_id
    assert p["customer_id"] == c.public_id
    assert p["external_id"] == "A-1001"
    assert p["total"] == "4590.00"
    assert p["currency"] == "RUB"
    assert p["items"] == [{"sku": "DR-1", "category": "dresses", "quantity": 1, "price": "4590.00"}]
    shipped.refresh_from_db()
    assert (shipped.carrier, shipped.tracking_number, shipped.shipped_at is not None) == (
        "CDEK",
        "TRK1",
        True,
    )


def test_order_by_identity_creates_the_customer(workspace):
    with transaction.atomic():
        up = svc.order_upsert(
            actor=SYSTEM,
            workspace=workspace,
            data=svc.OrderInput(
                external_id="B-1", status="paid", currency="rub", total="10", identity=("email", "X@Y.ru")
            ),
        )
    assert up.created
    assert up.order.currency == "RUB"
    assert Customer.objects.get().identities.get().value == "x@y.ru"
    assert up.order.via_identity is not None


def test_batch_is_all_or_nothing_and_names_the_failing_order(workspace):
    c = make_customer(workspace)
    good = svc.OrderInput(
        external_id="G-1", status="paid", currency="RUB", total="1", customer_id=c.public_id
    )
    bad = svc.OrderInput(external_id="G-2", status="lost", currency="RUB", total="1", customer_id=c.public_id)
    with pytest.raises(InvalidValue) as exc, transaction.atomic():
        svc.orders_upsert_batch(actor=SYSTEM, workspace=workspace, orders=[good, bad])
    assert exc.value.field == "orders[1].status"
    assert Order.objects.count() == 0
    assert _events(workspace, "customers.order.status_changed") == []


def test_partial_then_full_return(workspace):
    c = make_customer(workspace)
    order = make_order(
        workspace,
        c,
        "R-1",
        status="delivered",
        total="300",
        items=[
            svc.ItemInput(sku="A", quantity=2, price="100", category="shoes"),
            svc.ItemInput(sku="B", quantity=1, price="100"),
        ],
    )
    with transaction.atomic():
        svc.return_record(
            actor=SYSTEM, order=order, reason="wrong_size", items=[svc.ReturnItemInput("A", 1, "100")]
        )
    order.refresh_from_db()
    assert order.status == "partially_returned"
    with pytest.raises(InvalidValue) as exc, transaction.atomic():
        svc.return_record(
            actor=SYSTEM, order=order, reason="defect", items=[svc.ReturnItemInput("A", 2, "200")]
        )
    assert exc.value.field == "items[0].quantity"
    with transaction.atomic():
        svc.return_record(
            actor=SYSTEM,
            order=order,
            reason="defect",
            items=[svc.ReturnItemInput("A", 1, "100"), svc.ReturnItemInput("B", 1, "100")],
        )
    order.refresh_from_db()
    assert order.status == "returned"
    assert Return.objects.filter(order=order).count() == 2
    returned = _events(workspace, "customers.order.returned")
    assert [e.payload["amount"] for e in returned] == ["100.00", "200.00"]
    assert returned[0].payload["items"] == [
        {"sku": "A", "category": "shoes", "quantity": 1, "amount": "100.00"}
    ]
    statuses = [
        (e.payload["from"], e.payload["to"]) for e in _events(workspace, "customers.order.status_changed")
    ]
    assert statuses == [
        (None, "delivered"),
        ("delivered", "partially_returned"),
        ("partially_returned", "returned"),
    ]
    assert sum(Decimal(e.payload["amount"]) for e in returned) == Decimal("300")
