"""Helpers for loyalty tests: a program, accounts, and running order events through the handlers."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from django.db import transaction

from carekit.core.events import Actor, emit
from carekit.core.ids import new_public_id
from carekit.core.models import Workspace
from carekit.loyalty.models import Account, Program
from carekit.loyalty.services import ledger
from carekit.loyalty.services.programs import program_ensure

SYSTEM = Actor.system("test")
_seq = itertools.count(1)


def program(workspace: Workspace, **changes: Any) -> Program:
    with transaction.atomic():
        p = program_ensure(actor=SYSTEM, workspace_id=workspace.pk)
        if changes:
            for k, v in changes.items():
                setattr(p, k, v)
            p.save()
    return p


def customer_id() -> str:
    return new_public_id("cus")


def account(prog: Program, cid: str | None = None, *, available: int = 0) -> Account:
    with transaction.atomic():
        acc = ledger.account_ensure(program=prog, customer_id=cid or customer_id())
        if available:
            ledger.points_earn(
                actor=SYSTEM, account=acc, points=available, idempotency_key=f"seed:{acc.pk}", lifetime=False
            )
    acc.refresh_from_db()
    return acc


def order_payload(
    order_id: str,
    cid: str,
    *,
    to: str,
    frm: str | None = None,
    total: str = "1000.00",
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_id": cid,
        "external_id": f"A-{next(_seq)}",
        "from": frm,
        "to": to,
        "currency": "RUB",
        "total": total,
        "items": items
        if items is not None
        else [{"sku": "DR-1", "category": "dresses", "quantity": 1, "price": total}],
        "placed_at": "2026-11-01T10:00:00+00:00",
        "paid_at": "2026-11-01T10:05:00+00:00",
    }


def emit_events(workspace: Workspace, *specs: tuple[str, dict[str, Any]]) -> None:
    """Emit events in a committed transaction; in tests Huey is immediate, so handlers run at commit.

    Callers wrap this in `django_capture_on_commit_callbacks(execute=True)` under the `db` fixture.
    """
    with transaction.atomic():
        for type_, payload in specs:
            emit(
                workspace_id=workspace.pk,
                type=type_,
                subject_type="order",
                subject_id=payload.get("order_id", "x"),
                actor=Actor.system("customers"),
                payload=payload,
            )


def money(value: str) -> Decimal:
    return Decimal(value)
