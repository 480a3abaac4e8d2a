"""Concurrent redemptions never overdraw: 32 threads, real transactions, one account (ADR 0101)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from carekit.loyalty.enums import EntryKind
from carekit.loyalty.errors import InsufficientPoints
from carekit.loyalty.models import Account, LedgerEntry, Lot
from carekit.loyalty.services import ledger
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
