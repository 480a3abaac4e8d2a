"""The brief's rules end to end on order events, with the counting rule's edge cases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from carekit.core.ids import new_public_id
from carekit.core.models import Event
from carekit.loyalty import public
from carekit.loyalty.enums import CouponKind, QuoteStatus, RuleKind
from carekit.loyalty.models import Account, Coupon, LedgerEntry, OrderFact, Quote
from carekit.loyalty.services import checkout, coupons, ledger, programs, referrals, rules
from carekit.loyalty.tests import factories
from carekit.loyalty.tests.factories import SYSTEM, order_payload

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

STATUS = "customers.order.status_changed"


@pytest.fixture
def run(workspace, django_capture_on_commit_callbacks):
    """Emit order events in a committed transaction and run the loyalty handlers after commit."""

    def emit(*specs):
        with django_capture_on_commit_callbacks(execute=True):
            factories.emit_events(workspace, *specs)

    return emit


def _rule(prog, kind, **params):
    with transaction.atomic():
        return rules.rule_create(
            actor=SYSTEM, program=prog, kind=kind, name=f"{kind}-{new_public_id('x')}", params=params
        )


def _pay(run, cid, total="1000.00", order_id=None, items=None):
    oid = order_id or new_public_id("ord")
    run((STATUS, order_payload(oid, cid, to="paid", frm="placed", total=total, items=items)))
    return oid


def _quote(prog, cid, total="1000.00", points=0, code=None):
    with transaction.atomic():
        return checkout.quote_create(
            actor=SYSTEM,
            program=prog,
            customer_id=cid,
            points=points,
            coupon_code=code,
            items=[{"sku": "DR-1", "category": "dresses", "quantity": 1, "price": total}],
        )


def test_cashback_5_percent_doubled_for_gold(workspace, run):
    prog = factories.program(workspace, return_window_days=14)
    with transaction.atomic():
        programs.tier_create(actor=SYSTEM, program=prog, name="Gold", threshold=100, multiplier=Decimal("2"))
    _rule(prog, RuleKind.CASHBACK, percent="5")
    regular, gold = factories.customer_id(), factories.customer_id()
    _pay(run, regular)
    assert public.balances(workspace.pk, regular).pending == 50
    earned = Event.objects.get(type="loyalty.points.earned")
    assert (earned.payload["customer_id"], earned.payload["points"], earned.payload["pending"]) == (
        regular,
        50,
        True,
    )
    assert public.balances(workspace.pk, regular).tier is None
    # Gold by points earned over the period (an earlier 2,000 order), not by the balance.
    _pay(run, gold, total="2000.00")
    assert public.balances(workspace.pk, gold).tier == "Gold"
    assert Event.objects.filter(type="loyalty.tier.changed").count() == 1
    _pay(run, gold)
    b = public.balances(workspace.pk, gold)
    assert (b.pending, b.available) == (100 + 100, 0)


def test_cashback_by_category_only_counts_matching_items(workspace, run):
    prog = factories.program(workspace)
    _rule(prog, RuleKind.CASHBACK, percent="10", categories=["shoes"])
    cid = factories.customer_id()
    _pay(
        run,
        cid,
        total="3000.00",
        items=[
            {"sku": "DR-1", "category": "dresses", "quantity": 1, "price": "1000.00"},
            {"sku": "SH-1", "category": "shoes", "quantity": 2, "price": "1000.00"},
        ],
    )
    assert public.balances(workspace.pk, cid).pending == 200


def test_discount_from_the_third_counted_purchase(workspace, run):
    prog = factories.program(workspace)
    _rule(prog, RuleKind.DISCOUNT_FROM_KTH, k=3, percent="10")
    cid = factories.customer_id()
    assert _quote(prog, cid).rule_discount == 0
    first = _pay(run, cid)
    cancelled = _pay(run, cid)
    run((STATUS, order_payload(cancelled, cid, to="cancelled", frm="paid")))
    # One counted order: a cancelled one does not count, so the next is only the 2nd.
    assert rules.counted_orders(workspace.pk, cid) == 1
    assert _quote(prog, cid).rule_discount == 0
    _pay(run, cid)
    third = _quote(prog, cid)
    assert third.rule_discount == Decimal("100.00")  # the 3rd counted order itself gets it
    with transaction.atomic():
        checkout.quote_redeem(actor=SYSTEM, quote=third, idempotency_key="k3")
    _pay(run, cid, order_id="ord_third")
    assert OrderFact.objects.get(order_id="ord_third").counted_number == 3
    # A later full return drops the count but never claws back the discount already used.
    run((STATUS, order_payload(first, cid, to="returned", frm="delivered")))
    assert rules.counted_orders(workspace.pk, cid) == 2
    third.refresh_from_db()
    assert (third.status, third.rule_discount) == (QuoteStatus.REDEEMED, Decimal("100.00"))
    # The next order is the 3rd counted one again, so it gets the discount too.
    assert _quote(prog, cid).rule_discount == Decimal("100.00")


def test_gift_on_every_fifth_order_and_not_twice_for_the_same_fifth(workspace, run):
    prog = factories.program(workspace)
    with transaction.atomic():
        gift = coupons.campaign_create(
            actor=SYSTEM, workspace_id=workspace.pk, name="Gift", kind=CouponKind.GIFT
        )
    _rule(prog, RuleKind.NTH_ORDER_GIFT, n=5, campaign_id=gift.public_id)
    cid = factories.customer_id()
    orders = [_pay(run, cid) for _ in range(4)]
    assert Coupon.objects.filter(customer_id=cid).count() == 0
    _pay(run, cid)
    assert Coupon.objects.filter(customer_id=cid, campaign=gift).count() == 1
    assert Event.objects.filter(type="loyalty.coupon.issued").count() == 1
    # A return drops the count to 4; the next paid order is the 5th counted again but not a new gift.
    run((STATUS, order_payload(orders[0], cid, to="returned", frm="delivered")))
    _pay(run, cid)
    assert Coupon.objects.filter(customer_id=cid).count() == 1
    for _ in range(5):
        _pay(run, cid)
    assert Coupon.objects.filter(customer_id=cid).count() == 2  # the 10th


def test_three_referred_friends_who_pay_earn_3000(workspace, run):
    prog = factories.program(workspace, return_window_days=0)
    _rule(prog, RuleKind.REFERRAL_MILESTONE, friends=3, points=3000)
    referrer = factories.account(prog)
    with transaction.atomic():
        code = referrals.referral_code_get(actor=SYSTEM, account=referrer)
    friends = [factories.customer_id() for _ in range(3)]
    with transaction.atomic():
        for i, friend in enumerate(friends):
            # Codes are typed by people: case and spaces do not matter.
            typed = code.lower() if i == 0 else f" {code[:4]} {code[4:]} "
            referrals.referral_attach(actor=SYSTEM, program=prog, code=typed, referred_customer_id=friend)
    _pay(run, friends[0])
    first_order = _pay(run, friends[1])
    _pay(run, friends[1])  # a second order of the same friend is not another friend
    assert public.balances(workspace.pk, referrer.customer_id).available == 0
    _pay(run, friends[2])
    assert public.balances(workspace.pk, referrer.customer_id).available == 3000
    # Re-delivery of the qualifying event and more orders pay nothing more.
    run((STATUS, order_payload(first_order, friends[1], to="paid", frm="placed")))
    _pay(run, friends[2])
    assert public.balances(workspace.pk, referrer.customer_id).available == 3000
    assert LedgerEntry.objects.filter(ref_type="milestone").count() == 1


def test_referral_rewards_both_sides_on_first_paid_order(workspace, run):
    prog = factories.program(workspace, return_window_days=0)
    _rule(prog, RuleKind.REFERRAL, referrer_points=500, referred_points=300)
    referrer = factories.account(prog)
    friend = factories.customer_id()
    with transaction.atomic():
        code = referrals.referral_code_get(actor=SYSTEM, account=referrer)
        referrals.referral_attach(actor=SYSTEM, program=prog, code=code, referred_customer_id=friend)
    _pay(run, friend)
    _pay(run, friend)
    assert public.balances(workspace.pk, referrer.customer_id).available == 500
    assert public.balances(workspace.pk, friend).available == 300


def test_return_inside_window_reverses_the_pending_earn(workspace, run):
    prog = factories.program(workspace, return_window_days=14)
    _rule(prog, RuleKind.CASHBACK, percent="5")
    cid = factories.customer_id()
    oid = _pay(run, cid)
    assert public.balances(workspace.pk, cid).pending == 50
    run((STATUS, order_payload(oid, cid, to="returned", frm="delivered")))
    b = public.balances(workspace.pk, cid)
    assert (b.pending, b.available, b.debt) == (0, 0, 0)
    assert LedgerEntry.objects.filter(kind="reverse").count() == 1


def test_return_after_spending_creates_debt_settled_by_next_earn(workspace, run):
    prog = factories.program(workspace, return_window_days=0)
    _rule(prog, RuleKind.CASHBACK, percent="5")
    cid = factories.customer_id()
    oid = _pay(run, cid)
    acc = Account.objects.get(customer_id=cid)
    with transaction.atomic():
        ledger.points_redeem(actor=SYSTEM, account=acc, points=40, idempotency_key="spend")
    run((STATUS, order_payload(oid, cid, to="returned", frm="delivered")))
    b = public.balances(workspace.pk, cid)
    assert (b.available, b.debt) == (0, 40)
    _pay(run, cid, total="2000.00")  # earns 100: 40 settle the debt, 60 are available
    b = public.balances(workspace.pk, cid)
    assert (b.available, b.debt) == (60, 0)


def test_partial_return_reverses_its_share(workspace, run):
    prog = factories.program(workspace, return_window_days=14)
    _rule(prog, RuleKind.CASHBACK, percent="5")
    cid = factories.customer_id()
    oid = _pay(run, cid)
    ret = {
        "order_id": oid,
        "customer_id": cid,
        "return_id": "ret_1",
        "reason": "wrong_size",
        "items": [],
        "amount": "400.00",
        "currency": "RUB",
    }
    run(("customers.order.returned", ret))
    run(("customers.order.returned", ret))  # the same return again changes nothing
    assert public.balances(workspace.pk, cid).pending == 30
    assert rules.counted_orders(workspace.pk, cid) == 1
    run(("customers.order.returned", {**ret, "return_id": "ret_2", "amount": "600.00"}))
    assert public.balances(workspace.pk, cid).pending == 0
    assert rules.counted_orders(workspace.pk, cid) == 0


def test_redelivered_paid_event_earns_once(workspace, run):
    prog = factories.program(workspace)
    _rule(prog, RuleKind.CASHBACK, percent="5")
    cid = factories.customer_id()
    oid = _pay(run, cid)
    run((STATUS, order_payload(oid, cid, to="shipped", frm="paid")))
    run((STATUS, order_payload(oid, cid, to="paid", frm="placed")))
    assert public.balances(workspace.pk, cid).pending == 50
    assert LedgerEntry.objects.filter(kind="earn").count() == 1


def test_rule_cap_and_budget(workspace, run):
    prog = factories.program(workspace)
    with transaction.atomic():
        rules.rule_create(
            actor=SYSTEM,
            program=prog,
            kind=RuleKind.CASHBACK,
            name="capped",
            params={"percent": "5"},
            cap_points=80,
            budget_points=120,
        )
    a, b = factories.customer_id(), factories.customer_id()
    _pay(run, a)
    _pay(run, a)  # capped at 80 for the period
    _pay(run, b)  # budget left: 40, less than 50: nothing
    assert public.balances(workspace.pk, a).pending == 80
    assert public.balances(workspace.pk, b).pending == 0


def test_welcome_bonus_once(workspace, run):
    prog = factories.program(workspace, return_window_days=0)
    _rule(prog, RuleKind.WELCOME, points=150)
    cid = factories.customer_id()
    run(
        ("customers.customer.created", {"customer_id": cid}),
        ("customers.customer.created", {"customer_id": cid}),
    )
    assert public.balances(workspace.pk, cid).available == 150


def test_no_program_no_effect(workspace, run):
    cid = factories.customer_id()
    _pay(run, cid)
    assert Account.objects.count() == 0
    assert Quote.objects.count() == 0


def test_tier_by_money_spent_over_the_period(workspace, run):
    prog = factories.program(workspace, tier_basis="spend")
    with transaction.atomic():
        programs.tier_create(
            actor=SYSTEM, program=prog, name="Silver", threshold=3000, multiplier=Decimal("1.5")
        )
    cid = factories.customer_id()
    first = _pay(run, cid, total="2000.00")
    assert public.balances(workspace.pk, cid).tier is None
    _pay(run, cid, total="1500.00")
    assert public.balances(workspace.pk, cid).tier == "Silver"
    # A full return lowers spend below the threshold; the downgrade waits for the scheduled review.
    run((STATUS, order_payload(first, cid, to="returned", frm="delivered")))
    assert public.balances(workspace.pk, cid).tier == "Silver"


def test_birthday_bonus_once_a_year(workspace):
    from carekit.testing.transactions import call_inside_transaction

    prog = factories.program(workspace, return_window_days=0)
    _rule(prog, RuleKind.BIRTHDAY, points=200)
    cid = factories.customer_id()
    grant = public.birthday_bonus_grant
    assert (
        call_inside_transaction(grant, workspace_id=workspace.pk, customer_id=cid, year=2026, actor=SYSTEM)
        == 200
    )
    assert (
        call_inside_transaction(grant, workspace_id=workspace.pk, customer_id=cid, year=2026, actor=SYSTEM)
        == 0
    )
    assert (
        call_inside_transaction(grant, workspace_id=workspace.pk, customer_id=cid, year=2027, actor=SYSTEM)
        == 200
    )
    assert public.balances(workspace.pk, cid).available == 400
