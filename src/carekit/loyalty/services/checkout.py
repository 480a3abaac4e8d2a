"""Checkout: a quote holds points and prices the basket; redeem captures once per key; cancel and
refund reverse exactly what was taken. Quotes run under the customer's account lock (ADR 0101)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.utils import timezone

from carekit.core.events import Actor, emit
from carekit.loyalty.enums import QuoteStatus
from carekit.loyalty.errors import InsufficientPoints, InvalidAmount, LoyaltyError
from carekit.loyalty.models import CouponRedemption, LedgerEntry, Program, Quote
from carekit.loyalty.services import coupons, ledger
from carekit.loyalty.services.rules import kth_purchase_discount

ZERO = Decimal("0")


def max_redeemable(program: Program, payable: Decimal) -> int:
    """Points may pay up to the program's percentage of what is left after discounts."""
    cap_money = payable * program.max_redeem_percent / 100
    return int((cap_money / program.point_value).to_integral_value(rounding=ROUND_FLOOR))


def quote_create(
    *,
    actor: Actor,
    program: Program,
    customer_id: str,
    items: list[dict[str, Any]],
    points: int | None = None,
    coupon_code: str | None = None,
    at: datetime | None = None,
) -> Quote:
    """Price a basket for a customer and hold the points to be spent. `points=None` holds the most the
    basket allows; asking for more than allowed or available is refused with a stable code."""
    at = at or timezone.now()
    if not program.active:
        raise LoyaltyError("The loyalty program is switched off.", code="program_inactive")
    if points is not None:
        ledger.check_points(points, allow_zero=True)
    basket = coupons.parse_basket(items)
    total = sum((i.amount for i in basket), ZERO)
    account = ledger.lock(ledger.account_ensure(program=program, customer_id=customer_id))
    ledger.settle_time(account, actor=actor, at=at)
    rule, rule_discount = kth_purchase_discount(program=program, customer_id=customer_id, basket=basket)
    found = None
    if coupon_code:
        found = coupons.coupon_check(
            workspace_id=program.workspace_id, code=coupon_code, customer_id=customer_id, basket=basket, at=at
        )
    coupon_discount = found.discount if found else ZERO
    payable = max(total - rule_discount - coupon_discount, ZERO)
    limit = max_redeemable(program, payable)
    if points is None:
        points = min(limit, account.available)
    elif points > limit:
        raise LoyaltyError(
            "Points can pay only part of this order.",
            field="points",
            code="redeem_limit_exceeded",
            details={"max_points": limit},
        )
    elif points > account.available:
        raise InsufficientPoints(
            "Not enough points.", details={"available": account.available, "asked": points}
        )
    quote = Quote.objects.create(
        workspace_id=program.workspace_id,
        program=program,
        account=account,
        items=[{**asdict(i), "price": str(i.price)} for i in basket],
        basket_total=total,
        points=points,
        points_discount=(program.point_value * points).quantize(Decimal("0.01")),
        coupon=found.coupon if found else None,
        coupon_discount=coupon_discount,
        free_delivery=bool(found and found.free_delivery),
        gift=bool(found and found.gift),
        rule=rule,
        rule_discount=rule_discount,
        expires_at=at + timedelta(minutes=program.hold_minutes),
        created_at=at,
    )
    if points:
        quote.hold_entry = ledger.points_hold(
            actor=actor,
            account=account,
            points=points,
            idempotency_key=f"quote:{quote.public_id}:hold",
            ref_type="quote",
            ref_id=quote.public_id,
            at=at,
        )
        quote.save(update_fields=["hold_entry"])
    return quote


def _locked_quote(quote: Quote) -> Quote:
    ledger.lock(quote.account)
    return Quote.objects.select_related("account", "coupon", "hold_entry", "redeem_entry", "program").get(
        pk=quote.pk
    )


def quote_redeem(
    *, actor: Actor, quote: Quote, idempotency_key: str, order_id: str = "", at: datetime | None = None
) -> Quote:
    """Spend the held points and use the coupon, once. The same key returns the same result."""
    at = at or timezone.now()
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidAmount(
            "An idempotency key is required.", field="idempotency_key", code="idempotency_key_required"
        )
    quote = _locked_quote(quote)
    if quote.redeem_key:
        if quote.redeem_key == idempotency_key:
            return quote
        raise LoyaltyError("This quote was already redeemed.", code="quote_already_redeemed")
    ledger.settle_time(quote.account, actor=actor, at=at)
    quote.refresh_from_db(fields=["status"])
    if quote.status == QuoteStatus.EXPIRED or (quote.status == QuoteStatus.OPEN and quote.expires_at <= at):
        raise LoyaltyError("The quote has expired; ask for a new one.", code="quote_expired")
    if quote.status != QuoteStatus.OPEN:
        raise LoyaltyError(
            "This quote is no longer open.", code="quote_not_open", details={"status": quote.status}
        )
    if quote.coupon is not None:
        basket = coupons.parse_basket(quote.items)
        coupons.coupon_check(
            workspace_id=quote.workspace_id,
            code=quote.coupon.code,
            customer_id=quote.account.customer_id,
            basket=basket,
            at=at,
        )
        coupons.coupon_use(quote.coupon)
        CouponRedemption.objects.create(
            workspace_id=quote.workspace_id,
            coupon=quote.coupon,
            customer_id=quote.account.customer_id,
            quote=quote,
            created_at=at,
        )
    if quote.hold_entry is not None:
        quote.redeem_entry = ledger.hold_capture(
            actor=actor, hold=quote.hold_entry, idempotency_key=f"quote:{quote.public_id}:capture", at=at
        )
    quote.status = QuoteStatus.REDEEMED
    quote.redeem_key = idempotency_key
    quote.order_id = order_id[:64]
    quote.redeemed_at = at
    quote.save(update_fields=["status", "redeem_key", "order_id", "redeemed_at", "redeem_entry"])
    emit(
        workspace_id=quote.workspace_id,
        type="loyalty.points.redeemed",
        subject_type="loyalty_account",
        subject_id=quote.account.public_id,
        actor=actor,
        payload={
            "account_id": quote.account.public_id,
            "customer_id": quote.account.customer_id,
            "quote_id": quote.public_id,
            "points": quote.points,
            "order_id": quote.order_id,
            "coupon_id": quote.coupon.public_id if quote.coupon else None,
        },
    )
    return quote


def _restore_coupon(quote: Quote) -> None:
    if quote.coupon is not None and CouponRedemption.objects.filter(quote=quote, active=True).update(
        active=False
    ):
        coupons.coupon_unuse(quote.coupon)


def quote_cancel(*, actor: Actor, quote: Quote, at: datetime | None = None) -> Quote:
    """An open quote releases its hold; a redeemed one gives back all points and the coupon use.
    Cancelling twice is harmless."""
    at = at or timezone.now()
    quote = _locked_quote(quote)
    if quote.status == QuoteStatus.OPEN and quote.hold_entry is not None:
        ledger.hold_release(
            actor=actor, hold=quote.hold_entry, idempotency_key=f"quote:{quote.public_id}:release", at=at
        )
    elif quote.status == QuoteStatus.REDEEMED:
        left = quote.points - quote.points_refunded
        if left and quote.redeem_entry is not None:
            ledger.redemption_refund(
                actor=actor,
                redemption=quote.redeem_entry,
                points=left,
                idempotency_key=f"quote:{quote.public_id}:cancel",
                at=at,
            )
            quote.points_refunded = quote.points
        _restore_coupon(quote)
    elif quote.status in {QuoteStatus.CANCELLED, QuoteStatus.EXPIRED, QuoteStatus.REFUNDED}:
        return quote
    quote.status = QuoteStatus.CANCELLED
    quote.save(update_fields=["status", "points_refunded"])
    return quote


def quote_refund(
    *, actor: Actor, quote: Quote, idempotency_key: str, points: int | None = None, at: datetime | None = None
) -> Quote:
    """Give back some or all redeemed points (a partial refund of the order); the coupon use comes
    back only when everything is refunded."""
    at = at or timezone.now()
    if not idempotency_key or len(idempotency_key) > 150:
        raise InvalidAmount(
            "An idempotency key is required.", field="idempotency_key", code="idempotency_key_required"
        )
    quote = _locked_quote(quote)
    key = f"quote:{quote.public_id}:refund:{idempotency_key}"
    if LedgerEntry.objects.filter(program_id=quote.program_id, idempotency_key=key).exists():
        return quote
    if quote.status != QuoteStatus.REDEEMED:
        raise LoyaltyError(
            "Only a redeemed quote can be refunded.",
            code="quote_not_redeemed",
            details={"status": quote.status},
        )
    left = quote.points - quote.points_refunded
    n = left if points is None else ledger.check_points(points)
    if n > left:
        raise InvalidAmount(
            "More points than are left to refund.",
            field="points",
            code="refund_exceeds_redeemed",
            details={"refundable": left},
        )
    if n and quote.redeem_entry is not None:
        ledger.redemption_refund(
            actor=actor, redemption=quote.redeem_entry, points=n, idempotency_key=key, at=at
        )
    quote.points_refunded += n
    if quote.points_refunded == quote.points:
        quote.status = QuoteStatus.REFUNDED
        _restore_coupon(quote)
    quote.save(update_fields=["status", "points_refunded"])
    return quote


def quotes_expire_unheld(*, actor: Actor, at: datetime | None = None) -> int:
    """Mark open quotes that hold no points as expired (quotes with a hold expire with their account)."""
    return Quote.objects.filter(
        status=QuoteStatus.OPEN, expires_at__lte=at or timezone.now(), hold_entry__isnull=True
    ).update(status=QuoteStatus.EXPIRED)
