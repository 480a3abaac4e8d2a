"""Loyalty's event consumers: orders drive counting, accruals and reversals; new customers get the
welcome bonus. Each runs exactly once per event (core outbox) and is also idempotent by ledger keys."""

from __future__ import annotations

from carekit.core.events import Actor, subscribe
from carekit.core.models import Event
from carekit.loyalty.services import rules

RULES = Actor.system("loyalty.rules")


@subscribe("customers.order.status_changed", name="loyalty.order_status_changed")
def on_order_status_changed(event: Event) -> None:
    rules.order_status_changed(actor=RULES, workspace_id=event.workspace_id, payload=event.payload)


@subscribe("customers.order.returned", name="loyalty.order_returned")
def on_order_returned(event: Event) -> None:
    rules.order_returned(actor=RULES, workspace_id=event.workspace_id, payload=event.payload)


@subscribe("customers.customer.created", name="loyalty.customer_created")
def on_customer_created(event: Event) -> None:
    customer_id = event.payload.get("customer_id") or event.subject_id
    rules.customer_welcome(actor=RULES, workspace_id=event.workspace_id, customer_id=str(customer_id))
