"""Coupon campaigns, generated and named codes, and the checks a basket must pass to use one."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from carekit.core.events import Actor, emit
from carekit.loyalty.enums import CouponKind
from carekit.loyalty.errors import CouponError, CouponNotFound, InvalidAmount, LoyaltyError
from carekit.loyalty.models import Coupon, CouponCampaign, CouponRedemption

# No 0/O, 1/I/L: codes are read aloud and typed from screenshots. 16 of 31 symbols is about 79 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16
CENT = Decimal("0.01")
_WS = re.compile(r"\s+")


def normalize_code(raw: str) -> str:
    """Codes match whatever the customer typed: case and any whitespace are ignored."""
    code = _WS.sub("", raw or "").upper()
    if not code or len(code) > 64 or not code.isalnum():
        raise CouponNotFound("This code does not exist.", field="code")
    return code


def generate_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class BasketItem:
    sku: str
    category: str
    quantity: int
    price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.price * self.quantity


def parse_basket(items: list[dict[str, Any]]) -> list[BasketItem]:
    """A basket of whole positive quantities and non-negative prices; anything else is refused."""
    out = []
    for i, raw in enumerate(items):
        try:
            price = Decimal(str(raw["price"]))
            quantity = raw.get("quantity", 1)
        except (KeyError, ArithmeticError, ValueError) as exc:
            raise InvalidAmount("Each item needs a price.", field=f"items.{i}.price") from exc
        if not price.is_finite() or price < 0 or price.quantize(CENT) != price:
            raise InvalidAmount(
                "Prices are non-negative amounts with at most two decimals.",
                field=f"items.{i}.price",
                code="invalid_price",
            )
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidAmount("Quantities are whole numbers from 1.", field=f"items.{i}.quantity")
        out.append(BasketItem(str(raw.get("sku", "")), str(raw.get("category", "")), quantity, price))
    if not out:
        raise InvalidAmount("The basket is empty.", field="items", code="empty_basket")
    return out


def campaign_create(
    *,
    actor: Actor,
    workspace_id: int,
    name: str,
    kind: str,
    value: Decimal = Decimal("0"),
    min_order: Decimal = Decimal("0"),
    categories: list[str] | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    per_customer_limit: int | None = None,
) -> CouponCampaign:
    if kind not in CouponKind.values:
        raise InvalidAmount("Unknown coupon kind.", field="kind")
    if value < 0 or min_order < 0 or (kind == CouponKind.PERCENT and not 0 < value <= 100):
        raise InvalidAmount("The coupon's value is out of range.", field="value")
    if valid_from and valid_until and valid_until <= valid_from:
        raise InvalidAmount("The validity window ends before it starts.", field="valid_until")
    campaign = CouponCampaign.objects.create(
        workspace_id=workspace_id,
        name=name.strip(),
        kind=kind,
        value=value,
        min_order=min_order,
        categories=sorted({c.strip() for c in categories or [] if c.strip()}),
        valid_from=valid_from,
        valid_until=valid_until,
        per_customer_limit=per_customer_limit,
    )
    emit(
        workspace_id=workspace_id,
        type="loyalty.campaign.created",
        subject_type="coupon_campaign",
        subject_id=campaign.public_id,
        actor=actor,
        payload={"campaign_id": campaign.public_id, "kind": kind},
    )
    return campaign


def promo_code_create(
    *, actor: Actor, campaign: CouponCampaign, code: str, max_uses: int | None = None
) -> Coupon:
    """A named code anyone may type (e.g. SUMMER10), stored normalized."""
    normalized = normalize_code(code)
    try:
        with transaction.atomic():
            coupon = Coupon.objects.create(
                workspace_id=campaign.workspace_id, campaign=campaign, code=normalized, max_uses=max_uses
            )
    except IntegrityError:
        raise LoyaltyError("This code is already in use.", field="code", code="code_taken") from None
    emit(
        workspace_id=campaign.workspace_id,
        type="loyalty.coupon.created",
        subject_type="coupon",
        subject_id=coupon.public_id,
        actor=actor,
        payload={"coupon_id": coupon.public_id, "named": True},
    )
    return coupon


def coupon_issue(
    *,
    actor: Actor,
    campaign: CouponCampaign,
    customer_id: str,
    idempotency_key: str,
    max_uses: int | None = 1,
) -> Coupon:
    """Issue a generated code to one customer; the same key returns the coupon issued before."""
    existing = Coupon.objects.filter(workspace_id=campaign.workspace_id, issue_key=idempotency_key).first()
    if existing is not None:
        return existing
    coupon = Coupon.objects.create(
        workspace_id=campaign.workspace_id,
        campaign=campaign,
        code=generate_code(),
        customer_id=customer_id,
        max_uses=max_uses,
        issue_key=idempotency_key,
    )
    emit(
        workspace_id=campaign.workspace_id,
        type="loyalty.coupon.issued",
        subject_type="coupon",
        subject_id=coupon.public_id,
        actor=actor,
        payload={
            "coupon_id": coupon.public_id,
            "campaign_id": campaign.public_id,
            "customer_id": customer_id,
            "kind": campaign.kind,
        },
    )
    return coupon


@dataclass(frozen=True)
class CouponDiscount:
    coupon: Coupon
    discount: Decimal
    free_delivery: bool
    gift: bool


def coupon_check(
    *, workspace_id: int, code: str, customer_id: str, basket: list[BasketItem], at: datetime | None = None
) -> CouponDiscount:
    """What a code gives this basket, or a CouponError with the reason's stable code."""
    at = at or timezone.now()
    coupon = (
        Coupon.objects.select_related("campaign")
        .filter(workspace_id=workspace_id, code=normalize_code(code))
        .first()
    )
    if coupon is None or not coupon.campaign.active:
        raise CouponNotFound("This code does not exist.", field="code")
    campaign = coupon.campaign
    if coupon.customer_id and coupon.customer_id != customer_id:
        raise CouponNotFound("This code does not exist.", field="code")
    if campaign.valid_from and at < campaign.valid_from:
        raise CouponError("This code is not valid yet.", field="code", code="coupon_not_started")
    if campaign.valid_until and at >= campaign.valid_until:
        raise CouponError("This code has expired.", field="code", code="coupon_expired")
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        raise CouponError("This code was already used.", field="code", code="coupon_limit_reached")
    if campaign.per_customer_limit is not None:
        used = CouponRedemption.objects.filter(
            coupon__campaign=campaign, customer_id=customer_id, active=True
        ).count()
        if used >= campaign.per_customer_limit:
            raise CouponError(
                "You have used this offer the maximum number of times.",
                field="code",
                code="coupon_limit_reached",
            )
    total = sum((i.amount for i in basket), Decimal("0"))
    if total < campaign.min_order:
        raise CouponError(
            "The order is below this code's minimum.",
            field="code",
            code="coupon_conditions_not_met",
            details={"min_order": str(campaign.min_order)},
        )
    cats = set(campaign.categories)
    eligible = sum((i.amount for i in basket if not cats or i.category in cats), Decimal("0"))
    if cats and eligible == 0:
        raise CouponError(
            "No item in the basket qualifies for this code.",
            field="code",
            code="coupon_conditions_not_met",
            details={"categories": sorted(cats)},
        )
    discount = Decimal("0")
    if campaign.kind == CouponKind.PERCENT:
        discount = (eligible * campaign.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    elif campaign.kind == CouponKind.FIXED:
        discount = min(campaign.value, eligible)
    return CouponDiscount(
        coupon, discount, campaign.kind == CouponKind.FREE_DELIVERY, campaign.kind == CouponKind.GIFT
    )


def coupon_use(coupon: Coupon) -> None:
    """Count a use with one conditional update, so concurrent checkouts cannot exceed the limit."""
    updated = (
        Coupon.objects.filter(pk=coupon.pk)
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .update(uses=F("uses") + 1)
    )
    if not updated:
        raise CouponError("This code was already used.", field="code", code="coupon_limit_reached")


def coupon_unuse(coupon: Coupon) -> None:
    Coupon.objects.filter(pk=coupon.pk, uses__gt=0).update(uses=F("uses") - 1)


def campaign_find(workspace_id: int, ref: str) -> CouponCampaign:
    """A campaign by public id or by name, as issuers name their coupon templates."""
    found = (
        CouponCampaign.objects.filter(workspace_id=workspace_id)
        .filter(Q(public_id=ref) | Q(name=ref))
        .first()
    )
    if found is None:
        raise CouponNotFound("No such coupon template.", field="coupon_template")
    return found
