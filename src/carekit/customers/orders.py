"""Orders, their items and tracking, and returns: upserted by the shop's external id.

Every creation and status change emits `customers.order.status_changed` with the non-personal facts
consumers need (docs/contracts.md); a return emits `customers.order.returned`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.core.errors import DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.customers.enums import CustomerStatus, OrderStatus, ReturnReason
from carekit.customers.errors import InvalidValue, NotFound
from carekit.customers.models import Customer, Identity, Order, OrderItem, Return

MAX_BATCH = 500


@dataclass(frozen=True)
class ItemInput:
    sku: str
    quantity: int
    price: Decimal | str
    name: str = ""
    category: str = ""


@dataclass(frozen=True)
class OrderInput:
    external_id: str
    status: str
    currency: str
    total: Decimal | str
    customer_id: str | None = None  # an existing profile, or:
    identity: tuple[str, str] | None = None  # (kind, value) resolved (created if new)
    items: Sequence[ItemInput] | None = None  # None: keep the stored items
    placed_at: datetime | None = None
    paid_at: datetime | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    promised_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _money(value: Decimal | str, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidValue(_("Expected an amount."), field=field) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidValue(_("Expected a non-negative amount."), field=field)
    return amount.quantize(Decimal("0.01"))


def _aware(value: datetime | None, *, field: str) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        raise InvalidValue(_("A time needs a time zone."), field=field)
    return value


def _validate(data: OrderInput, prefix: str = "") -> dict[str, Any]:
    if not data.external_id or len(data.external_id) > 120:
        raise InvalidValue(_("An order needs an external id."), field=f"{prefix}external_id")
    try:
        status = OrderStatus(data.status)
    except ValueError:
        raise InvalidValue(_("Unknown order status."), field=f"{prefix}status") from None
    currency = (data.currency or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidValue(_("A currency is a three-letter code."), field=f"{prefix}currency")
    if data.customer_id is None and data.identity is None:
        raise InvalidValue(_("An order needs a customer or an identity."), field=f"{prefix}customer_id")
    items = None
    if data.items is not None:
        items = []
        for i, item in enumerate(data.items):
            if not item.sku:
                raise InvalidValue(_("An item needs a SKU."), field=f"{prefix}items[{i}].sku")
            if item.quantity < 1:
                raise InvalidValue(_("Quantity must be positive."), field=f"{prefix}items[{i}].quantity")
            items.append((item, _money(item.price, field=f"{prefix}items[{i}].price")))
    times = {
        k: _aware(getattr(data, k), field=f"{prefix}{k}")
        for k in ("placed_at", "paid_at", "promised_at", "shipped_at", "delivered_at")
    }
    return {
        "status": status,
        "currency": currency,
        "total": _money(data.total, field=f"{prefix}total"),
        "items": items,
        "times": times,
    }


def _owner(
    workspace: Workspace, data: OrderInput, actor: Actor, prefix: str
) -> tuple[Customer, Identity | None]:
    from carekit.customers.services import customer_resolve

    if data.customer_id is not None:
        customer = Customer.objects.filter(workspace=workspace, public_id=data.customer_id).first()
        if customer is None:
            raise NotFound(_("No such customer."), field=f"{prefix}customer_id")
        while customer.status == CustomerStatus.MERGED and customer.merged_into_id:
            customer = Customer.objects.get(pk=customer.merged_into_id)
        return customer, None
    assert data.identity is not None  # checked by _validate
    resolved = customer_resolve(
        actor=actor, workspace=workspace, kind=data.identity[0], value=data.identity[1]
    )
    ident = (
        Identity.objects.filter(workspace=workspace, customer=resolved.customer, kind=data.identity[0])
        .order_by("-created_at")
        .first()
    )
    return resolved.customer, ident


def payload(order: Order, *, old: str | None) -> dict[str, Any]:
    return {
        "order_id": order.public_id,
        "customer_id": order.customer.public_id,
        "external_id": order.external_id,
        "from": old,
        "to": order.status,
        "currency": order.currency,
        "total": str(order.total),
        "items": [
            {"sku": i.sku, "category": i.category, "quantity": i.quantity, "price": str(i.price)}
            for i in order.items.all().order_by("pk")
        ],
        "placed_at": order.placed_at.isoformat() if order.placed_at else None,
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
    }


@dataclass(frozen=True)
class Upserted:
    order: Order
    created: bool
    status_changed: bool


def order_upsert(*, actor: Actor, workspace: Workspace, data: OrderInput, _prefix: str = "") -> Upserted:
    """Create or update the order with this external id. Validates everything before writing."""
    clean = _validate(data, _prefix)
    customer, via = _owner(workspace, data, actor, _prefix)
    if customer.status != CustomerStatus.ACTIVE:
        raise DomainError(_("This customer was erased."), field=f"{_prefix}customer_id", code="conflict")
    order, created = _locked_or_new(workspace, data.external_id, customer, via, clean)
    old = None if created else order.status
    if not created and data.customer_id is not None and order.customer_id != customer.pk:
        order.customer = customer
    order.status = clean["status"]
    order.currency = clean["currency"]
    order.total = clean["total"]
    for key, value in clean["times"].items():
        if value is not None:
            setattr(order, key, value)
    if order.placed_at is None:
        order.placed_at = timezone.now()
    for key in ("carrier", "tracking_number"):
        if getattr(data, key) is not None:
            setattr(order, key, getattr(data, key)[:80])
    now = timezone.now()
    if order.status == OrderStatus.PAID and order.paid_at is None:
        order.paid_at = now
    if order.status == OrderStatus.SHIPPED and order.shipped_at is None:
        order.shipped_at = now
    if order.status == OrderStatus.DELIVERED and order.delivered_at is None:
        order.delivered_at = now
    order.updated_at = now
    order.save()
    if clean["items"] is not None:
        order.items.all().delete()
        OrderItem.objects.bulk_create(
            [
                OrderItem(
                    workspace=workspace,
                    order=order,
                    sku=item.sku[:80],
                    name=item.name[:200],
                    category=item.category[:80],
                    quantity=item.quantity,
                    price=price,
                )
                for item, price in clean["items"]
            ]
        )
    changed = created or old != order.status
    if changed:
        _emit_status(order, old, actor)
    return Upserted(order, created, changed)


def _locked_or_new(
    workspace: Workspace, external_id: str, customer: Customer, via: Identity | None, clean: dict[str, Any]
) -> tuple[Order, bool]:
    """The order row, locked; or a new one. Two concurrent first upserts: one inserts, one updates."""
    lookup = Order.objects.select_for_update().filter(workspace=workspace, external_id=external_id)
    order = lookup.first()
    if order is not None:
        return order, False
    try:
        with transaction.atomic():  # a savepoint: the unique constraint decides the race
            order = Order.objects.create(
                workspace=workspace,
                external_id=external_id,
                customer=customer,
                via_identity=via,
                status=clean["status"],
                currency=clean["currency"],
                total=clean["total"],
            )
    except IntegrityError:
        return lookup.get(), False
    return order, True


def _emit_status(order: Order, old: str | None, actor: Actor) -> None:
    emit(
        workspace_id=order.workspace_id,
        type="customers.order.status_changed",
        subject_type="order",
        subject_id=order.public_id,
        actor=actor,
        payload=payload(order, old=old),
    )


def orders_upsert_batch(
    *, actor: Actor, workspace: Workspace, orders: Sequence[OrderInput]
) -> list[Upserted]:
    """All or nothing: the first bad order (named by its index) fails the whole batch."""
    if len(orders) > MAX_BATCH:
        raise InvalidValue(_("At most %(n)d orders per batch.") % {"n": MAX_BATCH}, field="orders")
    for i, data in enumerate(orders):
        _validate(data, f"orders[{i}].")
    with transaction.atomic():  # a savepoint: a failure in the middle leaves no half batch
        return [
            order_upsert(actor=actor, workspace=workspace, data=data, _prefix=f"orders[{i}].")
            for i, data in enumerate(orders)
        ]


@dataclass(frozen=True)
class ReturnItemInput:
    sku: str
    quantity: int
    amount: Decimal | str


def return_record(
    *,
    actor: Actor,
    order: Order,
    reason: str,
    items: Sequence[ReturnItemInput],
    external_id: str = "",
) -> Return:
    """Record a return; the order becomes returned or partially returned (with its own event)."""
    try:
        reason = ReturnReason(reason)
    except ValueError:
        raise InvalidValue(_("Unknown return reason."), field="reason") from None
    if not items:
        raise InvalidValue(_("A return needs items."), field="items")
    ordered = {i.sku: i for i in order.items.all()}
    returned_before: dict[str, int] = {}
    for ret in order.returns.all():
        for it in ret.items:
            returned_before[it["sku"]] = returned_before.get(it["sku"], 0) + int(it["quantity"])
    rows, amount = [], Decimal("0")
    for i, item in enumerate(items):
        src = ordered.get(item.sku)
        if src is None:
            raise InvalidValue(_("This SKU is not in the order."), field=f"items[{i}].sku")
        if item.quantity < 1 or item.quantity + returned_before.get(item.sku, 0) > src.quantity:
            raise InvalidValue(_("More returned than ordered."), field=f"items[{i}].quantity")
        line = _money(item.amount, field=f"items[{i}].amount")
        amount += line
        rows.append(
            {"sku": item.sku, "category": src.category, "quantity": item.quantity, "amount": str(line)}
        )
        returned_before[item.sku] = returned_before.get(item.sku, 0) + item.quantity
    ret = Return.objects.create(
        workspace_id=order.workspace_id,
        order=order,
        reason=reason,
        items=rows,
        amount=amount,
        external_id=external_id,
    )
    emit(
        workspace_id=order.workspace_id,
        type="customers.order.returned",
        subject_type="order",
        subject_id=order.public_id,
        actor=actor,
        payload={
            "order_id": order.public_id,
            "customer_id": order.customer.public_id,
            "return_id": ret.public_id,
            "reason": reason,
            "items": rows,
            "amount": str(amount),
            "currency": order.currency,
        },
    )
    everything = all(returned_before.get(sku, 0) >= it.quantity for sku, it in ordered.items())
    new_status = OrderStatus.RETURNED if everything else OrderStatus.PARTIALLY_RETURNED
    if order.status != new_status:
        old = order.status
        order.status = new_status
        order.updated_at = timezone.now()
        order.save(update_fields=["status", "updated_at"])
        _emit_status(order, old, actor)
    return ret
