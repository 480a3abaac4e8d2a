"""Model-based property test: the ledger against a pure-Python reference (ADR 0101)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from carekit.core.errors import DomainError
from carekit.loyalty.models import Account, LedgerEntry, Lot
from carekit.loyalty.services import ledger
from carekit.loyalty.tests import factories
from carekit.loyalty.tests.reference import Reference, Refused

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

SYSTEM = factories.SYSTEM
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _machine(workspace):
    prog = factories.program(workspace, return_window_days=2)

    class LedgerMachine(RuleBasedStateMachine):
        earns = Bundle("earns")
        holds = Bundle("holds")
        redeems = Bundle("redeems")

        def __init__(self) -> None:
            super().__init__()
            self.ref = Reference()
            self.account = factories.account(prog)
            self.clock = T0
            self.n = 0
            self.replayable: list[tuple[str, object]] = []

        def key(self) -> str:
            self.n += 1
            return f"{self.account.pk}:{self.n}"

        def both(self, key, db_call, ref_call):
            """Run on the database and on the reference; both must agree on success or refusal."""
            ref_error = db_error = None
            try:
                expected = ref_call()
            except Refused as exc:
                ref_error = exc
            try:
                with transaction.atomic():
                    entry = db_call()
            except DomainError as exc:
                db_error = exc
            assert (ref_error is None) == (db_error is None), (ref_error, db_error)
            if db_error is not None:
                return None
            assert (entry is None) == (expected is None)
            if entry is not None:
                self.replayable.append((key, (db_call, entry.pk)))
            return key if entry is not None else None

        @initialize()
        def start(self) -> None:
            pass

        @rule(
            target=earns,
            points=st.integers(1, 400),
            locked=st.booleans(),
            life=st.sampled_from([None, 1, 5, 30]),
        )
        def earn(self, points, locked, life):
            key = self.key()
            at = self.clock
            unlock = at + timedelta(days=2) if locked else None
            expires = at + timedelta(days=life) if life else None
            return (
                self.both(
                    key,
                    lambda: ledger.points_earn(
                        actor=SYSTEM,
                        account=self.account,
                        points=points,
                        idempotency_key=key,
                        locked_until=unlock,
                        expires_at=expires,
                        lifetime=False,
                        at=at,
                    ),
                    lambda: self.ref.earn(key, points, at, unlock, expires),
                )
                or key
            )

        @rule(target=redeems, points=st.integers(1, 500))
        def redeem(self, points):
            key, at = self.key(), self.clock
            return (
                self.both(
                    key,
                    lambda: ledger.points_redeem(
                        actor=SYSTEM, account=self.account, points=points, idempotency_key=key, at=at
                    ),
                    lambda: self.ref.redeem(key, points, at),
                )
                or "none"
            )

        @rule(target=holds, points=st.integers(1, 500))
        def hold(self, points):
            key, at = self.key(), self.clock
            return (
                self.both(
                    key,
                    lambda: ledger.points_hold(
                        actor=SYSTEM, account=self.account, points=points, idempotency_key=key, at=at
                    ),
                    lambda: self.ref.hold(key, points, at),
                )
                or "none"
            )

        def _entry(self, key):
            return LedgerEntry.objects.filter(idempotency_key=key, account=self.account).first()

        @rule(hold_key=holds)
        def release(self, hold_key):
            entry = self._entry(hold_key)
            if entry is None:
                return
            key, at = self.key(), self.clock
            self.both(
                key,
                lambda: ledger.hold_release(actor=SYSTEM, hold=entry, idempotency_key=key, at=at),
                lambda: self.ref.release(key, hold_key, at),
            )

        @rule(hold_key=holds)
        def capture(self, hold_key):
            entry = self._entry(hold_key)
            if entry is None:
                return
            key, at = self.key(), self.clock
            got = self.both(
                key,
                lambda: ledger.hold_capture(actor=SYSTEM, hold=entry, idempotency_key=key, at=at),
                lambda: self.ref.capture(key, hold_key, at),
            )
            if got:
                self.captured = [*getattr(self, "captured", []), key]

        @rule(redeem_key=redeems, points=st.integers(1, 300), use_capture=st.booleans())
        def refund(self, redeem_key, points, use_capture):
            if use_capture and getattr(self, "captured", None):
                redeem_key = self.captured[-1]
            entry = self._entry(redeem_key)
            if entry is None:
                return
            key, at = self.key(), self.clock
            self.both(
                key,
                lambda: ledger.redemption_refund(
                    actor=SYSTEM, redemption=entry, points=points, idempotency_key=key, at=at
                ),
                lambda: self.ref.refund(key, redeem_key, points, at),
            )

        @rule(earn_key=earns, points=st.integers(1, 400))
        def reverse(self, earn_key, points):
            entry = self._entry(earn_key)
            if entry is None:
                return
            key, at = self.key(), self.clock
            self.both(
                key,
                lambda: ledger.earn_reverse(
                    actor=SYSTEM, earn=entry, points=points, idempotency_key=key, at=at
                ),
                lambda: self.ref.reverse(key, earn_key, points, at),
            )

        @rule(points=st.integers(-300, 300).filter(bool))
        def adjust(self, points):
            key, at = self.key(), self.clock
            if points > 0:
                expires = at + timedelta(days=365)  # the program's default lot lifetime
                ref = lambda: self.ref.earn(key, points, at, None, expires)  # noqa: E731
            else:
                ref = lambda: self.ref.debit(key, -points, at)  # noqa: E731
            self.both(
                key,
                lambda: ledger.points_adjust(
                    actor=SYSTEM,
                    account=self.account,
                    points=points,
                    idempotency_key=key,
                    reason="fix",
                    at=at,
                ),
                ref,
            )

        @rule()
        def sweep(self):
            at = self.clock
            with transaction.atomic():
                ledger.account_refresh(actor=SYSTEM, account=self.account, at=at)
            self.ref.settle(at)

        @rule(hours=st.integers(1, 24 * 8))
        def tick(self, hours):
            self.clock += timedelta(hours=hours)

        @rule(data=st.data())
        def replay(self, data):
            if not self.replayable:
                return
            _key, (db_call, entry_pk) = data.draw(st.sampled_from(self.replayable))
            before = Account.objects.values("pending", "available", "held", "debt").get(pk=self.account.pk)
            count = LedgerEntry.objects.count()
            with transaction.atomic():
                again = db_call()
            assert again.pk == entry_pk
            assert LedgerEntry.objects.count() == count
            assert (
                Account.objects.values("pending", "available", "held", "debt").get(pk=self.account.pk)
                == before
            )

        @invariant()
        def balances_match(self):
            acc = Account.objects.get(pk=self.account.pk)
            assert (acc.pending, acc.available, acc.held, acc.debt) == (
                self.ref.pending,
                self.ref.available,
                self.ref.held,
                self.ref.debt,
            )
            assert acc.available >= 0
            sums = LedgerEntry.objects.filter(account=acc).aggregate(
                p=Sum("d_pending"), a=Sum("d_available"), h=Sum("d_held"), d=Sum("d_debt")
            )
            assert (sums["p"] or 0, sums["a"] or 0, sums["h"] or 0, sums["d"] or 0) == (
                acc.pending,
                acc.available,
                acc.held,
                acc.debt,
            )
            lots = Lot.objects.filter(account=acc)
            assert sum(lot.remaining for lot in lots if not lot.pending) == acc.available
            assert sum(lot.remaining for lot in lots if lot.pending) == acc.pending
            # Emptied lots are inert; only lots holding points must match the reference.
            assert sorted((lot.remaining, lot.pending) for lot in lots if lot.remaining) == sorted(
                (lot.remaining, lot.pending) for lot in self.ref.lots if lot.remaining
            )

    return LedgerMachine


def test_ledger_matches_reference_model(workspace):
    run_state_machine_as_test(
        _machine(workspace),
        settings=settings(
            max_examples=80, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )


def test_points_given_back_into_an_expiring_lot_still_expire(workspace):
    """A released hold refills a lot that expires; the account's due mark must not hide that expiry."""
    prog = factories.program(workspace)
    acc = factories.account(prog)

    def call(fn, **kw):
        with transaction.atomic():
            return fn(actor=SYSTEM, **kw)

    call(
        ledger.points_earn,
        account=acc,
        points=100,
        idempotency_key="e1",
        at=T0,
        expires_at=T0 + timedelta(days=5),
        lifetime=False,
    )
    hold = call(ledger.points_hold, account=acc, points=100, idempotency_key="h", at=T0)
    call(
        ledger.points_earn,
        account=acc,
        points=10,
        idempotency_key="e2",
        at=T0,
        locked_until=T0 + timedelta(days=2),
        lifetime=False,
    )
    # Day 3: the unlock runs the due-lots pass; the held lot is empty then.
    call(ledger.points_redeem, account=acc, points=1, idempotency_key="r1", at=T0 + timedelta(days=3))
    call(ledger.hold_release, hold=hold, idempotency_key="rel", at=T0 + timedelta(days=3))
    acc.refresh_from_db()
    assert acc.available == 109
    with pytest.raises(DomainError):
        call(ledger.points_redeem, account=acc, points=50, idempotency_key="r2", at=T0 + timedelta(days=6))
    acc = Account.objects.get(pk=acc.pk)
    with transaction.atomic():
        ledger.account_refresh(actor=SYSTEM, account=acc, at=T0 + timedelta(days=6))
    acc.refresh_from_db()
    assert (acc.available, acc.pending, acc.held) == (9, 0, 0)
