"""Checkout through the API: quote holds, redeem once per key, cancel and refund reverse exactly,
stable error codes, and bad input that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from carekit.loyalty.enums import QuoteStatus
from carekit.loyalty.models import Account, Coupon, CouponRedemption, LedgerEntry, Quote
from carekit.loyalty.services import checkout, coupons
from carekit.loyalty.tests import factories
from carekit.loyalty.tests.factories import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

ITEMS = [{"sku": "DR-1", "category": "dresses", "quantity": 1, "price": "1000.00"}]


@pytest.fixture
def acc(workspace):
    return factories.account(factories.program(workspace), available=1000)


def _counters(acc):
    a = Account.objects.get(pk=acc.pk)
    return a.pending, a.available, a.held, a.debt


def _error(resp, status, code):
    assert resp.status_code == status, resp.content
    assert resp.json()["error"]["code"] == code, resp.json()
    return resp.json()["error"]


def _quote(api, acc, **body):
    return api.post("/loyalty/checkout/quotes", {"customer_id": acc.customer_id, "items": ITEMS, **body})


def test_quote_holds_and_redeem_spends_once(api, acc):
    resp = _quote(api, acc, points=300)
    assert resp.status_code == 201
    quote = resp.json()
    assert (quote["points"], quote["points_discount"], quote["status"]) == (300, "300.00", "open")
    assert _counters(acc) == (0, 700, 300, 0)
    path = f"/loyalty/checkout/quotes/{quote['id']}/redeem"
    first = api.post(path, {"idempotency_key": "order-A-1001", "order_id": "ord_1"})
    assert first.status_code == 200
    assert first.json()["status"] == "redeemed"
    again = api.post(path, {"idempotency_key": "order-A-1001", "order_id": "ord_1"})
    assert again.json() == first.json()
    _error(api.post(path, {"idempotency_key": "other"}), 409, "quote_already_redeemed")
    assert _counters(acc) == (0, 700, 0, 0)
    assert LedgerEntry.objects.filter(account=acc, kind="capture").count() == 1


def test_quote_without_points_holds_the_most_allowed(api, acc, workspace):
    quote = _quote(api, acc).json()
    assert quote["points"] == 500  # 50% of 1,000 at one point per rouble
    assert _counters(acc) == (0, 500, 500, 0)


def test_redeem_without_key_is_rejected_and_changes_nothing(api, acc):
    quote = _quote(api, acc, points=300).json()
    path = f"/loyalty/checkout/quotes/{quote['id']}/redeem"
    err = _error(api.post(path, {}), 422, "validation_error")
    assert [d["field"] for d in err["details"]] == ["idempotency_key"]
    _error(api.post(path, {"idempotency_key": ""}), 422, "validation_error")
    assert Quote.objects.get(public_id=quote["id"]).status == QuoteStatus.OPEN
    assert _counters(acc) == (0, 700, 300, 0)


def test_cancel_open_quote_releases_hold_twice_harmlessly(api, acc):
    quote = _quote(api, acc, points=300).json()
    path = f"/loyalty/checkout/quotes/{quote['id']}/cancel"
    assert api.post(path).json()["status"] == "cancelled"
    assert api.post(path).json()["status"] == "cancelled"
    assert _counters(acc) == (0, 1000, 0, 0)
    assert LedgerEntry.objects.filter(account=acc, kind="release").count() == 1
    _error(
        api.post(f"/loyalty/checkout/quotes/{quote['id']}/redeem", {"idempotency_key": "k"}),
        409,
        "quote_not_open",
    )


def test_refund_partial_then_cancel_returns_exactly_what_was_spent(api, acc, workspace):
    with transaction.atomic():
        campaign = coupons.campaign_create(
            actor=SYSTEM, workspace_id=workspace.pk, name="Ten", kind="percent", value=10
        )
        coupons.promo_code_create(actor=SYSTEM, campaign=campaign, code="TEN", max_uses=5)
    quote = _quote(api, acc, points=300, coupon_code="ten").json()
    assert (quote["coupon_discount"], quote["total_discount"]) == ("100.00", "400.00")
    base = f"/loyalty/checkout/quotes/{quote['id']}"
    api.post(f"{base}/redeem", {"idempotency_key": "r"})
    assert Coupon.objects.get(code="TEN").uses == 1
    assert (
        api.post(f"{base}/refund", {"idempotency_key": "f1", "points": 100}).json()["points_refunded"] == 100
    )
    assert (
        api.post(f"{base}/refund", {"idempotency_key": "f1", "points": 100}).json()["points_refunded"] == 100
    )
    assert _counters(acc) == (0, 800, 0, 0)
    _error(
        api.post(f"{base}/refund", {"idempotency_key": "f2", "points": 201}), 422, "refund_exceeds_redeemed"
    )
    assert api.post(f"{base}/cancel").json()["status"] == "cancelled"
    assert _counters(acc) == (0, 1000, 0, 0)
    assert Coupon.objects.get(code="TEN").uses == 0
    assert CouponRedemption.objects.get().active is False


def test_insufficient_points_and_redeem_limit(api, acc):
    _error(_quote(api, acc, points=1001), 409, "redeem_limit_exceeded")
    factories.program(acc.workspace, max_redeem_percent=100)
    err = _error(
        api.post(
            "/loyalty/checkout/quotes",
            {
                "customer_id": acc.customer_id,
                "points": 1001,
                "items": [{"sku": "X", "quantity": 2, "price": "1000.00"}],
            },
        ),
        409,
        "insufficient_points",
    )
    assert err["details"] == {"available": 1000, "asked": 1001}
    assert Quote.objects.count() == 0
    assert _counters(acc) == (0, 1000, 0, 0)


def test_expired_quote_cannot_be_redeemed(api, acc):
    with transaction.atomic():
        q = checkout.quote_create(
            actor=SYSTEM,
            program=acc.program,
            customer_id=acc.customer_id,
            items=ITEMS,
            points=200,
            at=timezone.now() - timedelta(hours=1),
        )
    _error(
        api.post(f"/loyalty/checkout/quotes/{q.public_id}/redeem", {"idempotency_key": "k"}),
        409,
        "quote_expired",
    )
    # The failed call changed nothing; the sweep (or the next write on the account) releases the hold.
    assert _counters(acc) == (0, 800, 200, 0)
    with transaction.atomic():
        checkout.ledger.account_refresh(actor=SYSTEM, account=acc)
    assert _counters(acc) == (0, 1000, 0, 0)
    assert Quote.objects.get(pk=q.pk).status == QuoteStatus.EXPIRED


@pytest.mark.parametrize("raw", ["summer10", "  SUMMER10  ", "Summer 10", "s u m m e r 1 0", "SUMMER\t10\n"])
def test_named_code_ignores_case_and_whitespace(api, acc, workspace, raw):
    with transaction.atomic():
        campaign = coupons.campaign_create(
            actor=SYSTEM, workspace_id=workspace.pk, name="Summer", kind="fixed", value=150
        )
    resp = api.post(f"/loyalty/campaigns/{campaign.public_id}/codes", {"code": " summer 10 "})
    assert resp.json()["code"] == "SUMMER10"
    _error(api.post(f"/loyalty/campaigns/{campaign.public_id}/codes", {"code": raw}), 409, "code_taken")
    quote = _quote(api, acc, points=0, coupon_code=raw).json()
    assert (quote["coupon_code"], quote["coupon_discount"]) == ("SUMMER10", "150.00")


def test_coupon_conditions_windows_and_limits(api, acc, workspace):
    now = timezone.now()
    with transaction.atomic():

        def camp(name, **kw):
            return coupons.campaign_create(actor=SYSTEM, workspace_id=workspace.pk, name=name, **kw)

        coupons.promo_code_create(
            actor=SYSTEM, campaign=camp("Big", kind="fixed", value=100, min_order=5000), code="BIG"
        )
        coupons.promo_code_create(
            actor=SYSTEM, campaign=camp("Shoes", kind="percent", value=20, categories=["shoes"]), code="SHOES"
        )
        coupons.promo_code_create(
            actor=SYSTEM,
            campaign=camp("Old", kind="fixed", value=100, valid_until=now - timedelta(days=1)),
            code="OLD",
        )
        coupons.promo_code_create(
            actor=SYSTEM,
            campaign=camp("Soon", kind="fixed", value=100, valid_from=now + timedelta(days=1)),
            code="SOON",
        )
        coupons.promo_code_create(
            actor=SYSTEM, campaign=camp("Once", kind="free_delivery"), code="ONCE", max_uses=1
        )
        coupons.promo_code_create(
            actor=SYSTEM, campaign=camp("Gift", kind="gift", per_customer_limit=1), code="GIFT"
        )
    _error(_quote(api, acc, points=0, coupon_code="BIG"), 422, "coupon_conditions_not_met")
    _error(_quote(api, acc, points=0, coupon_code="SHOES"), 422, "coupon_conditions_not_met")
    _error(_quote(api, acc, points=0, coupon_code="OLD"), 422, "coupon_expired")
    _error(_quote(api, acc, points=0, coupon_code="SOON"), 422, "coupon_not_started")
    _error(_quote(api, acc, points=0, coupon_code="NOPE"), 404, "not_found")
    once = _quote(api, acc, points=0, coupon_code="ONCE").json()
    assert once["free_delivery"] is True
    api.post(f"/loyalty/checkout/quotes/{once['id']}/redeem", {"idempotency_key": "o1"})
    _error(_quote(api, acc, points=0, coupon_code="ONCE"), 422, "coupon_limit_reached")
    gift = _quote(api, acc, points=0, coupon_code="GIFT").json()
    assert gift["gift"] is True
    api.post(f"/loyalty/checkout/quotes/{gift['id']}/redeem", {"idempotency_key": "g1"})
    _error(_quote(api, acc, points=0, coupon_code="GIFT"), 422, "coupon_limit_reached")
    assert Quote.objects.count() == 2


def test_generated_code_is_personal_and_unguessable(api, acc, workspace):
    with transaction.atomic():
        campaign = coupons.campaign_create(
            actor=SYSTEM, workspace_id=workspace.pk, name="Sorry", kind="fixed", value=200
        )
    issued = api.post(
        f"/loyalty/campaigns/{campaign.public_id}/issue",
        {"customer_id": acc.customer_id, "idempotency_key": "sorry-1"},
    ).json()
    assert len(issued["code"]) == 16
    assert set(issued["code"]) <= set(coupons.CODE_ALPHABET)
    again = api.post(
        f"/loyalty/campaigns/{campaign.public_id}/issue",
        {"customer_id": acc.customer_id, "idempotency_key": "sorry-1"},
    ).json()
    assert again["id"] == issued["id"]
    stranger = factories.account(acc.program)
    _error(_quote(api, stranger, points=0, coupon_code=issued["code"]), 404, "not_found")
    assert (
        _quote(api, acc, points=0, coupon_code=issued["code"].lower()).json()["coupon_discount"] == "200.00"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"points": -1},
        {"points": 1.5},
        {"points": "10"},
        {"items": [{"sku": "X", "price": "-1.00"}]},
        {"items": [{"sku": "X", "price": "abc"}]},
        {"items": [{"sku": "X", "price": "10.001"}]},
        {"items": [{"sku": "X", "price": "10.00", "quantity": 0}]},
        {"items": [{"sku": "X", "price": "10.00", "quantity": 1.5}]},
        {"items": []},
        {"customer_id": ""},
        {"colour": "red"},
    ],
)
def test_bad_quote_input_is_422_and_changes_nothing(api, acc, body):
    payload = {"customer_id": acc.customer_id, "items": ITEMS, **body}
    _error(api.post("/loyalty/checkout/quotes", payload), 422, "validation_error")
    assert Quote.objects.count() == 0
    assert _counters(acc) == (0, 1000, 0, 0)
    assert LedgerEntry.objects.filter(account=acc).count() == 1


@pytest.mark.parametrize("points", [0, 2.5, "5", None])
def test_bad_adjustment_is_422_and_changes_nothing(api, acc, points):
    resp = api.post(
        f"/loyalty/accounts/{acc.public_id}/adjustments",
        {"points": points, "reason": "fix", "idempotency_key": "adj"},
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] in {"validation_error", "invalid_amount"}
    assert _counters(acc) == (0, 1000, 0, 0)


def test_adjustment_both_ways_and_overdraw_refused(api, acc):
    path = f"/loyalty/accounts/{acc.public_id}/adjustments"
    assert (
        api.post(path, {"points": 50, "reason": "goodwill", "idempotency_key": "a1"}).json()["available"]
        == 1050
    )
    assert (
        api.post(path, {"points": -30, "reason": "fix", "idempotency_key": "a2"}).json()["available"] == 1020
    )
    assert (
        api.post(path, {"points": -30, "reason": "fix", "idempotency_key": "a2"}).json()["available"] == 1020
    )
    _error(
        api.post(path, {"points": -5000, "reason": "fix", "idempotency_key": "a3"}),
        409,
        "insufficient_points",
    )
    _error(
        api.post(path, {"points": 99, "reason": "fix", "idempotency_key": "a1"}),
        409,
        "idempotency_key_reused",
    )
    assert _counters(acc) == (0, 1020, 0, 0)


def test_account_detail_shows_lots_and_history(api, acc):
    detail = api.get(f"/loyalty/accounts/{acc.public_id}").json()
    assert (detail["available"], [lot["remaining"] for lot in detail["lots"]]) == (1000, [1000])
    entries = api.get(f"/loyalty/accounts/{acc.public_id}/entries").json()["items"]
    assert [(e["kind"], e["points"]) for e in entries] == [("earn", 1000)]
    liability = api.get("/loyalty/liability").json()
    assert (liability["outstanding"], liability["outstanding_value"]) == (1000, "1000.00")
