"""Route cases for every loyalty API route (see carekit.testing.routes)."""

from __future__ import annotations

from django.db import transaction

from carekit.core.models import Workspace
from carekit.loyalty.enums import CouponKind, RuleKind
from carekit.loyalty.models import Account
from carekit.loyalty.services import checkout, coupons, referrals, rules
from carekit.loyalty.tests import factories
from carekit.loyalty.tests.factories import SYSTEM
from carekit.testing.routes import RouteCall, route_case

ITEMS = [{"sku": "DR-1", "category": "dresses", "quantity": 1, "price": "1000.00"}]


def _acc(ws: Workspace, available: int = 500) -> Account:
    return factories.account(factories.program(ws), available=available)


def _quote_id(ws: Workspace) -> str:
    acc = _acc(ws)
    with transaction.atomic():
        return checkout.quote_create(
            actor=SYSTEM, program=acc.program, customer_id=acc.customer_id, items=ITEMS, points=100
        ).public_id


def _campaign(ws: Workspace, name: str = "Ten"):
    with transaction.atomic():
        return coupons.campaign_create(
            actor=SYSTEM, workspace_id=ws.pk, name=name, kind=CouponKind.PERCENT, value=10
        )


@route_case("GET", "/loyalty/program", scope="loyalty:read")
def _get_program(own, other):
    return RouteCall("/loyalty/program", kind="plain")


@route_case("PATCH", "/loyalty/program", scope="loyalty:manage")
def _patch_program(own, other):
    return RouteCall("/loyalty/program", {"return_window_days": 7}, kind="plain")


@route_case("GET", "/loyalty/accounts", scope="loyalty:read")
def _list_accounts(own, other):
    return RouteCall(
        "/loyalty/accounts", kind="list", own_ids={_acc(own).public_id}, foreign_ids={_acc(other).public_id}
    )


@route_case("GET", "/loyalty/accounts/{account_id}", scope="loyalty:read")
def _get_account(own, other):
    return RouteCall(f"/loyalty/accounts/{_acc(other).public_id}")


@route_case("GET", "/loyalty/accounts/{account_id}/entries", scope="loyalty:read")
def _list_entries(own, other):
    return RouteCall(f"/loyalty/accounts/{_acc(other).public_id}/entries")


@route_case("POST", "/loyalty/accounts/{account_id}/adjustments", scope="loyalty:manage")
def _adjust(own, other):
    return RouteCall(
        f"/loyalty/accounts/{_acc(other).public_id}/adjustments",
        {"points": 10, "reason": "goodwill", "idempotency_key": "adj-1"},
    )


@route_case("POST", "/loyalty/accounts/{account_id}/referral-code", scope="loyalty:checkout")
def _referral_code(own, other):
    return RouteCall(f"/loyalty/accounts/{_acc(other).public_id}/referral-code")


@route_case("POST", "/loyalty/referrals", scope="loyalty:checkout")
def _attach_referral(own, other):
    acc = _acc(other)
    with transaction.atomic():
        code = referrals.referral_code_get(actor=SYSTEM, account=acc)
    return RouteCall("/loyalty/referrals", {"code": code, "customer_id": factories.customer_id()})


@route_case("POST", "/loyalty/checkout/quotes", scope="loyalty:checkout")
def _create_quote(own, other):
    with transaction.atomic():
        code = coupons.promo_code_create(actor=SYSTEM, campaign=_campaign(other), code="OTHER10").code
    return RouteCall(
        "/loyalty/checkout/quotes",
        {"customer_id": factories.customer_id(), "items": ITEMS, "coupon_code": code},
    )


@route_case("GET", "/loyalty/checkout/quotes/{quote_id}", scope="loyalty:checkout")
def _get_quote(own, other):
    return RouteCall(f"/loyalty/checkout/quotes/{_quote_id(other)}")


@route_case("POST", "/loyalty/checkout/quotes/{quote_id}/redeem", scope="loyalty:checkout")
def _redeem_quote(own, other):
    return RouteCall(f"/loyalty/checkout/quotes/{_quote_id(other)}/redeem", {"idempotency_key": "r1"})


@route_case("POST", "/loyalty/checkout/quotes/{quote_id}/cancel", scope="loyalty:checkout")
def _cancel_quote(own, other):
    return RouteCall(f"/loyalty/checkout/quotes/{_quote_id(other)}/cancel")


@route_case("POST", "/loyalty/checkout/quotes/{quote_id}/refund", scope="loyalty:checkout")
def _refund_quote(own, other):
    return RouteCall(f"/loyalty/checkout/quotes/{_quote_id(other)}/refund", {"idempotency_key": "f1"})


@route_case("POST", "/loyalty/compensations", scope="loyalty:compensate")
def _grant_compensation(own, other):
    template = _campaign(other, "Sorry").public_id
    return RouteCall(
        "/loyalty/compensations",
        {
            "customer_id": factories.customer_id(),
            "reason": "late",
            "idempotency_key": "c1",
            "coupon_template": template,
        },
    )


@route_case("GET", "/loyalty/compensations", scope="loyalty:read")
def _list_compensations(own, other):
    from carekit.loyalty import public

    def grant(ws):
        factories.program(ws)
        with transaction.atomic():
            return public.compensation_grant(
                workspace_id=ws.pk,
                customer_id=factories.customer_id(),
                reason="late",
                idempotency_key="k",
                issuer="test",
                actor=SYSTEM,
                points=10,
            )

    return RouteCall(
        "/loyalty/compensations",
        kind="list",
        own_ids={grant(own).compensation_id},
        foreign_ids={grant(other).compensation_id},
    )


@route_case("GET", "/loyalty/liability", scope="loyalty:read")
def _liability(own, other):
    return RouteCall("/loyalty/liability", kind="plain")


@route_case("GET", "/loyalty/campaigns", scope="loyalty:read")
def _list_campaigns(own, other):
    return RouteCall(
        "/loyalty/campaigns",
        kind="list",
        own_ids={_campaign(own).public_id},
        foreign_ids={_campaign(other).public_id},
    )


@route_case("POST", "/loyalty/campaigns", scope="loyalty:manage")
def _create_campaign(own, other):
    return RouteCall(
        "/loyalty/campaigns", {"name": "Summer", "kind": "fixed", "value": "300.00"}, kind="plain"
    )


@route_case("POST", "/loyalty/campaigns/{campaign_id}/codes", scope="loyalty:manage")
def _create_code(own, other):
    return RouteCall(f"/loyalty/campaigns/{_campaign(other).public_id}/codes", {"code": "SUMMER"})


@route_case("POST", "/loyalty/campaigns/{campaign_id}/issue", scope="loyalty:manage")
def _issue(own, other):
    return RouteCall(
        f"/loyalty/campaigns/{_campaign(other).public_id}/issue",
        {"customer_id": factories.customer_id(), "idempotency_key": "i1"},
    )


@route_case("GET", "/loyalty/coupons", scope="loyalty:read")
def _list_coupons(own, other):
    def code(ws):
        with transaction.atomic():
            return coupons.promo_code_create(actor=SYSTEM, campaign=_campaign(ws), code="WELCOME").public_id

    return RouteCall("/loyalty/coupons", kind="list", own_ids={code(own)}, foreign_ids={code(other)})


def _rule(ws):
    with transaction.atomic():
        return rules.rule_create(
            actor=SYSTEM,
            program=factories.program(ws),
            kind=RuleKind.CASHBACK,
            name="5%",
            params={"percent": "5"},
        )


@route_case("GET", "/loyalty/rules", scope="loyalty:read")
def _list_rules(own, other):
    return RouteCall(
        "/loyalty/rules", kind="list", own_ids={_rule(own).public_id}, foreign_ids={_rule(other).public_id}
    )


@route_case("POST", "/loyalty/rules", scope="loyalty:manage")
def _create_rule(own, other):
    return RouteCall(
        "/loyalty/rules", {"kind": "cashback", "name": "5%", "params": {"percent": "5"}}, kind="plain"
    )


@route_case("PATCH", "/loyalty/rules/{rule_id}", scope="loyalty:manage")
def _patch_rule(own, other):
    return RouteCall(f"/loyalty/rules/{_rule(other).public_id}", {"active": False})


def _tier(ws):
    from carekit.loyalty.services import programs

    with transaction.atomic():
        return programs.tier_create(
            actor=SYSTEM, program=factories.program(ws), name="Gold", threshold=1000, multiplier=2
        )


@route_case("GET", "/loyalty/tiers", scope="loyalty:read")
def _list_tiers(own, other):
    return RouteCall(
        "/loyalty/tiers", kind="list", own_ids={_tier(own).public_id}, foreign_ids={_tier(other).public_id}
    )


@route_case("POST", "/loyalty/tiers", scope="loyalty:manage")
def _create_tier(own, other):
    return RouteCall(
        "/loyalty/tiers", {"name": "Silver", "threshold": 500, "multiplier": "1.5"}, kind="plain"
    )
