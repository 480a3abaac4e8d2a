"""The periodic jobs: unlock and expiry sweeps, expiring-soon events, scheduled tier downgrades."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from carekit.core.models import Event
from carekit.loyalty import public, tasks
from carekit.loyalty.enums import QuoteStatus
from carekit.loyalty.models import Account, Quote
from carekit.loyalty.services import checkout, ledger, programs, tiers
from carekit.loyalty.tests import factories
from carekit.loyalty.tests.factories import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_sweep_unlocks_expires_and_releases(workspace):
    prog = factories.program(workspace)
    acc = factories.account(prog)
    now = timezone.now()
    with transaction.atomic():
        ledger.points_earn(
            actor=SYSTEM,
            account=acc,
            points=70,
            idempotency_key="p",
            at=now - timedelta(days=20),
            locked_until=now - timedelta(days=6),
            lifetime=False,
        )
        ledger.points_earn(
            actor=SYSTEM,
            account=acc,
            points=30,
            idempotency_key="x",
            at=now - timedelta(days=20),
            expires_at=now - timedelta(days=1),
        )
        ledger.points_earn(
            actor=SYSTEM,
            account=acc,
            points=500,
            idempotency_key="a",
            lifetime=False,
            at=now - timedelta(days=20),
        )
        q = checkout.quote_create(
            actor=SYSTEM,
            program=prog,
            customer_id=acc.customer_id,
            points=100,
            items=[{"sku": "X", "price": "1000.00"}],
            at=now - timedelta(hours=1),
        )
    assert tasks.sweep_accounts.call_local() == 1
    b = public.balances(workspace.pk, acc.customer_id)
    assert (b.pending, b.available, b.held) == (0, 570, 0)
    assert Quote.objects.get(pk=q.pk).status == QuoteStatus.EXPIRED
    assert tasks.sweep_accounts.call_local() == 0


def test_daily_warns_once_and_downgrades_after_grace(workspace):
    prog = factories.program(workspace, tier_grace_days=30, tier_period_days=365)
    with transaction.atomic():
        gold = programs.tier_create(
            actor=SYSTEM, program=prog, name="Gold", threshold=100, multiplier=Decimal("2")
        )
    acc = factories.account(prog)
    now = timezone.now()
    with transaction.atomic():
        ledger.points_earn(
            actor=SYSTEM,
            account=acc,
            points=200,
            idempotency_key="old",
            at=now - timedelta(days=400),
            expires_at=now + timedelta(days=6, hours=12),
        )
        Account.objects.filter(pk=acc.pk).update(tier=gold, tier_since=now - timedelta(days=10))
    tasks.daily.call_local()
    assert Event.objects.filter(type="loyalty.points.expiring").count() == 1
    assert Account.objects.get(pk=acc.pk).tier_id == gold.pk  # inside the grace period
    Account.objects.filter(pk=acc.pk).update(tier_since=now - timedelta(days=31))
    tasks.daily.call_local()
    assert Account.objects.get(pk=acc.pk).tier_id is None
    assert Event.objects.filter(type="loyalty.tier.changed").count() == 1


def test_tier_stays_while_still_qualified(workspace):
    prog = factories.program(workspace, tier_grace_days=0)
    with transaction.atomic():
        programs.tier_create(actor=SYSTEM, program=prog, name="Gold", threshold=100, multiplier=Decimal("2"))
    acc = factories.account(prog)
    with transaction.atomic():
        ledger.points_earn(actor=SYSTEM, account=acc, points=150, idempotency_key="e")
        tiers.tier_upgrade(actor=SYSTEM, account=ledger.lock(acc), at=timezone.now())
    tasks.daily.call_local()
    assert public.balances(workspace.pk, acc.customer_id).tier == "Gold"
