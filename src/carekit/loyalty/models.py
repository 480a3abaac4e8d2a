"""Loyalty tables: program, accounts with four counters, the append-only ledger, lots, checkout quotes,
coupons, rules, referrals, compensations and the order facts the counting rule needs (ADR 0101)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone

from carekit.core.ids import PublicIdField
from carekit.core.models import Workspace
from carekit.loyalty.enums import (
    CompensationStatus,
    CouponKind,
    EntryKind,
    OrderState,
    QuoteStatus,
    ReferralStatus,
    Rounding,
    RuleKind,
    TierBasis,
)


class Program(models.Model):
    """One per workspace: how points are worth, spent, locked, expired and compensated."""

    public_id = PublicIdField(prefix="prg")
    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120, default="Loyalty")
    active = models.BooleanField(default=True)
    currency = models.CharField(max_length=3, default="RUB")
    point_value = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("1"))
    rounding = models.CharField(max_length=10, choices=Rounding.choices, default=Rounding.FLOOR)
    max_redeem_percent = models.PositiveSmallIntegerField(default=50)
    return_window_days = models.PositiveIntegerField(default=14)
    lot_lifetime_days = models.PositiveIntegerField(null=True, blank=True, default=365)
    hold_minutes = models.PositiveIntegerField(default=15)
    comp_cap_count = models.PositiveIntegerField(default=1)
    comp_cap_points = models.PositiveBigIntegerField(default=1000)
    comp_cap_days = models.PositiveIntegerField(default=30)
    comp_budget_points = models.PositiveBigIntegerField(default=100_000)
    comp_budget_used = models.PositiveBigIntegerField(default=0)
    # The most points one compensation may carry when granted by someone who cannot manage the program
    # (agents and supervisors); owners, admins and marketers are bound only by the cap and the budget.
    agent_comp_max_points = models.PositiveBigIntegerField(default=500)
    tier_basis = models.CharField(max_length=10, choices=TierBasis.choices, default=TierBasis.POINTS)
    tier_period_days = models.PositiveIntegerField(default=365)
    tier_grace_days = models.PositiveIntegerField(default=30)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(comp_budget_used__lte=models.F("comp_budget_points")), name="prg_budget_kept"
            ),
            models.CheckConstraint(condition=Q(max_redeem_percent__lte=100), name="prg_redeem_pct"),
        ]

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    """Reached by points earned over the program's rolling period, never by the current balance."""

    public_id = PublicIdField(prefix="tier")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=60)
    threshold = models.PositiveBigIntegerField()
    multiplier = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "name"], name="tier_name_unique")]
        ordering = ["threshold"]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    public_id = PublicIdField(prefix="acc")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="accounts")
    customer_id = models.CharField(max_length=64)
    pending = models.BigIntegerField(default=0)
    available = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    debt = models.BigIntegerField(default=0)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tier_since = models.DateTimeField(null=True, blank=True)
    # NULL, not "", so that the unique constraint ignores accounts without a code.
    referral_code = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    # The earliest moment a lot may need unlocking or expiring (never later than the truth; NULL when
    # nothing is due). It lets every write skip the due-lots query until something is due.
    next_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "customer_id"], name="account_once_per_customer"),
            models.UniqueConstraint(fields=["program", "referral_code"], name="account_referral_code"),
            models.CheckConstraint(
                condition=Q(pending__gte=0, available__gte=0, held__gte=0, debt__gte=0),
                name="account_counters_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class LedgerEntry(models.Model):
    """Append-only. The account's counters move by exactly these deltas in the same transaction."""

    public_id = PublicIdField(prefix="lge")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    idempotency_key = models.CharField(max_length=200)
    points = models.BigIntegerField()
    d_pending = models.BigIntegerField(default=0)
    d_available = models.BigIntegerField(default=0)
    d_held = models.BigIntegerField(default=0)
    d_debt = models.BigIntegerField(default=0)
    related = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey("Rule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ref_type = models.CharField(max_length=20, blank=True, default="")
    ref_id = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(max_length=200, blank=True, default="")
    actor = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "idempotency_key"], name="entry_key_once_per_program"),
        ]
        indexes = [
            models.Index(fields=["account", "created_at"], name="entry_account_time"),
            models.Index(fields=["program", "ref_type", "ref_id"], name="entry_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points} ({self.idempotency_key})"


class Lot(models.Model):
    """Points from one earn; spent soonest-expiring first. `remaining` excludes held and spent points."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lots")
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="lots")
    points = models.BigIntegerField()
    remaining = models.BigIntegerField()
    pending = models.BooleanField(default=False)
    unlock_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(remaining__gte=0), name="lot_remaining_non_negative"),
        ]
        indexes = [
            models.Index(fields=["account", "pending", "expires_at"], name="lot_account_order"),
            models.Index(fields=["expires_at"], name="lot_expiry"),
            models.Index(fields=["unlock_at"], name="lot_unlock"),
        ]


class LotAllocation(models.Model):
    """Points taken from (positive) or put back into (negative) a lot; `source` is the taking entry."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="allocations")
    source = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="allocations")
    points = models.BigIntegerField()


class Rule(models.Model):
    """An accrual or reward rule driven by order events; `params` depend on `kind` (see services.rules)."""

    public_id = PublicIdField(prefix="rul")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    params = models.JSONField(default=dict)
    cap_points = models.PositiveBigIntegerField(null=True, blank=True)
    cap_days = models.PositiveIntegerField(default=30)
    budget_points = models.PositiveBigIntegerField(null=True, blank=True)
    budget_used = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class OrderFact(models.Model):
    """The non-personal facts of an order that the counting rule needs, fed by order events."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    order_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=OrderState.choices, default=OrderState.PLACED)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    returned_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    items = models.JSONField(default=list)
    counted_number = models.PositiveIntegerField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "order_id"], name="order_fact_once")]
        indexes = [models.Index(fields=["workspace", "customer_id", "state"], name="order_fact_customer")]


class CouponCampaign(models.Model):
    public_id = PublicIdField(prefix="cpc")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=15, choices=CouponKind.choices)
    value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    min_order = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    categories = models.JSONField(default=list, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    per_customer_limit = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="campaign_name_unique")]

    def __str__(self) -> str:
        return self.name


class Coupon(models.Model):
    """A code: generated (unguessable, usually for one customer) or named (a promo code anyone types)."""

    public_id = PublicIdField(prefix="cpn")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(CouponCampaign, on_delete=models.PROTECT, related_name="coupons")
    code = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64, blank=True, default="")
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    # NULL for named codes, so that the unique constraint covers only issued ones.
    issue_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "code"], name="coupon_code_unique"),
            models.UniqueConstraint(fields=["workspace", "issue_key"], name="coupon_issue_once"),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                name="coupon_uses_kept",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class Quote(models.Model):
    """A checkout in progress: the held points, the coupon and rule discounts; redeemed at most once."""

    public_id = PublicIdField(prefix="qte")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="quotes")
    status = models.CharField(max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.OPEN)
    items = models.JSONField(default=list)
    basket_total = models.DecimalField(max_digits=14, decimal_places=2)
    points = models.BigIntegerField(default=0)
    points_discount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    coupon_discount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    free_delivery = models.BooleanField(default=False)
    gift = models.BooleanField(default=False)
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule_discount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    hold_entry = models.ForeignKey(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    redeem_entry = models.ForeignKey(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    redeem_key = models.CharField(max_length=200, blank=True, default="")
    order_id = models.CharField(max_length=64, blank=True, default="")
    points_refunded = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    redeemed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"], name="quote_open_expiry")]


class CouponRedemption(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    customer_id = models.CharField(max_length=64)
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="coupon_redemption")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)


class Referral(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    referrer_customer_id = models.CharField(max_length=64)
    referred_customer_id = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING)
    qualified_order_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "referred_customer_id"], name="referred_once"),
        ]
        indexes = [models.Index(fields=["program", "referrer_customer_id", "status"], name="referrer_status")]


class Compensation(models.Model):
    """Every request to compensate, granted or refused, so a retried key answers the same way."""

    public_id = PublicIdField(prefix="cmp")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    customer_id = models.CharField(max_length=64)
    issuer = models.CharField(max_length=60)
    reason = models.CharField(max_length=200)
    idempotency_key = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=CompensationStatus.choices)
    refusal = models.CharField(max_length=20, blank=True, default="")
    points = models.BigIntegerField(default=0)
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "idempotency_key"], name="compensation_key_once"),
        ]
        indexes = [
            models.Index(fields=["program", "customer_id", "status", "created_at"], name="comp_customer")
        ]


class MergeMove(models.Model):
    """Rows a customer merge re-pointed to the survivor, so that the unmerge points back exactly those."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    merge_id = models.CharField(max_length=64)
    reference = models.CharField(max_length=60)  # "<model>.<field>"
    pks = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "merge_id", "reference"], name="merge_move_once")
        ]
