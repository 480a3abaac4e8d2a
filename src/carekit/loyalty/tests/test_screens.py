"""The settings screens configure the brief's rules end to end; the liability report adds up."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from carekit.core.ids import new_public_id
from carekit.loyalty import public
from carekit.loyalty.enums import RuleKind
from carekit.loyalty.models import CouponCampaign, Program, Rule, Tier
from carekit.loyalty.services import ledger
from carekit.loyalty.tests import factories
from carekit.loyalty.tests.factories import SYSTEM, order_payload
from carekit.testing.tenants import add_member, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _client(workspace, role="owner") -> Client:
    user = make_user()
    add_member(workspace, role, user=user)
    # The workspace header picks the workspace for a signed-in user, like the UI's workspace switcher.
    client = Client(HTTP_X_CAREKIT_WORKSPACE=workspace.public_id)
    client.force_login(user)
    return client


def _program_form(**changes):
    data = {
        "name": "Club",
        "active": "on",
        "point_value": "1",
        "rounding": "floor",
        "max_redeem_percent": 50,
        "return_window_days": 0,
        "lot_lifetime_days": 365,
        "comp_cap_count": 1,
        "comp_cap_points": 1000,
        "comp_cap_days": 30,
        "comp_budget_points": 100000,
        "agent_comp_max_points": 500,
        "tier_basis": "points",
        "tier_period_days": 365,
        "tier_grace_days": 30,
    }
    return {**data, **changes}


def test_rules_configured_on_screens_work_on_order_events(workspace, django_capture_on_commit_callbacks):
    owner = _client(workspace)
    assert owner.post("/loyalty/", _program_form()).status_code == 302
    assert (
        owner.post("/loyalty/tiers/", {"name": "Gold", "threshold": 100, "multiplier": "2"}).status_code
        == 302
    )
    assert (
        owner.post("/loyalty/rules/", {"kind": "cashback", "name": "5% back", "percent": "5"}).status_code
        == 302
    )
    assert (
        owner.post(
            "/loyalty/rules/", {"kind": "discount_from_kth", "name": "10% from 3rd", "k": 3, "percent": "10"}
        ).status_code
        == 302
    )
    assert (
        owner.post(
            "/loyalty/rules/",
            {"kind": "referral_milestone", "name": "3 friends", "friends": 3, "points": 3000},
        ).status_code
        == 302
    )
    assert (
        owner.post(
            "/loyalty/coupons/",
            {"name": "Gift", "kind": "gift", "value": "0", "min_order": "0", "code": " gift 5 "},
        ).status_code
        == 302
    )
    gift = CouponCampaign.objects.get(name="Gift")
    assert (
        owner.post(
            "/loyalty/rules/",
            {"kind": "nth_order_gift", "name": "Every 5th", "n": 5, "campaign_id": gift.public_id},
        ).status_code
        == 302
    )
    assert Rule.objects.count() == 4
    assert Tier.objects.get().multiplier == 2
    assert Program.objects.get(workspace=workspace).return_window_days == 0
    cid = factories.customer_id()
    with django_capture_on_commit_callbacks(execute=True):
        factories.emit_events(
            *[workspace],
            *[
                (
                    "customers.order.status_changed",
                    order_payload(new_public_id("ord"), cid, to="paid", frm="placed"),
                )
                for _ in range(5)
            ],
        )
    b = public.balances(workspace.pk, cid)
    # 5% of the first order is 50, which is under Gold; orders 2-5 earn 50 each as well (50+50 reaches
    # 100 after the 2nd, so orders 3-5 earn 100): 50 + 50 + 100 * 3.
    assert (b.available, b.tier) == (400, "Gold")
    assert gift.coupons.filter(customer_id=cid).count() == 1
    page = owner.get("/loyalty/").content.decode()
    assert 'id="outstanding">400<' in page
    assert owner.get(f"/loyalty/customers/{cid}/").status_code == 200


def test_rule_form_errors_show_and_change_nothing(workspace):
    owner = _client(workspace)
    resp = owner.post("/loyalty/rules/", {"kind": "cashback", "name": "no percent"})
    assert resp.status_code == 200
    assert Rule.objects.count() == 0


def test_agent_can_read_but_not_change(workspace):
    agent = _client(workspace, "agent")
    assert agent.get("/loyalty/rules/").status_code == 200
    assert (
        agent.post("/loyalty/rules/", {"kind": RuleKind.WELCOME, "name": "w", "points": 5}).status_code == 403
    )
    assert Rule.objects.count() == 0


def test_screens_need_a_workspace_member(workspace, other_workspace):
    stranger = _client(other_workspace)
    prog = factories.program(workspace)
    acc = factories.account(prog, available=10)
    page = stranger.get(f"/loyalty/customers/{acc.customer_id}/").content.decode()
    assert 'id="available">0<' in page
    assert Client().get("/loyalty/").status_code == 403


def test_liability_counts_expiring_windows(workspace):
    from datetime import timedelta

    from django.utils import timezone

    prog = factories.program(workspace)
    acc = factories.account(prog)
    now = timezone.now()
    with transaction.atomic():
        for days, points in ((10, 100), (45, 200), (80, 300), (200, 400)):
            ledger.points_earn(
                actor=SYSTEM,
                account=acc,
                points=points,
                idempotency_key=f"e{days}",
                expires_at=now + timedelta(days=days),
            )
    owner = _client(workspace)
    report = owner.get("/api/v1/loyalty/liability").json()
    assert report["expiring"] == {"30": 100, "60": 300, "90": 600}
    assert report["outstanding"] == 1000


def test_screens_speak_russian(workspace):
    owner = _client(workspace)
    owner.cookies["django_language"] = "ru"
    page = owner.get("/loyalty/rules/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Правила лояльности" in page
    assert "Добавить правило" in page


def test_screen_configured_rules_counting_referrals_and_returns(
    workspace, django_capture_on_commit_callbacks
):
    """Everything set up on the screens; orders arrive as customers' events; the counting rule holds."""
    from carekit.loyalty import selectors
    from carekit.loyalty.models import Account
    from carekit.loyalty.services import checkout, referrals

    owner = _client(workspace)
    owner.post("/loyalty/", _program_form(return_window_days=14))
    owner.post("/loyalty/rules/", {"kind": "cashback", "name": "5% back", "percent": "5"})
    owner.post(
        "/loyalty/rules/", {"kind": "discount_from_kth", "name": "10% from 3rd", "k": 3, "percent": "10"}
    )
    owner.post(
        "/loyalty/rules/", {"kind": "referral_milestone", "name": "3 friends", "friends": 3, "points": 3000}
    )
    assert Rule.objects.count() == 3
    prog = selectors.program(workspace.pk)

    def events(*specs):
        with django_capture_on_commit_callbacks(execute=True):
            factories.emit_events(workspace, *specs)

    def pay(cid, oid=None):
        oid = oid or new_public_id("ord")
        events(("customers.order.status_changed", order_payload(oid, cid, to="paid", frm="placed")))
        return oid

    def quote_discount(cid):
        with transaction.atomic():
            return checkout.quote_create(
                actor=SYSTEM,
                program=prog,
                customer_id=cid,
                points=0,
                items=[{"sku": "X", "price": "1000.00"}],
            ).rule_discount

    # 10% from the 3rd purchase: the 3rd counted order itself; a cancelled one does not count.
    cid = factories.customer_id()
    first = pay(cid)
    cancelled = pay(cid)
    events(("customers.order.status_changed", order_payload(cancelled, cid, to="cancelled", frm="paid")))
    pay(cid)
    assert quote_discount(cid) == 100
    # A return inside the window reverses the pending earn.
    assert public.balances(workspace.pk, cid).pending == 100
    events(("customers.order.status_changed", order_payload(first, cid, to="returned", frm="delivered")))
    assert public.balances(workspace.pk, cid).pending == 50
    assert quote_discount(cid) == 0  # one counted order is left, so the next would be only the 2nd

    # 3,000 points when the 3rd referred friend pays.
    referrer = factories.account(prog)
    with transaction.atomic():
        code = referrals.referral_code_get(actor=SYSTEM, account=referrer)
    friends = [factories.customer_id() for _ in range(3)]
    with transaction.atomic():
        for friend in friends:
            referrals.referral_attach(actor=SYSTEM, program=prog, code=code, referred_customer_id=friend)
    pay(friends[0])
    pay(friends[1])
    assert public.balances(workspace.pk, referrer.customer_id).pending == 0
    pay(friends[2])
    referrer_bal = public.balances(workspace.pk, referrer.customer_id)
    assert referrer_bal.pending + referrer_bal.available == 3000

    # With no return window, a return after the points were spent creates a debt.
    owner.post("/loyalty/", _program_form(return_window_days=0))
    spender = factories.customer_id()
    oid = pay(spender)
    with transaction.atomic():
        ledger.points_redeem(
            actor=SYSTEM, account=Account.objects.get(customer_id=spender), points=50, idempotency_key="spend"
        )
    events(("customers.order.status_changed", order_payload(oid, spender, to="returned", frm="delivered")))
    b = public.balances(workspace.pk, spender)
    assert (b.available, b.debt) == (0, 50)
