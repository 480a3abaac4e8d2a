"""Races that only a real server shows: concurrent first upserts of one order, concurrent resolves."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from carekit.core.models import Event
from carekit.customers import orders as svc
from carekit.customers import services
from carekit.customers.models import Customer, Identity, Order
from carekit.customers.tests.factories import make_customer
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _race(n: int, fn) -> list[BaseException]:
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic(durable=True):
                fn(i)
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connection.close()  # a thread keeps its own connection; the teardown needs them gone

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_first_upserts_create_one_order(workspace):
    c = make_customer(workspace)
    data = svc.OrderInput(
        external_id="RACE-1", status="paid", currency="RUB", total="10", customer_id=c.public_id
    )
    errors = _race(4, lambda i: svc.order_upsert(actor=SYSTEM, workspace=workspace, data=data))
    assert errors == []
    assert Order.objects.filter(workspace=workspace, external_id="RACE-1").count() == 1
    events = Event.objects.filter(type="customers.order.status_changed", workspace=workspace)
    assert [e.payload["from"] for e in events] == [None]


def test_concurrent_resolves_of_one_identity_make_one_customer(workspace):
    errors = _race(
        6,
        lambda i: services.customer_resolve(actor=SYSTEM, workspace=workspace, kind="telegram", value="777"),
    )
    assert errors == []
    assert Identity.objects.filter(workspace=workspace, kind="telegram", value="777").count() == 1
    # The losers of the race rolled their profile back: one profile, one created event.
    assert Customer.objects.filter(workspace=workspace).count() == 1
    assert Event.objects.filter(workspace=workspace, type="customers.customer.created").count() == 1
