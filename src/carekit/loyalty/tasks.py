"""Loyalty's jobs (thin: find what is due, call a service per account in its own transaction)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from carekit.core.events import Actor
from carekit.core.jobs import periodic
from carekit.loyalty.enums import QuoteStatus
from carekit.loyalty.models import Account, Lot, Quote
from carekit.loyalty.services import checkout, ledger, tiers

SWEEPER = Actor.system("loyalty.sweep")
BATCH = 500


@periodic(minute="*/5", description="loyalty: unlock lots past the return window, expire lots and holds")
def sweep_accounts() -> int:
    now = timezone.now()
    due = set(
        Lot.objects.filter(remaining__gt=0)
        .filter(Q(pending=True, unlock_at__lte=now) | Q(expires_at__lte=now))
        .values_list("account_id", flat=True)[:BATCH]
    )
    held = Quote.objects.filter(status=QuoteStatus.OPEN, expires_at__lte=now, hold_entry__isnull=False)
    due |= set(held.values_list("account_id", flat=True)[:BATCH])
    with transaction.atomic(durable=True):
        checkout.quotes_expire_unheld(actor=SWEEPER, at=now)
    for account in Account.objects.filter(pk__in=due):
        with transaction.atomic(durable=True):
            ledger.account_refresh(actor=SWEEPER, account=account, at=now)
    return len(due)


@periodic(minute="17", hour="3", description="loyalty: warn about points expiring in 7 days; review tiers")
def daily() -> None:
    now = timezone.now()
    # One warning per lot: the daily run catches each lot in the one-day slice 6-7 days before expiry.
    soon = Lot.objects.filter(
        remaining__gt=0, expires_at__gt=now + timedelta(days=6), expires_at__lte=now + timedelta(days=7)
    ).values_list("pk", flat=True)
    for lot_id in soon:
        with transaction.atomic(durable=True):
            ledger.lot_warn_expiring(actor=SWEEPER, lot=Lot.objects.select_related("account").get(pk=lot_id))
    for account in Account.objects.filter(tier__isnull=False):
        with transaction.atomic(durable=True):
            tiers.tier_review(actor=SWEEPER, account=ledger.lock(account), at=now)
