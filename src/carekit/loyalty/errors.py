"""Loyalty's domain errors, each with a stable code the API returns in the error envelope."""

from __future__ import annotations

from carekit.core.errors import Conflict, DomainError


class LoyaltyError(DomainError):
    code = "loyalty_error"
    status = 409


class InsufficientPoints(LoyaltyError):
    code = "insufficient_points"


class InvalidAmount(DomainError):
    code = "invalid_amount"
    status = 422


class KeyReused(Conflict):
    code = "idempotency_key_reused"


class CouponError(LoyaltyError):
    """Raised with a specific code: coupon_expired, coupon_not_started, coupon_limit_reached,
    coupon_conditions_not_met. An unknown code is CouponNotFound (404 not_found, field "code")."""

    code = "coupon_invalid"
    status = 422


class CouponNotFound(CouponError):
    """Unknown codes and templates, including another workspace's: a 404 that reveals nothing."""

    code = "not_found"
    status = 404


class ReferralNotFound(LoyaltyError):
    """An unknown referral code, including another workspace's."""

    code = "not_found"
    status = 404
