from django.db import models
from django.utils.translation import gettext_lazy as _


class Rounding(models.TextChoices):
    FLOOR = "floor", _("Round down")
    HALF_UP = "half_up", _("Round half up")


class TierBasis(models.TextChoices):
    POINTS = "points", _("Points earned")
    SPEND = "spend", _("Money spent")


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    UNLOCK = "unlock", _("Unlocked")
    REDEEM = "redeem", _("Redeemed")
    HOLD = "hold", _("Held")
    RELEASE = "release", _("Released")
    CAPTURE = "capture", _("Captured")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjusted")
    REVERSE = "reverse", _("Reversed")
    TRANSFER = "transfer", _("Transferred")


class QuoteStatus(models.TextChoices):
    OPEN = "open", _("Open")
    REDEEMED = "redeemed", _("Redeemed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    REFUNDED = "refunded", _("Refunded")


class CouponKind(models.TextChoices):
    PERCENT = "percent", _("Percent off")
    FIXED = "fixed", _("Fixed amount off")
    FREE_DELIVERY = "free_delivery", _("Free delivery")
    GIFT = "gift", _("Gift")


class RuleKind(models.TextChoices):
    CASHBACK = "cashback", _("Cashback percent")
    NTH_ORDER_GIFT = "nth_order_gift", _("Gift on every N-th order")
    DISCOUNT_FROM_KTH = "discount_from_kth", _("Discount from the K-th purchase")
    WELCOME = "welcome", _("Welcome bonus")
    BIRTHDAY = "birthday", _("Birthday bonus")
    REFERRAL = "referral", _("Referral reward")
    REFERRAL_MILESTONE = "referral_milestone", _("Referral milestone")


class CompensationStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the first paid order")
    QUALIFIED = "qualified", _("Qualified")


class OrderState(models.TextChoices):
    """What loyalty remembers of an order to apply the counting rule."""

    PLACED = "placed", _("Placed")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Fully returned")
