"""Customers test helpers: every write through the services, inside a transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from carekit.core.models import Workspace
from carekit.customers import orders as order_services
from carekit.customers import services
from carekit.customers.models import Customer, Order
from carekit.testing.tenants import SYSTEM


def make_customer(ws: Workspace, **fields: Any) -> Customer:
    with transaction.atomic():
        return services.customer_create(actor=SYSTEM, workspace=ws, data=services.ProfileInput(**fields))


def make_order(ws: Workspace, customer: Customer, external_id: str = "A-1", **fields: Any) -> Order:
    data = {
        "external_id": external_id,
        "status": "paid",
        "currency": "RUB",
        "total": "4590.00",
        "customer_id": customer.public_id,
        "items": [order_services.ItemInput(sku="DR-1", quantity=1, price="4590.00", category="dresses")],
        **fields,
    }
    with transaction.atomic():
        return order_services.order_upsert(
            actor=SYSTEM, workspace=ws, data=order_services.OrderInput(**data)
        ).order
