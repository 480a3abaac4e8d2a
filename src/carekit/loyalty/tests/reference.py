"""A small pure-Python model of the ledger (ADR 0101) for the property test to compare against.

It keeps lots and the four counters and applies the same documented policy: time effects are applied
at the start of each operation, lots are spent soonest-expiring first, give-backs go into the lots the
points came from, reversal takes from its own lot, then other available lots, then becomes debt.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime


class Refused(Exception):
    pass


@dataclass
class RLot:
    id: int
    points: int
    remaining: int
    pending: bool
    unlock_at: datetime | None
    expires_at: datetime | None


@dataclass
class Reference:
    pending: int = 0
    available: int = 0
    held: int = 0
    debt: int = 0
    lots: list[RLot] = field(default_factory=list)
    # key -> net points taken per lot
    taken: dict[str, dict[int, int]] = field(default_factory=dict)
    hold_open: dict[str, int] = field(default_factory=dict)
    earn_lot: dict[str, int] = field(default_factory=dict)
    earn_left: dict[str, int] = field(default_factory=dict)
    redeem_left: dict[str, int] = field(default_factory=dict)
    redeem_source: dict[str, str] = field(default_factory=dict)
    done: dict[str, object] = field(default_factory=dict)

    # --- plumbing -------------------------------------------------------------------------------
    def run(self, key: str, fn, *args):
        """Replay returns the first result and changes nothing; a refusal changes nothing."""
        if key in self.done:
            return self.done[key]
        snapshot = copy.deepcopy(self.__dict__)
        try:
            result = fn(*args)
        except Refused:
            self.__dict__.update(snapshot)
            raise
        if result is not None:
            self.done[key] = result
        return result

    def _spend_order(self) -> list[RLot]:
        live = [lot for lot in self.lots if not lot.pending and lot.remaining > 0]
        return sorted(live, key=lambda lot: (lot.expires_at is None, lot.expires_at or datetime.min, lot.id))

    def _take(self, n: int, lots: list[RLot], key: str) -> int:
        taken = 0
        for lot in lots:
            if taken >= n:
                break
            k = min(lot.remaining, n - taken)
            if k <= 0:
                continue
            lot.remaining -= k
            self.taken.setdefault(key, {})
            self.taken[key][lot.id] = self.taken[key].get(lot.id, 0) + k
            taken += k
        return taken

    def _give_back(self, source: str, n: int) -> None:
        net = {lid: k for lid, k in self.taken.get(source, {}).items() if k > 0}
        lots = sorted(
            (lot for lot in self.lots if lot.id in net),
            key=lambda lot: (
                lot.expires_at is not None,
                -(lot.expires_at.timestamp() if lot.expires_at else 0),
                -lot.id,
            ),
        )
        for lot in lots:
            if n <= 0:
                break
            k = min(net[lot.id], n)
            lot.remaining += k
            self.taken[source][lot.id] -= k
            n -= k

    def settle(self, at: datetime) -> None:
        for lot in sorted(self.lots, key=lambda x: x.id):
            if lot.remaining <= 0:
                continue
            unlock = lot.pending and lot.unlock_at is not None and lot.unlock_at <= at
            expire = lot.expires_at is not None and lot.expires_at <= at
            if not (unlock or expire):
                continue
            if unlock:
                self.pending -= lot.remaining
                self.available += lot.remaining
                lot.pending = False
            if expire:
                if lot.pending:
                    self.pending -= lot.remaining
                else:
                    self.available -= lot.remaining
                lot.remaining = 0
        for lot in self.lots:
            if lot.remaining == 0 and lot.pending and lot.unlock_at is not None and lot.unlock_at <= at:
                lot.pending = False

    # --- operations ---------------------------------------------------------------------------
    def earn(
        self, key: str, points: int, at: datetime, unlock_at: datetime | None, expires_at: datetime | None
    ):
        def op():
            self.settle(at)
            settled = min(points, self.debt)
            rest = points - settled
            self.debt -= settled
            pending = unlock_at is not None and unlock_at > at
            if pending:
                self.pending += rest
            else:
                self.available += rest
            lot = RLot(len(self.lots) + 1, points, rest, pending, unlock_at if pending else None, expires_at)
            self.lots.append(lot)
            self.earn_lot[key] = lot.id
            self.earn_left[key] = points
            return key

        return self.run(key, op)

    def redeem(self, key: str, points: int, at: datetime):
        def op():
            self.settle(at)
            if points > self.available:
                raise Refused
            self.available -= points
            self._take(points, self._spend_order(), key)
            self.redeem_left[key] = points
            self.redeem_source[key] = key
            return key

        return self.run(key, op)

    def debit(self, key: str, points: int, at: datetime):
        """A negative adjustment: spends like a redemption but cannot be refunded."""

        def op():
            self.settle(at)
            if points > self.available:
                raise Refused
            self.available -= points
            self._take(points, self._spend_order(), key)
            return key

        return self.run(key, op)

    def hold(self, key: str, points: int, at: datetime):
        def op():
            self.settle(at)
            if points > self.available:
                raise Refused
            self.available -= points
            self.held += points
            self._take(points, self._spend_order(), key)
            self.hold_open[key] = points
            return key

        return self.run(key, op)

    def release(self, key: str, hold_key: str, at: datetime):
        def op():
            self.settle(at)
            n = self.hold_open.get(hold_key, 0)
            if n <= 0:
                return None
            self.hold_open[hold_key] = 0
            self.held -= n
            self.available += n
            self._give_back(hold_key, n)
            return key

        return self.run(key, op)

    def capture(self, key: str, hold_key: str, at: datetime):
        def op():
            self.settle(at)
            n = self.hold_open.get(hold_key, 0)
            if n <= 0:
                raise Refused
            self.hold_open[hold_key] = 0
            self.held -= n
            self.redeem_left[key] = n
            self.redeem_source[key] = hold_key
            return key

        return self.run(key, op)

    def refund(self, key: str, redeem_key: str, points: int, at: datetime):
        def op():
            self.settle(at)
            if points > self.redeem_left.get(redeem_key, 0):
                raise Refused
            self.redeem_left[redeem_key] -= points
            self.available += points
            self._give_back(self.redeem_source[redeem_key], points)
            return key

        return self.run(key, op)

    def reverse(self, key: str, earn_key: str, points: int, at: datetime):
        def op():
            self.settle(at)
            n = min(points, self.earn_left[earn_key])
            if n <= 0:
                return None
            self.earn_left[earn_key] -= n
            own = next(lot for lot in self.lots if lot.id == self.earn_lot[earn_key])
            from_own = min(own.remaining, n)
            own_pending = own.pending
            own.remaining -= from_own
            others = [lot for lot in self._spend_order() if lot.id != own.id]
            from_others = self._take(n - from_own, others, key)
            shortfall = n - from_own - from_others
            if own_pending:
                self.pending -= from_own
                self.available -= from_others
            else:
                self.available -= from_own + from_others
            self.debt += shortfall
            return key

        return self.run(key, op)
