"""Loyalty reads. Every selector takes the workspace; another workspace's id is simply not found."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from carekit.loyalty.models import (
    Account,
    Compensation,
    Coupon,
    CouponCampaign,
    LedgerEntry,
    Lot,
    Program,
    Quote,
    Rule,
    Tier,
)


def program(workspace_id: int) -> Program | None:
    return Program.objects.filter(workspace_id=workspace_id).first()


def account_for_customer(workspace_id: int, customer_id: str) -> Account | None:
    return (
        Account.objects.filter(workspace_id=workspace_id, customer_id=customer_id)
        .select_related("tier")
        .first()
    )


def account(workspace_id: int, account_id: str) -> Account:
    return Account.objects.select_related("tier").get(workspace_id=workspace_id, public_id=account_id)


def accounts(workspace_id: int) -> QuerySet[Account]:
    return Account.objects.filter(workspace_id=workspace_id).select_related("tier")


def entries(workspace_id: int, account_pk: int) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(workspace_id=workspace_id, account_id=account_pk)


def live_lots(workspace_id: int, account_pk: int) -> QuerySet[Lot]:
    return Lot.objects.filter(workspace_id=workspace_id, account_id=account_pk, remaining__gt=0).order_by(
        "expires_at", "id"
    )


def quote(workspace_id: int, quote_id: str) -> Quote:
    return Quote.objects.select_related("account", "coupon", "hold_entry").get(
        workspace_id=workspace_id, public_id=quote_id
    )


def rules(workspace_id: int) -> QuerySet[Rule]:
    return Rule.objects.filter(workspace_id=workspace_id)


def rule(workspace_id: int, rule_id: str) -> Rule:
    return Rule.objects.get(workspace_id=workspace_id, public_id=rule_id)


def tiers(workspace_id: int) -> QuerySet[Tier]:
    return Tier.objects.filter(workspace_id=workspace_id)


def campaigns(workspace_id: int) -> QuerySet[CouponCampaign]:
    return CouponCampaign.objects.filter(workspace_id=workspace_id)


def campaign(workspace_id: int, campaign_id: str) -> CouponCampaign:
    return CouponCampaign.objects.get(workspace_id=workspace_id, public_id=campaign_id)


def coupons(workspace_id: int) -> QuerySet[Coupon]:
    return Coupon.objects.filter(workspace_id=workspace_id).select_related("campaign")


def compensations(workspace_id: int) -> QuerySet[Compensation]:
    return Compensation.objects.filter(workspace_id=workspace_id)


def liability(workspace_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Outstanding points and their money value, and what expires in the next 30/60/90 days."""
    now = now or timezone.now()
    prog = program(workspace_id)
    value = prog.point_value if prog else Decimal("1")
    totals = Account.objects.filter(workspace_id=workspace_id).aggregate(
        pending=Sum("pending"), available=Sum("available"), held=Sum("held"), debt=Sum("debt")
    )
    totals = {k: v or 0 for k, v in totals.items()}
    outstanding = totals["pending"] + totals["available"] + totals["held"]
    lots = Lot.objects.filter(workspace_id=workspace_id, remaining__gt=0, expires_at__isnull=False)
    expiring = {
        str(days): lots.filter(expires_at__gt=now, expires_at__lte=now + timedelta(days=days)).aggregate(
            n=Sum("remaining")
        )["n"]
        or 0
        for days in (30, 60, 90)
    }
    return {
        **totals,
        "outstanding": outstanding,
        "outstanding_value": str((value * outstanding).quantize(Decimal("0.01"))),
        "currency": prog.currency if prog else "",
        "expiring": expiring,
    }
