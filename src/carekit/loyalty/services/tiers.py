"""Tiers follow points earned or money spent over a rolling period (never the balance): up at once, down on a
schedule after a grace period."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Sum

from carekit.core.events import Actor, emit
from carekit.loyalty.enums import EntryKind, OrderState, TierBasis
from carekit.loyalty.models import Account, LedgerEntry, OrderFact, Tier


def rolling_earned(account: Account, at: datetime) -> int:
    """Points earned in the program's period, net of reversals of those earns."""
    since = at - timedelta(days=account.program.tier_period_days)
    rows = LedgerEntry.objects.filter(account=account, created_at__gte=since)
    earned = rows.filter(kind=EntryKind.EARN).aggregate(n=Sum("points"))["n"] or 0
    reversed_ = (
        rows.filter(kind=EntryKind.REVERSE, related__kind=EntryKind.EARN).aggregate(n=Sum("points"))["n"] or 0
    )
    return max(earned - reversed_, 0)


def rolling_spend(account: Account, at: datetime) -> int:
    """Money (whole units) of counted orders paid in the period, net of partial returns."""
    since = at - timedelta(days=account.program.tier_period_days)
    paid = OrderFact.objects.filter(
        workspace_id=account.workspace_id,
        customer_id=account.customer_id,
        state=OrderState.PAID,
        paid_at__gte=since,
    ).aggregate(total=Sum("total"), returned=Sum("returned_amount"))
    return int((paid["total"] or 0) - (paid["returned"] or 0))


def _qualified(account: Account, at: datetime) -> Tier | None:
    if account.program.tier_basis == TierBasis.SPEND:
        earned = rolling_spend(account, at)
    else:
        earned = rolling_earned(account, at)
    return (
        Tier.objects.filter(program_id=account.program_id, threshold__lte=earned)
        .order_by("-threshold")
        .first()
    )


def _set(account: Account, tier: Tier | None, *, actor: Actor, at: datetime) -> None:
    old = account.tier
    account.tier = tier
    account.tier_since = at
    Account.objects.filter(pk=account.pk).update(tier=tier, tier_since=at)
    emit(
        workspace_id=account.workspace_id,
        type="loyalty.tier.changed",
        subject_type="loyalty_account",
        subject_id=account.public_id,
        actor=actor,
        payload={
            "account_id": account.public_id,
            "customer_id": account.customer_id,
            "from": old.public_id if old else None,
            "to": tier.public_id if tier else None,
        },
    )


def tier_upgrade(*, actor: Actor, account: Account, at: datetime) -> None:
    """After an earn: move up at once; a customer who still qualifies restarts the grace clock."""
    qualified = _qualified(account, at)
    current = account.tier
    if qualified is None:
        return
    if current is None or qualified.threshold > current.threshold:
        _set(account, qualified, actor=actor, at=at)
    elif qualified.threshold == current.threshold:
        Account.objects.filter(pk=account.pk).update(tier_since=at)


def tier_review(*, actor: Actor, account: Account, at: datetime) -> None:
    """The scheduled downgrade: only after the grace period since the customer last qualified."""
    if account.tier is None or account.tier_since is None:
        return
    qualified = _qualified(account, at)
    if qualified is not None and qualified.threshold >= account.tier.threshold:
        return
    if at - account.tier_since >= timedelta(days=account.program.tier_grace_days):
        _set(account, qualified, actor=actor, at=at)
