"""Concurrent redemptions never overdraw: 32 threads, real transactions, one account (ADR 0101)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from carekit.core.errors import DomainError
from carekit.loyalty import public
from carekit.loyalty.enums import EntryKind
from carekit.loyalty.errors import InsufficientPoints
from carekit.loyalty.models import Account, Compensation, Coupon, CouponRedemption, LedgerEntry, Lot, Program
from carekit.loyalty.services import checkout, coupons, ledger
from carekit.loyalty.tests import factories
from carekit.testing.tenants import make_workspace


def _race(workers: int, points: int, start: int) -> tuple[list[str], Account]:
    ws = make_workspace()
    prog = factories.program(ws)
    acc = factories.account(prog)
    # Several lots, so the race also covers lot consumption, not only the counter.
    with transaction.atomic():
        for i in range(4):
            ledger.points_earn(
                actor=factories.SYSTEM,
                account=acc,
                points=start // 4,
                idempotency_key=f"lot{i}",
                lifetime=False,
            )
    barrier = threading.Barrier(workers)

    def redeem(i: int) -> str:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic(durable=True):
                ledger.points_redeem(
                    actor=factories.SYSTEM, account=acc, points=points, idempotency_key=f"redeem-{i}"
                )
            return "ok"
        except InsufficientPoints as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(redeem, range(workers)))
    acc.refresh_from_db()
    return outcomes, acc


def _check(outcomes: list[str], acc: Account) -> None:
    assert outcomes.count("ok") == 10
    assert outcomes.count("insufficient_points") == 22
    assert (acc.available, acc.held, acc.pending, acc.debt) == (0, 0, 0, 0)
    assert LedgerEntry.objects.filter(account=acc, kind=EntryKind.REDEEM).count() == 10
    assert sum(Lot.objects.filter(account=acc).values_list("remaining", flat=True)) == 0


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_32_concurrent_redemptions_sqlite():
    outcomes, acc = _race(32, 100, 1000)
    _check(outcomes, acc)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_32_concurrent_redemptions_postgres():
    outcomes, acc = _race(32, 100, 1000)
    _check(outcomes, acc)


def _together(n: int, fn) -> list[str]:
    barrier = threading.Barrier(n)

    def run(i: int) -> str:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic(durable=True):
                return fn(i)
        except DomainError as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def _single_use_code_race() -> None:
    ws = make_workspace()
    prog = factories.program(ws)
    with transaction.atomic():
        campaign = coupons.campaign_create(
            actor=factories.SYSTEM, workspace_id=ws.pk, name="Once", kind="fixed", value=100
        )
        coupons.promo_code_create(actor=factories.SYSTEM, campaign=campaign, code="ONCE", max_uses=1)
    quotes = []
    for _ in range(8):
        with transaction.atomic():
            quotes.append(
                checkout.quote_create(
                    actor=factories.SYSTEM,
                    program=prog,
                    customer_id=factories.customer_id(),
                    points=0,
                    coupon_code="once",
                    items=[{"sku": "X", "price": "500.00"}],
                )
            )

    def redeem(i: int) -> str:
        checkout.quote_redeem(actor=factories.SYSTEM, quote=quotes[i], idempotency_key=f"r{i}")
        return "ok"

    outcomes = _together(8, redeem)
    assert outcomes.count("ok") == 1
    assert outcomes.count("coupon_limit_reached") == 7
    assert Coupon.objects.get(code="ONCE").uses == 1
    assert CouponRedemption.objects.count() == 1


def _compensation_race() -> None:
    ws = make_workspace()
    factories.program(ws, comp_cap_count=1, comp_budget_points=1000, comp_cap_points=1000)
    cid = factories.customer_id()
    others = [factories.customer_id() for _ in range(8)]

    def same_customer(i: int) -> str:
        return public.compensation_grant(
            workspace_id=ws.pk,
            customer_id=cid,
            reason="late",
            issuer=f"issuer{i}",
            idempotency_key=f"k{i}",
            actor=factories.SYSTEM,
            points=300,
        ).status

    outcomes = _together(8, same_customer)
    assert sorted(outcomes) == ["granted"] + ["refused"] * 7
    assert public.balances(ws.pk, cid).available == 300

    def budget(i: int) -> str:
        return public.compensation_grant(
            workspace_id=ws.pk,
            customer_id=others[i],
            reason="late",
            issuer="sla",
            idempotency_key=f"b{i}",
            actor=factories.SYSTEM,
            points=300,
        ).status

    outcomes = _together(8, budget)
    assert outcomes.count("granted") == 2  # 300 already used; 700 left is two grants of 300
    assert Program.objects.get(workspace=ws).comp_budget_used == 900
    assert Compensation.objects.filter(status="refused", refusal="budget").count() == 6


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_single_use_code_and_compensation_races_sqlite():
    _single_use_code_race()
    _compensation_race()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_single_use_code_and_compensation_races_postgres():
    _single_use_code_race()
    _compensation_race()
