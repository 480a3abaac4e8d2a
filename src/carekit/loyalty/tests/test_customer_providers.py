"""Merge, unmerge and erasure providers for the customers registries (contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction
from django.db.models import Sum

from carekit.loyalty import customer_providers, public
from carekit.loyalty.models import Account, Compensation, LedgerEntry, Lot
from carekit.loyalty.services import checkout, ledger
from carekit.loyalty.tests import factories
from carekit.loyalty.tests.factories import SYSTEM
from carekit.testing.transactions import call_inside_transaction

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@dataclass(frozen=True)
class Ctx:
    workspace_id: int
    survivor_id: str
    merged_id: str
    merge_id: str


def _sums_match(acc: Account) -> None:
    acc.refresh_from_db()
    s = LedgerEntry.objects.filter(account=acc).aggregate(
        p=Sum("d_pending"), a=Sum("d_available"), d=Sum("d_debt")
    )
    assert (s["p"] or 0, s["a"] or 0, s["d"] or 0) == (acc.pending, acc.available, acc.debt)
    lots = Lot.objects.filter(account=acc)
    assert sum(lot.remaining for lot in lots if not lot.pending) == acc.available


def test_merge_moves_points_and_lots_once(workspace):
    prog = factories.program(workspace)
    survivor, merged = factories.account(prog, available=100), factories.account(prog, available=300)
    with transaction.atomic():
        checkout.quote_create(
            actor=SYSTEM,
            program=prog,
            customer_id=merged.customer_id,
            points=50,
            items=[{"sku": "X", "price": "1000.00"}],
        )
    ctx = Ctx(workspace.pk, survivor.customer_id, merged.customer_id, "mrg_1")
    call_inside_transaction(customer_providers.merge, ctx)
    call_inside_transaction(customer_providers.merge, ctx)
    assert public.balances(workspace.pk, survivor.customer_id).available == 400
    b = public.balances(workspace.pk, merged.customer_id)
    assert (b.available, b.held, b.pending) == (0, 0, 0)
    _sums_match(survivor)
    _sums_match(merged)


def test_unmerge_after_spending_gives_back_and_survivor_owes_the_shortfall(workspace):
    prog = factories.program(workspace)
    survivor, merged = factories.account(prog, available=100), factories.account(prog, available=300)
    ctx = Ctx(workspace.pk, survivor.customer_id, merged.customer_id, "mrg_2")
    call_inside_transaction(customer_providers.merge, ctx)
    # The survivor spends 350: its own lot first (older, neither expires), then 250 of the merged one.
    with transaction.atomic():
        ledger.points_redeem(actor=SYSTEM, account=survivor, points=350, idempotency_key="spend")
    call_inside_transaction(customer_providers.unmerge, ctx)
    call_inside_transaction(customer_providers.unmerge, ctx)
    restored = public.balances(workspace.pk, merged.customer_id)
    left = public.balances(workspace.pk, survivor.customer_id)
    # The restored customer gets all 300 back (50 left in its lot + 250 spent); the survivor owes 250.
    assert (restored.available, restored.debt) == (300, 0)
    assert (left.available, left.debt) == (0, 250)
    _sums_match(survivor)
    _sums_match(merged)


def test_erasure_keeps_amounts_and_drops_the_customer_reference(workspace):
    prog = factories.program(workspace)
    acc = factories.account(prog, available=100)
    call_inside_transaction(
        public.compensation_grant,
        workspace_id=workspace.pk,
        customer_id=acc.customer_id,
        reason="Sorry, Anna",
        idempotency_key="c1",
        issuer="agent",
        actor=SYSTEM,
        points=20,
    )
    call_inside_transaction(customer_providers.erase, workspace.pk, acc.customer_id)
    assert public.balances(workspace.pk, acc.customer_id) == public.Balances(0, 0, 0, 0)
    acc.refresh_from_db()
    assert acc.customer_id.startswith("erased:")
    assert acc.available == 120
    for model, field in customer_providers.REFERENCES:
        assert not model.objects.filter(**{field: factories.customer_id()}).exists()
    comp = Compensation.objects.get()
    assert (comp.customer_id, comp.reason, comp.points) == (acc.customer_id, "", 20)
    assert not LedgerEntry.objects.exclude(reason="").exists()


def test_export_lists_balances_and_history(workspace):
    prog = factories.program(workspace)
    acc = factories.account(prog, available=100)
    data = customer_providers.export(workspace.pk, acc.customer_id)
    assert data["balances"]["available"] == 100
    assert [e["kind"] for e in data["entries"]] == ["earn"]
    assert customer_providers.export(workspace.pk, factories.customer_id()) == {}


def test_merge_moves_order_facts_and_compensations_and_unmerge_moves_them_back(workspace):
    from carekit.loyalty.models import Coupon, OrderFact
    from carekit.loyalty.services import coupons, rules

    factories.program(workspace)
    survivor, merged = factories.customer_id(), factories.customer_id()
    with transaction.atomic():
        for cid in (survivor, merged, merged):
            rules.order_status_changed(
                actor=SYSTEM,
                workspace_id=workspace.pk,
                payload=factories.order_payload(
                    factories.customer_id().replace("cus", "ord"), cid, to="paid", frm="placed"
                ),
            )
        campaign = coupons.campaign_create(
            actor=SYSTEM, workspace_id=workspace.pk, name="C", kind="fixed", value=5
        )
        coupons.coupon_issue(actor=SYSTEM, campaign=campaign, customer_id=merged, idempotency_key="c")
    call_inside_transaction(
        public.compensation_grant,
        workspace_id=workspace.pk,
        customer_id=merged,
        reason="late",
        idempotency_key="k1",
        issuer="sla",
        actor=SYSTEM,
        points=10,
    )
    ctx = Ctx(workspace.pk, survivor, merged, "mrg_3")
    call_inside_transaction(customer_providers.merge, ctx)
    call_inside_transaction(customer_providers.merge, ctx)
    assert rules.counted_orders(workspace.pk, survivor) == 3
    assert Coupon.objects.get().customer_id == survivor
    # The compensation cap now spans both profiles.
    again = call_inside_transaction(
        public.compensation_grant,
        workspace_id=workspace.pk,
        customer_id=survivor,
        reason="late",
        idempotency_key="k2",
        issuer="sla",
        actor=SYSTEM,
        points=10,
    )
    assert (again.status, again.refusal) == ("refused", "cap")
    call_inside_transaction(customer_providers.unmerge, ctx)
    assert rules.counted_orders(workspace.pk, survivor) == 1
    assert rules.counted_orders(workspace.pk, merged) == 2
    assert OrderFact.objects.filter(customer_id=merged).count() == 2
    assert Coupon.objects.get().customer_id == merged
    assert public.balances(workspace.pk, merged).available == 10


def test_return_and_refund_after_a_merge_land_on_the_survivor(workspace):
    from carekit.loyalty.services import rules

    prog = factories.program(workspace, return_window_days=0)
    with transaction.atomic():
        rules.rule_create(actor=SYSTEM, program=prog, kind="cashback", name="5%", params={"percent": "5"})
    survivor, merged = factories.account(prog, available=100), factories.account(prog, available=100)
    with transaction.atomic():
        rules.order_status_changed(
            actor=SYSTEM,
            workspace_id=workspace.pk,
            payload=factories.order_payload("ord_m1", merged.customer_id, to="paid"),
        )
        spent = ledger.points_redeem(actor=SYSTEM, account=merged, points=30, idempotency_key="spend")
    call_inside_transaction(
        customer_providers.merge, Ctx(workspace.pk, survivor.customer_id, merged.customer_id, "mrg_4")
    )
    assert public.balances(workspace.pk, survivor.customer_id).available == 100 + 120
    with transaction.atomic():
        rules.order_status_changed(
            actor=SYSTEM,
            workspace_id=workspace.pk,
            payload=factories.order_payload("ord_m1", merged.customer_id, to="returned"),
        )
        ledger.redemption_refund(actor=SYSTEM, redemption=spent, points=30, idempotency_key="refund")
    assert public.balances(workspace.pk, survivor.customer_id).available == 220 - 50 + 30
    b = public.balances(workspace.pk, merged.customer_id)
    assert (b.available, b.debt) == (0, 0)
    _sums_match(survivor)
    _sums_match(merged)


def test_registered_with_customers_when_installed(workspace):
    """On a build with the customers context the providers are registered and the timeline shows the
    ledger; without it, registration is a no-op (loyalty keys accounts by the customer id alone)."""
    import importlib

    from django.apps import apps

    if not apps.is_installed("carekit.customers"):
        customer_providers.register()  # nothing to register into, and no error
        return
    customers = importlib.import_module("carekit.customers.public")
    registry = importlib.import_module("carekit.customers.registry")
    assert registry.MERGE_PROVIDERS["loyalty"].merge is customer_providers.merge
    assert registry.ERASURE_PROVIDERS["loyalty"] is customer_providers.erase
    prog = factories.program(workspace)
    acc = factories.account(prog, available=100)
    with transaction.atomic():
        ledger.points_redeem(actor=SYSTEM, account=acc, points=10, idempotency_key="r")
    items = customer_providers.timeline(customers.TimelineQuery(workspace.pk, acc.customer_id))
    assert [(i.kind, i.data["entry_kind"], i.data["points"]) for i in items] == [
        ("loyalty.points", "redeem", 10),
        ("loyalty.points", "earn", 100),
    ]
