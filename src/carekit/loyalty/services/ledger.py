"""The points ledger: every change is one append-only entry plus the same deltas on the account's
counters, under the account's row lock (ADR 0101). Services run inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Min, Q, Sum
from django.utils import timezone

from carekit.core.events import Actor, emit
from carekit.core.ids import new_public_id
from carekit.loyalty.enums import EntryKind, QuoteStatus
from carekit.loyalty.errors import InsufficientPoints, InvalidAmount, KeyReused
from carekit.loyalty.models import Account, LedgerEntry, Lot, LotAllocation, Program, Quote, Rule

SPEND_ORDER = (F("expires_at").asc(nulls_last=True), "id")


def check_points(points: object, *, allow_zero: bool = False) -> int:
    """Points are whole, positive numbers; anything else is refused before any write."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidAmount("Points must be a whole number.", field="points")
    if points < 0 or (points == 0 and not allow_zero):
        raise InvalidAmount("Points must be greater than zero.", field="points")
    return points


def account_ensure(*, program: Program, customer_id: str) -> Account:
    """The customer's account in the program, created on first use (race-safe on the unique key)."""
    if not customer_id or len(customer_id) > 64:
        raise InvalidAmount("A customer id is required.", field="customer_id", code="invalid_customer")
    account = Account.objects.filter(program=program, customer_id=customer_id).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                workspace_id=program.workspace_id, program=program, customer_id=customer_id
            )
    except IntegrityError:
        return Account.objects.get(program=program, customer_id=customer_id)


def lock(account: Account) -> Account:
    """Take the account's row lock; every balance check happens after this (ADR 0101)."""
    # of=("self",): the join must not lock the program row too, or every writer of the workspace would
    # queue behind one row (measured: 2 workers ran slower than 1 before this).
    return Account.objects.select_for_update(of=("self",)).select_related("program").get(pk=account.pk)


def lock_many(accounts: list[Account]) -> list[Account]:
    """Lock several accounts in ascending primary-key order, the one order every writer uses."""
    by_pk = {a.pk: a for a in accounts}
    rows = {
        a.pk: a
        for a in Account.objects.select_for_update(of=("self",))
        .select_related("program")
        .filter(pk__in=sorted(by_pk))
        .order_by("pk")
    }
    return [rows[a.pk] for a in accounts]


def _replay(
    account: Account, key: str, kinds: tuple[str, ...], points: int | None = None
) -> LedgerEntry | None:
    if not key or len(key) > 200:
        raise InvalidAmount(
            "An idempotency key (1-200 characters) is required.",
            field="idempotency_key",
            code="idempotency_key_required",
        )
    entry = LedgerEntry.objects.filter(program_id=account.program_id, idempotency_key=key).first()
    if entry is None:
        return None
    if (
        entry.account_id != account.pk
        or entry.kind not in kinds
        or (points is not None and entry.points != points)
    ):
        raise KeyReused(
            "This idempotency key was already used for a different operation.", field="idempotency_key"
        )
    return entry


@dataclass
class Deltas:
    pending: int = 0
    available: int = 0
    held: int = 0
    debt: int = 0


def write_entry(
    account: Account,
    *,
    kind: str,
    key: str,
    points: int,
    d: Deltas,
    actor: Actor,
    at: datetime,
    related: LedgerEntry | None = None,
    rule: Rule | None = None,
    ref_type: str = "",
    ref_id: str = "",
    reason: str = "",
    due: datetime | None = None,
) -> LedgerEntry:
    """Append one entry and move the account's counters by its deltas (one UPDATE, also lowering
    `next_due_at` to `due` when a new lot makes something due earlier)."""
    entry = LedgerEntry.objects.create(
        workspace_id=account.workspace_id,
        program_id=account.program_id,
        account=account,
        kind=kind,
        idempotency_key=key,
        points=points,
        d_pending=d.pending,
        d_available=d.available,
        d_held=d.held,
        d_debt=d.debt,
        related=related,
        rule=rule,
        ref_type=ref_type,
        ref_id=ref_id,
        reason=reason[:200],
        actor=str(actor)[:80],
        created_at=at,
    )
    sooner = due is not None and (account.next_due_at is None or due < account.next_due_at)
    if d.pending or d.available or d.held or d.debt or sooner:
        Account.objects.filter(pk=account.pk).update(
            pending=F("pending") + d.pending,
            available=F("available") + d.available,
            held=F("held") + d.held,
            debt=F("debt") + d.debt,
            **({"next_due_at": due} if sooner else {}),
        )
        if sooner:
            account.next_due_at = due
        account.pending += d.pending
        account.available += d.available
        account.held += d.held
        account.debt += d.debt
    return entry


def take_lots(
    account: Account,
    points: int,
    *,
    entry: LedgerEntry,
    source: LedgerEntry,
    at: datetime,
    lots: list[Lot] | None = None,
) -> int:
    """Take up to `points` from available lots, soonest-expiring first; returns what was taken."""
    if lots is None:
        lots = list(
            Lot.objects.filter(account=account, pending=False, remaining__gt=0).order_by(*SPEND_ORDER)
        )
    taken = 0
    allocations = []
    for lot in lots:
        if taken >= points:
            break
        n = min(lot.remaining, points - taken)
        if n <= 0:
            continue
        Lot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - n)
        lot.remaining -= n
        allocations.append(LotAllocation(entry=entry, source=source, lot=lot, points=n))
        taken += n
    LotAllocation.objects.bulk_create(allocations)
    return taken


def due_sooner(account: Account, when: datetime | None) -> None:
    """Lower the account's `next_due_at` if `when` is earlier (points went into a lot expiring then)."""
    if when is not None and (account.next_due_at is None or when < account.next_due_at):
        Account.objects.filter(pk=account.pk).update(next_due_at=when)
        account.next_due_at = when


def _give_back(account: Account, source: LedgerEntry, points: int, *, entry: LedgerEntry) -> None:
    """Put `points` back into the lots `source` took them from, latest-expiring first. Points whose lot
    has since moved to another account (a merge) go into a new lot of this account."""
    net: dict[int, int] = {}
    for row in LotAllocation.objects.filter(source=source).values("lot_id").annotate(n=Sum("points")):
        if row["n"] > 0:
            net[row["lot_id"]] = row["n"]
    lots = Lot.objects.filter(pk__in=list(net), account=account).order_by(
        F("expires_at").desc(nulls_first=True), "-id"
    )
    left = points
    allocations = []
    for lot in lots:
        if left <= 0:
            break
        n = min(net[lot.pk], left)
        Lot.objects.filter(pk=lot.pk).update(remaining=F("remaining") + n)
        lot.remaining += n
        allocations.append(LotAllocation(entry=entry, source=source, lot=lot, points=-n))
        due_sooner(account, lot.expires_at)
        left -= n
    LotAllocation.objects.bulk_create(allocations)
    if left > 0:
        Lot.objects.create(
            workspace_id=account.workspace_id,
            account=account,
            entry=entry,
            points=left,
            remaining=left,
            created_at=entry.created_at,
        )


def settle_time(account: Account, *, actor: Actor, at: datetime) -> None:
    """Apply what the clock has made due on a locked account: unlock lots past the return window,
    expire lots past their expiry, release holds of expired quotes. Every locked write calls it first, so
    balances are exact whenever they are used, not only after the periodic sweep."""
    if account.next_due_at is not None and account.next_due_at <= at:
        _settle_lots(account, actor=actor, at=at)
    if not account.held:
        # Only quotes holding points need a release now; a points-free quote's expiry is checked when
        # it is redeemed and its status tidied by the sweep.
        return
    for quote in Quote.objects.filter(account=account, status=QuoteStatus.OPEN, expires_at__lte=at):
        if quote.hold_entry is not None:
            _release(account, quote.hold_entry, key=f"expire-hold:{quote.pk}", actor=actor, at=at)
        Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.EXPIRED)


def _settle_lots(account: Account, *, actor: Actor, at: datetime) -> None:
    due = (
        Lot.objects.filter(account=account, remaining__gt=0)
        .filter(Q(pending=True, unlock_at__lte=at) | Q(expires_at__lte=at))
        .order_by("id")
    )
    for lot in due:
        if lot.pending and lot.unlock_at is not None and lot.unlock_at <= at:
            write_entry(
                account,
                kind=EntryKind.UNLOCK,
                key=f"unlock:{lot.pk}",
                points=lot.remaining,
                d=Deltas(pending=-lot.remaining, available=lot.remaining),
                actor=actor,
                at=at,
                ref_type="lot",
                ref_id=str(lot.pk),
            )
            Lot.objects.filter(pk=lot.pk).update(pending=False)
            lot.pending = False
        if lot.expires_at is not None and lot.expires_at <= at:
            n = lot.remaining
            bucket = Deltas(pending=-n) if lot.pending else Deltas(available=-n)
            entry = write_entry(
                account,
                kind=EntryKind.EXPIRE,
                key=new_public_id("exp"),
                points=n,
                d=bucket,
                actor=actor,
                at=at,
                ref_type="lot",
                ref_id=str(lot.pk),
            )
            take_lots(account, n, entry=entry, source=entry, at=at, lots=[lot])
    Lot.objects.filter(account=account, remaining=0, pending=True, unlock_at__lte=at).update(pending=False)
    live = Lot.objects.filter(account=account, remaining__gt=0).aggregate(
        unlock=Min("unlock_at", filter=Q(pending=True)), expiry=Min("expires_at")
    )
    times = [t for t in (live["unlock"], live["expiry"]) if t is not None]
    account.next_due_at = min(times) if times else None
    Account.objects.filter(pk=account.pk).update(next_due_at=account.next_due_at)


def _unlock_at(program: Program, at: datetime) -> datetime | None:
    return at + timedelta(days=program.return_window_days) if program.return_window_days else None


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
    account = lock(account)
    replay = _replay(account, idempotency_key, (kind,), points)
    if replay is not None:
        return replay
    settle_time(account, actor=actor, at=at)
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
    )
    Lot.objects.create(
        workspace_id=account.workspace_id,
        account=account,
        entry=entry,
        points=points,
        remaining=rest,
        pending=pending,
        unlock_at=locked_until if pending else None,
        expires_at=expires_at,
        created_at=at,
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
    at = at or timezone.now()
    account = lock(account)
    replay = _replay(account, idempotency_key, (EntryKind.REDEEM,), points)
    if replay is not None:
        return replay
    settle_time(account, actor=actor, at=at)
    if points > account.available:
        raise InsufficientPoints(
            "Not enough points.", details={"available": account.available, "asked": points}
        )
    entry = write_entry(
        account,
        kind=EntryKind.REDEEM,
        key=idempotency_key,
        points=points,
        d=Deltas(available=-points),
        actor=actor,
        at=at,
        ref_type=ref_type,
        ref_id=ref_id,
    )
    take_lots(account, points, entry=entry, source=entry, at=at)
    return entry


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
    at = at or timezone.now()
    account = lock(account)
    replay = _replay(account, idempotency_key, (EntryKind.HOLD,), points)
    if replay is not None:
        return replay
    settle_time(account, actor=actor, at=at)
    if points > account.available:
        raise InsufficientPoints(
            "Not enough points.", details={"available": account.available, "asked": points}
        )
    entry = write_entry(
        account,
        kind=EntryKind.HOLD,
        key=idempotency_key,
        points=points,
        d=Deltas(available=-points, held=points),
        actor=actor,
        at=at,
        ref_type=ref_type,
        ref_id=ref_id,
    )
    take_lots(account, points, entry=entry, source=entry, at=at)
    return entry


def hold_outstanding(hold: LedgerEntry) -> int:
    """Points of a hold not yet released or captured."""
    closed = (
        LedgerEntry.objects.filter(related=hold, kind__in=[EntryKind.RELEASE, EntryKind.CAPTURE]).aggregate(
            n=Sum("points")
        )["n"]
        or 0
    )
    return hold.points - closed


def _release(
    account: Account, hold: LedgerEntry, *, key: str, actor: Actor, at: datetime
) -> LedgerEntry | None:
    n = hold_outstanding(hold)
    if n <= 0:
        return None
    entry = write_entry(
        account,
        kind=EntryKind.RELEASE,
        key=key,
        points=n,
        d=Deltas(available=n, held=-n),
        actor=actor,
        at=at,
        related=hold,
        ref_type=hold.ref_type,
        ref_id=hold.ref_id,
    )
    _give_back(account, hold, n, entry=entry)
    return entry


def hold_release(
    *, actor: Actor, hold: LedgerEntry, idempotency_key: str, at: datetime | None = None
) -> LedgerEntry | None:
    """Give a hold's outstanding points back to their lots; a hold already closed releases nothing."""
    at = at or timezone.now()
    account = lock(hold.account)
    replay = _replay(account, idempotency_key, (EntryKind.RELEASE,))
    if replay is not None:
        return replay
    settle_time(account, actor=actor, at=at)
    return _release(account, hold, key=idempotency_key, actor=actor, at=at)


def hold_capture(
    *, actor: Actor, hold: LedgerEntry, idempotency_key: str, at: datetime | None = None
) -> LedgerEntry:
    """Turn a hold into a redemption: the held points are spent (they already left their lots)."""
    at = at or timezone.now()
    account = lock(hold.account)
    replay = _replay(account, idempotency_key, (EntryKind.CAPTURE,))
    if replay is not None:
        return replay
    settle_time(account, actor=actor, at=at)
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
    """Return spent points (a cancelled or refunded order) into the lots they were taken from."""
    check_points(points)
    at = at or timezone.now()
    account = lock(redemption.account)
    replay = _replay(account, idempotency_key, (EntryKind.REVERSE,), points)
    if replay is not None:
        return replay
    settle_time(account, actor=actor, at=at)
    done = (
        LedgerEntry.objects.filter(related=redemption, kind=EntryKind.REVERSE).aggregate(n=Sum("points"))["n"]
        or 0
    )
    if points > redemption.points - done:
        raise InvalidAmount("More points than were redeemed.", field="points", code="refund_exceeds_redeemed")
    source = redemption.related if redemption.kind == EntryKind.CAPTURE else redemption
    assert source is not None
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
    _give_back(account, source, points, entry=entry)
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
    account = lock(earn.account)
    replay = _replay(account, idempotency_key, (EntryKind.REVERSE,))
    if replay is not None:
        return replay
    settle_time(account, actor=actor, at=at)
    done = (
        LedgerEntry.objects.filter(related=earn, kind=EntryKind.REVERSE).aggregate(n=Sum("points"))["n"] or 0
    )
    n = min(points, earn.points - done)
    if n <= 0:
        return None
    own = Lot.objects.get(entry=earn)
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
    at = at or timezone.now()
    account = lock(account)
    replay = _replay(account, idempotency_key, (EntryKind.ADJUST,), -points)
    if replay is not None:
        return replay
    settle_time(account, actor=actor, at=at)
    if -points > account.available:
        raise InsufficientPoints(
            "Not enough points.", details={"available": account.available, "asked": -points}
        )
    entry = write_entry(
        account,
        kind=EntryKind.ADJUST,
        key=idempotency_key,
        points=-points,
        d=Deltas(available=points),
        actor=actor,
        at=at,
        reason=reason,
        ref_type="adjust",
    )
    take_lots(account, -points, entry=entry, source=entry, at=at)
    return entry


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
