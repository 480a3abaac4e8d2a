"""Lots and entries: the mechanics under every ledger operation (ADR 0101) — the account lock, one
entry plus the same deltas on the counters, taking points from lots soonest-expiring first, giving
them back, and applying what the clock has made due. Operations live in services.ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Min, Q, Sum

from carekit.core.events import Actor
from carekit.core.ids import new_public_id
from carekit.core.rows import insert_parts
from carekit.loyalty.enums import EntryKind, QuoteStatus
from carekit.loyalty.errors import InvalidAmount
from carekit.loyalty.models import Account, LedgerEntry, Lot, LotAllocation, Program, Quote, Rule

SPEND_ORDER = (F("expires_at").asc(nulls_last=True), "id")


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


def _columns(model: type[Any], alias: str = "") -> tuple[list[str], str]:
    fields = list(model._meta.concrete_fields)
    prefix = f"{alias}." if alias else ""
    return [f.attname for f in fields], ", ".join(f'{prefix}"{f.column}"' for f in fields)


def lock_for_key(account: Account, key: str) -> tuple[Account, LedgerEntry | None]:
    """Take the account's row lock, then find the entry already written under `key` in the program.

    The lookup must run after the lock (a writer holding it may be committing the same key); on
    PostgreSQL both statements go in one round trip, the second with its own snapshot, taken once the
    lock is granted (READ COMMITTED)."""
    if connection.vendor != "postgresql":
        account = lock(account)
        return account, LedgerEntry.objects.filter(program_id=account.program_id, idempotency_key=key).first()
    acc_names, acc_cols = _columns(Account, "a")
    prg_names, prg_cols = _columns(Program, "p")
    entry_names, entry_cols = _columns(LedgerEntry)
    sql = (
        f"SELECT {acc_cols}, {prg_cols} FROM {Account._meta.db_table} a "  # noqa: S608  (constants only)
        f"JOIN {Program._meta.db_table} p ON p.id = a.program_id WHERE a.id = %s FOR UPDATE OF a; "
        f"SELECT {entry_cols} FROM {LedgerEntry._meta.db_table} WHERE idempotency_key = %s AND program_id = "
        f"(SELECT program_id FROM {Account._meta.db_table} WHERE id = %s) ORDER BY id LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [account.pk, key, account.pk])
        row = cursor.fetchone()
        cursor.nextset()
        found = cursor.fetchone()
    if row is None:
        raise Account.DoesNotExist(f"No loyalty account {account.pk}")
    locked = Account.from_db(connection.alias, acc_names, row[: len(acc_names)])
    program = Program.from_db(connection.alias, prg_names, row[len(acc_names) :])
    Account._meta.get_field("program").set_cached_value(locked, program)
    entry = LedgerEntry.from_db(connection.alias, entry_names, found) if found is not None else None
    return locked, entry


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
    lot: dict[str, Any] | None = None,
) -> LedgerEntry:
    """Append one entry and move the account's counters by its deltas (one UPDATE, also lowering
    `next_due_at` to `due` when a new lot makes something due earlier); with `lot` (its field values),
    also create the lot that holds the entry's points. On PostgreSQL all of it is one statement."""
    entry = LedgerEntry(
        public_id=new_public_id("lge"),
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
    moves = bool(d.pending or d.available or d.held or d.debt or sooner)
    if connection.vendor == "postgresql":
        _write_in_one_statement(account, entry, d, moves=moves, due=due if sooner else None, lot=lot)
    else:
        entry.save(force_insert=True)
        if moves:
            Account.objects.filter(pk=account.pk).update(
                pending=F("pending") + d.pending,
                available=F("available") + d.available,
                held=F("held") + d.held,
                debt=F("debt") + d.debt,
                **({"next_due_at": due} if sooner else {}),
            )
        if lot is not None:
            Lot.objects.create(workspace_id=account.workspace_id, account=account, entry=entry, **lot)
    if moves:
        if sooner:
            account.next_due_at = due
        account.pending += d.pending
        account.available += d.available
        account.held += d.held
        account.debt += d.debt
    return entry


_ENTRY, _ACCOUNT, _LOT = LedgerEntry._meta.db_table, Account._meta.db_table, Lot._meta.db_table


def _write_in_one_statement(
    account: Account,
    entry: LedgerEntry,
    d: Deltas,
    *,
    moves: bool,
    due: datetime | None,
    lot: dict[str, Any] | None,
) -> None:
    """Entry, counters and lot in one round trip: data-modifying CTEs run in one statement, atomically,
    under the account lock the caller holds; the CHECK constraints still refuse an overdraft."""
    # Every SQL fragment below is built from model metadata; values travel only as parameters.
    cols, marks, params = insert_parts(entry)
    parts = [f"e AS (INSERT INTO {_ENTRY} ({cols}) VALUES ({marks}) RETURNING id)"]  # noqa: S608
    if moves:
        next_due = ', "next_due_at" = %s' if due is not None else ""
        parts.append(
            f"a AS (UPDATE {_ACCOUNT} SET pending = pending + %s, available = available + %s, "  # noqa: S608
            f"held = held + %s, debt = debt + %s{next_due} WHERE id = %s)"
        )
        params += [d.pending, d.available, d.held, d.debt, *([due] if due is not None else []), account.pk]
    if lot is not None:
        new_lot = Lot(workspace_id=account.workspace_id, account_id=account.pk, **lot)
        lot_cols, lot_values, lot_params = insert_parts(new_lot, computed={"entry_id": "e.id"})
        parts.append(f"l AS (INSERT INTO {_LOT} ({lot_cols}) SELECT {lot_values} FROM e)")  # noqa: S608
        params += lot_params
    sql = f"WITH {', '.join(parts)} SELECT id FROM e"  # noqa: S608  (constants only; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        entry.pk = cursor.fetchone()[0]
    entry._state.adding = False
    entry._state.db = connection.alias


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
        allocations.append(
            LotAllocation(workspace_id=entry.workspace_id, entry=entry, source=source, lot=lot, points=n)
        )
        taken += n
    LotAllocation.objects.bulk_create(allocations)
    return taken


def due_sooner(account: Account, when: datetime | None) -> None:
    """Lower the account's `next_due_at` if `when` is earlier (points went into a lot expiring then)."""
    if when is not None and (account.next_due_at is None or when < account.next_due_at):
        Account.objects.filter(pk=account.pk).update(next_due_at=when)
        account.next_due_at = when


def give_back(account: Account, source: LedgerEntry, points: int, *, entry: LedgerEntry) -> None:
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
        allocations.append(
            LotAllocation(workspace_id=entry.workspace_id, entry=entry, source=source, lot=lot, points=-n)
        )
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
            release_hold(account, quote.hold_entry, key=f"expire-hold:{quote.pk}", actor=actor, at=at)
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


def hold_outstanding(hold: LedgerEntry) -> int:
    """Points of a hold not yet released or captured."""
    closed = (
        LedgerEntry.objects.filter(related=hold, kind__in=[EntryKind.RELEASE, EntryKind.CAPTURE]).aggregate(
            n=Sum("points")
        )["n"]
        or 0
    )
    return hold.points - closed


def release_hold(
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
    give_back(account, hold, n, entry=entry)
    return entry
