"""Request and response shapes of the loyalty API. Requests are strict: unknown fields are refused,
points are whole numbers (no "10" or 1.5), prices are non-negative."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field, StrictInt

from carekit.core.api import StrictSchema
from carekit.loyalty.enums import CouponKind, RuleKind, TierBasis

Key = Field(min_length=1, max_length=150, description="Retries with the same key return the first result.")


class ProgramOut(Schema):
    id: str
    name: str
    active: bool
    currency: str
    point_value: Decimal
    rounding: str
    max_redeem_percent: int
    return_window_days: int
    lot_lifetime_days: int | None
    hold_minutes: int
    comp_cap_count: int
    comp_cap_points: int
    comp_cap_days: int
    comp_budget_points: int
    comp_budget_used: int
    agent_comp_max_points: int
    tier_basis: str
    tier_period_days: int
    tier_grace_days: int


class ProgramPatch(StrictSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    active: bool | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    point_value: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=4)
    rounding: str | None = None
    max_redeem_percent: StrictInt | None = Field(None, ge=0, le=100)
    return_window_days: StrictInt | None = Field(None, ge=0, le=365)
    lot_lifetime_days: StrictInt | None = Field(None, ge=1, le=3650)
    hold_minutes: StrictInt | None = Field(None, ge=1, le=1440)
    comp_cap_count: StrictInt | None = Field(None, ge=0)
    comp_cap_points: StrictInt | None = Field(None, ge=0)
    comp_cap_days: StrictInt | None = Field(None, ge=1, le=3650)
    comp_budget_points: StrictInt | None = Field(None, ge=0)
    agent_comp_max_points: StrictInt | None = Field(None, ge=0)
    tier_basis: TierBasis | None = None
    tier_period_days: StrictInt | None = Field(None, ge=1, le=3650)
    tier_grace_days: StrictInt | None = Field(None, ge=0, le=3650)


class AccountOut(Schema):
    id: str
    customer_id: str
    pending: int
    available: int
    held: int
    debt: int
    tier: str | None


class AccountPage(Schema):
    items: list[AccountOut]
    next_cursor: str | None


class LotOut(Schema):
    points: int
    remaining: int
    pending: bool
    unlock_at: datetime | None
    expires_at: datetime | None


class AccountDetail(AccountOut):
    lots: list[LotOut]


class EntryOut(Schema):
    id: str
    kind: str
    points: int
    d_pending: int
    d_available: int
    d_held: int
    d_debt: int
    ref_type: str
    ref_id: str
    reason: str
    created_at: datetime


class EntryPage(Schema):
    items: list[EntryOut]
    next_cursor: str | None


class AdjustIn(StrictSchema):
    points: StrictInt = Field(description="Positive credits, negative debits; never zero.")
    reason: str = Field(min_length=1, max_length=200)
    idempotency_key: str = Key


class BasketItemIn(StrictSchema):
    sku: str = Field("", max_length=64)
    category: str = Field("", max_length=64)
    quantity: StrictInt = Field(1, ge=1, le=10_000)
    price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)


class QuoteIn(StrictSchema):
    customer_id: str = Field(min_length=1, max_length=64)
    items: list[BasketItemIn] = Field(min_length=1, max_length=500)
    points: StrictInt | None = Field(None, ge=0, description="Points to spend; omit for the most allowed.")
    coupon_code: str | None = Field(None, max_length=80)


class QuoteOut(Schema):
    id: str
    status: str
    account_id: str
    customer_id: str
    basket_total: Decimal
    points: int
    points_discount: Decimal
    coupon_code: str | None
    coupon_discount: Decimal
    free_delivery: bool
    gift: bool
    rule_discount: Decimal
    total_discount: Decimal
    points_refunded: int
    order_id: str
    expires_at: datetime


class RedeemIn(StrictSchema):
    idempotency_key: str = Key
    order_id: str = Field("", max_length=64)


class RefundIn(StrictSchema):
    idempotency_key: str = Key
    points: StrictInt | None = Field(None, ge=1, description="Omit to refund everything left.")


class CampaignIn(StrictSchema):
    name: str = Field(min_length=1, max_length=120)
    kind: CouponKind
    value: Decimal = Field(Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    min_order: Decimal = Field(Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    categories: list[str] = Field(default_factory=list, max_length=100)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    per_customer_limit: StrictInt | None = Field(None, ge=1)


class CampaignOut(Schema):
    id: str
    name: str
    kind: str
    value: Decimal
    min_order: Decimal
    categories: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    per_customer_limit: int | None
    active: bool


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: str | None


class PromoCodeIn(StrictSchema):
    code: str = Field(min_length=1, max_length=80)
    max_uses: StrictInt | None = Field(None, ge=1)


class IssueIn(StrictSchema):
    customer_id: str = Field(min_length=1, max_length=64)
    idempotency_key: str = Key
    max_uses: StrictInt = Field(1, ge=1)


class CouponOut(Schema):
    id: str
    code: str
    campaign_id: str
    customer_id: str
    max_uses: int | None
    uses: int


class CouponPage(Schema):
    items: list[CouponOut]
    next_cursor: str | None


class RuleIn(StrictSchema):
    kind: RuleKind
    name: str = Field(min_length=1, max_length=120)
    params: dict[str, Any]
    cap_points: StrictInt | None = Field(None, ge=1)
    cap_days: StrictInt = Field(30, ge=1, le=3650)
    budget_points: StrictInt | None = Field(None, ge=1)


class RulePatch(StrictSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    active: bool | None = None
    params: dict[str, Any] | None = None
    cap_points: StrictInt | None = Field(None, ge=1)
    budget_points: StrictInt | None = Field(None, ge=1)


class RuleOut(Schema):
    id: str
    kind: str
    name: str
    active: bool
    params: dict[str, Any]
    cap_points: int | None
    cap_days: int
    budget_points: int | None
    budget_used: int


class RulePage(Schema):
    items: list[RuleOut]
    next_cursor: str | None


class TierIn(StrictSchema):
    name: str = Field(min_length=1, max_length=60)
    threshold: StrictInt = Field(ge=0)
    multiplier: Decimal = Field(Decimal("1"), gt=0, max_digits=5, decimal_places=2)


class TierOut(Schema):
    id: str
    name: str
    threshold: int
    multiplier: Decimal


class TierPage(Schema):
    items: list[TierOut]
    next_cursor: str | None


class CompensationIn(StrictSchema):
    customer_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=200)
    idempotency_key: str = Key
    points: StrictInt = Field(0, ge=0)
    coupon_template: str | None = Field(None, max_length=120)


class CompensationOut(Schema):
    status: str
    compensation_id: str
    refusal: str
    points: int
    coupon_code: str | None


class CompensationRow(Schema):
    id: str
    customer_id: str
    issuer: str
    status: str
    refusal: str
    points: int
    created_at: datetime


class CompensationPage(Schema):
    items: list[CompensationRow]
    next_cursor: str | None


class ReferralIn(StrictSchema):
    code: str = Field(min_length=1, max_length=80)
    customer_id: str = Field(min_length=1, max_length=64)


class ReferralOut(Schema):
    referrer_id: str
    referred_id: str
    status: str


class ReferralCodeOut(Schema):
    code: str
    link: str


class LiabilityOut(Schema):
    pending: int
    available: int
    held: int
    debt: int
    outstanding: int
    outstanding_value: Decimal
    currency: str
    expiring: dict[str, int]
