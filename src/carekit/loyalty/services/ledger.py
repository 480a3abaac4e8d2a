"""The points ledger: every change is one append-only entry plus the same deltas on the account's
counters, under the account's row lock (ADR 0101). Services run inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from carekit.core.events import Actor, emit
from carekit.loyalty.enums import EntryKind
from carekit.loyalty.errors import InsufficientPoints, InvalidAmount, KeyReused
from carekit.loyalty.models import Account, LedgerEntry, Lot, LotAllocation, Rule
from carekit.loyalty.services.lots import (
    SPEND_ORDER,
    Deltas,
    account_ensure,
    due_sooner,
    give_back,
    hold_outstanding,
    lock,
    lock_for_key,
    lock_many,
    release_hold,
    settle_time,
    take_lots,
    write_entry,
)

# The lot mechanics live in services.lots; callers use this module as the one entry point.
__all__ = [
    "SPEND_ORDER",
    "Deltas",
    "account_ensure",
    "account_refresh",
    "check_points",
    "due_sooner",
    "earn_reverse",
    "hold_capture",
    "hold_outstanding",
    "hold_release",
    "lock",
    "lock_many",
    "lot_warn_expiring",
    "points_adjust",
    "points_earn",
    "points_hold",
    "points_redeem",
    "redemption_refund",
    "settle_time",
    "take_lots",
    "write_entry",
]


def check_points(points: object, *, allow_zero: bool = False) -> int:
    """Points are whole, positive numbers; anything else is refused before any write."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidAmount("Points must be a whole number.", field="points")
    if points < 0 or (points == 0 and not allow_zero):
        raise InvalidAmount("Points must be greater than zero.", field="points")
    return points


def _begin(
    account: Account,
    key: str,
    kinds: tuple[str, ...],
    points: int | None = None,
    *,
    actor: Actor,
    at: datetime,
    locked: bool = False,
) -> tuple[Account, LedgerEntry | None]:
    """The start of every ledger write: the account's lock (unless the caller holds it: `locked`), then
    the replay check for `key` (the entry already written under it, returned unchanged), then what the
    clock has made due. Returns the locked account and the replayed entry, or None when the caller
    should write."""
    if not key or len(key) > 200:
        raise InvalidAmount(
            "An idempotency key (1-200 characters) is required.",
            field="idempotency_key",
            code="idempotency_key_required",
        )
    if locked:
        entry = LedgerEntry.objects.filter(program_id=account.program_id, idempotency_key=key).first()
    else:
        account, entry = lock_for_key(account, key)
    if entry is not None:
        if (
            entry.account_id != account.pk
            or entry.kind not in kinds
            or (points is not None and entry.points != points)
        ):
            raise KeyReused(
                "This idempotency key was already used for a different operation.", field="idempotency_key"
            )
        return account, entry
    settle_time(account, actor=actor, at=at)
    return account, None


def _spend(
    *,
    actor: Actor,
    account: Account,
    kind: str,
    points: int,
    idempotency_key: str,
    d: Deltas,
    at: datetime | None,
    ref_type: str = "",
    ref_id: str = "",
    reason: str = "",
) -> LedgerEntry:
    """Take `points` of available points out of the account's lots, soonest-expiring first (redeem, hold,
    a negative adjustment); refused with `insufficient_points`, never overdrawn."""
    at = at or timezone.now()
    account, replay = _begin(account, idempotency_key, (kind,), points, actor=actor, at=at)
    if replay is not None:
        return replay
    if points > account.available:
        raise InsufficientPoints(
            "Not enough points.", details={"available": account.available, "asked": points}
        )
    entry = write_entry(
        account,
        kind=kind,
        key=idempotency_key,
        points=points,
        d=d,
        actor=actor,
        at=at,
        ref_type=ref_type,
        ref_id=ref_id,
        reason=reason,
    )
    take_lots(account, points, entry=entry, source=entry, at=at)
    return entry


def points_earn(
    *,
    actor: Actor,
    account: Account,
    points: int,
    idempotency_key: str,
    locked_until: datetime | None = None,
    expires_at: datetime | None = None,
    lifetime: bool = True,
    rule: Rule | None = None,
    ref_type: str = "",
    ref_id: str = "",
    reason: str = "",
    kind: str = EntryKind.EARN,
    at: datetime | None = None,
) -> LedgerEntry:
    """Credit points into a new lot (pending until `locked_until` if given). Debt is settled first."""
    check_points(points)
    at = at or timezone.now()
    account, replay = _begin(account, idempotency_key, (kind,), points, actor=actor, at=at)
    if replay is not None:
        return replay
    program = account.program
    if expires_at is None and lifetime and program.lot_lifetime_days:
        expires_at = at + timedelta(days=program.lot_lifetime_days)
    settled = min(points, account.debt)
    rest = points - settled
    pending = locked_until is not None and locked_until > at
    d = Deltas(debt=-settled, pending=rest if pending else 0, available=0 if pending else rest)
    entry = write_entry(
        account,
        kind=kind,
        key=idempotency_key,
        points=points,
        d=d,
        actor=actor,
        at=at,
        rule=rule,
        ref_type=ref_type,
        ref_id=ref_id,
        reason=reason,
        due=min((t for t in (locked_until if pending else None, expires_at) if t is not None), default=None)
        if rest
        else None,
        lot={
            "points": points,
            "remaining": rest,
            "pending": pending,
            "unlock_at": locked_until if pending else None,
            "expires_at": expires_at,
            "created_at": at,
        },
    )
    emit(
        workspace_id=account.workspace_id,
        type="loyalty.points.earned",
        subject_type="loyalty_account",
        subject_id=account.public_id,
        actor=actor,
        payload={
            "account_id": account.public_id,
            "customer_id": account.customer_id,
            "points": points,
            "entry_id": entry.public_id,
            "pending": pending,
            "debt_settled": settled,
            "ref_type": ref_type,
            "ref_id": ref_id,
        },
    )
    return entry


def points_redeem(
    *,
    actor: Actor,
    account: Account,
    points: int,
    idempotency_key: str,
    ref_type: str = "",
    ref_id: str = "",
    at: datetime | None = None,
) -> LedgerEntry:
    """Spend available points at once (no quote); refused with `insufficient_points`, never overdrawn."""
    check_points(points)
    return _spend(
        actor=actor,
        account=account,
        kind=EntryKind.REDEEM,
        points=points,
        idempotency_key=idempotency_key,
        d=Deltas(available=-points),
        at=at,
        ref_type=ref_type,
        ref_id=ref_id,
    )


def points_hold(
    *,
    actor: Actor,
    account: Account,
    points: int,
    idempotency_key: str,
    ref_type: str = "",
    ref_id: str = "",
    at: datetime | None = None,
) -> LedgerEntry:
    """Reserve available points for a checkout; they can be captured or released, and do not expire."""
    check_points(points)
    return _spend(
        actor=actor,
        account=account,
        kind=EntryKind.HOLD,
        points=points,
        idempotency_key=idempotency_key,
        d=Deltas(available=-points, held=points),
        at=at,
        ref_type=ref_type,
        ref_id=ref_id,
    )


def hold_release(
    *, actor: Actor, hold: LedgerEntry, idempotency_key: str, at: datetime | None = None
) -> LedgerEntry | None:
    """Give a hold's outstanding points back to their lots; a hold already closed releases nothing."""
    at = at or timezone.now()
    account, replay = _begin(hold.account, idempotency_key, (EntryKind.RELEASE,), actor=actor, at=at)
    if replay is not None:
        return replay
    return release_hold(account, hold, key=idempotency_key, actor=actor, at=at)


def hold_capture(
    *, actor: Actor, hold: LedgerEntry, idempotency_key: str, at: datetime | None = None
) -> LedgerEntry:
    """Turn a hold into a redemption: the held points are spent (they already left their lots)."""
    at = at or timezone.now()
    account, replay = _begin(hold.account, idempotency_key, (EntryKind.CAPTURE,), actor=actor, at=at)
    if replay is not None:
        return replay
    n = hold_outstanding(hold)
    if n <= 0:
        raise InsufficientPoints("The hold was already released.", code="hold_closed")
    return write_entry(
        account,
        kind=EntryKind.CAPTURE,
        key=idempotency_key,
        points=n,
        d=Deltas(held=-n),
        actor=actor,
        at=at,
        related=hold,
        ref_type=hold.ref_type,
        ref_id=hold.ref_id,
    )


def redemption_refund(
    *, actor: Actor, redemption: LedgerEntry, points: int, idempotency_key: str, at: datetime | None = None
) -> LedgerEntry:
    """Return spent points (a cancelled or refunded order) into the lots they were taken from. After a
    customer merge those lots belong to the survivor, and so do the points."""
    check_points(points)
    at = at or timezone.now()
    # A captured hold's points left their lots with the hold entry; a direct redemption took them itself.
    source = redemption.related if redemption.kind == EntryKind.CAPTURE and redemption.related else redemption
    owner = LotAllocation.objects.filter(source=source).values_list("lot__account_id", flat=True).first()
    account, replay = _begin(
        Account(pk=owner) if owner else redemption.account,
        idempotency_key,
        (EntryKind.REVERSE,),
        points,
        actor=actor,
        at=at,
    )
    if replay is not None:
        return replay
    done = (
        LedgerEntry.objects.filter(related=redemption, kind=EntryKind.REVERSE).aggregate(n=Sum("points"))["n"]
        or 0
    )
    if points > redemption.points - done:
        raise InvalidAmount("More points than were redeemed.", field="points", code="refund_exceeds_redeemed")
    entry = write_entry(
        account,
        kind=EntryKind.REVERSE,
        key=idempotency_key,
        points=points,
        d=Deltas(available=points),
        actor=actor,
        at=at,
        related=redemption,
        ref_type=redemption.ref_type,
        ref_id=redemption.ref_id,
    )
    give_back(account, source, points, entry=entry)
    return entry


def earn_reverse(
    *,
    actor: Actor,
    earn: LedgerEntry,
    points: int,
    idempotency_key: str,
    reason: str = "",
    at: datetime | None = None,
) -> LedgerEntry | None:
    """Take back (part of) an earn: from its own lot, then other available lots, and what is already
    spent becomes debt; available never goes negative. Returns None when nothing is left to reverse."""
    check_points(points)
    at = at or timezone.now()
    own = Lot.objects.get(entry=earn)
    # The lot's current owner pays: after a customer merge that is the survivor. A merge that committed
    # while we waited for the lock moved the lot; follow it once (merges lock both accounts).
    account = lock(own.account)
    own.refresh_from_db()
    if own.account_id != account.pk:
        account = lock(own.account)
    account, replay = _begin(account, idempotency_key, (EntryKind.REVERSE,), actor=actor, at=at, locked=True)
    if replay is not None:
        return replay
    done = (
        LedgerEntry.objects.filter(related=earn, kind=EntryKind.REVERSE).aggregate(n=Sum("points"))["n"] or 0
    )
    n = min(points, earn.points - done)
    if n <= 0:
        return None
    own.refresh_from_db()
    from_own = min(own.remaining, n)
    others = list(
        Lot.objects.filter(account=account, pending=False, remaining__gt=0)
        .exclude(pk=own.pk)
        .order_by(*SPEND_ORDER)
    )
    from_others = min(n - from_own, sum(lot.remaining for lot in others))
    shortfall = n - from_own - from_others
    d = Deltas(
        pending=-from_own if own.pending else 0,
        available=-(from_others + (0 if own.pending else from_own)),
        debt=shortfall,
    )
    entry = write_entry(
        account,
        kind=EntryKind.REVERSE,
        key=idempotency_key,
        points=n,
        d=d,
        actor=actor,
        at=at,
        related=earn,
        rule=earn.rule,
        ref_type=earn.ref_type,
        ref_id=earn.ref_id,
        reason=reason,
    )
    if from_own:
        take_lots(account, from_own, entry=entry, source=entry, at=at, lots=[own])
    if from_others:
        take_lots(account, from_others, entry=entry, source=entry, at=at, lots=others)
    return entry


def points_adjust(
    *,
    actor: Actor,
    account: Account,
    points: int,
    idempotency_key: str,
    reason: str,
    at: datetime | None = None,
) -> LedgerEntry:
    """A support correction: a positive adjust credits a new lot, a negative one spends available points."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise InvalidAmount("An adjustment is a non-zero whole number of points.", field="points")
    if points > 0:
        return points_earn(
            actor=actor,
            account=account,
            points=points,
            idempotency_key=idempotency_key,
            reason=reason,
            kind=EntryKind.ADJUST,
            ref_type="adjust",
            at=at,
        )
    return _spend(
        actor=actor,
        account=account,
        kind=EntryKind.ADJUST,
        points=-points,
        idempotency_key=idempotency_key,
        d=Deltas(available=points),
        at=at,
        ref_type="adjust",
        reason=reason,
    )


def account_refresh(*, actor: Actor, account: Account, at: datetime | None = None) -> Account:
    """Apply due unlocks, expiries and hold expiries to one account (the periodic sweep calls this)."""
    account = lock(account)
    settle_time(account, actor=actor, at=at or timezone.now())
    return account


def lot_warn_expiring(*, actor: Actor, lot: Lot) -> None:
    """Tell scenarios that points are about to expire (they decide whether and how to remind)."""
    emit(
        workspace_id=lot.workspace_id,
        type="loyalty.points.expiring",
        subject_type="loyalty_account",
        subject_id=lot.account.public_id,
        actor=actor,
        payload={
            "account_id": lot.account.public_id,
            "customer_id": lot.account.customer_id,
            "points": lot.remaining,
            "expires_at": lot.expires_at.isoformat() if lot.expires_at else None,
        },
    )
