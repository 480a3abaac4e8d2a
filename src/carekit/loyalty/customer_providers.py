"""Providers for the customers context's registries (docs/contracts.md): merge, unmerge, erasure,
export, timeline, and the customer references they cover. `register()` (called from apps.ready) hands
them to `carekit.customers.public` when that context is installed. They run inside the merge's or
erasure's transaction and never open a durable one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from django.apps import apps as django_apps
from django.db.models import Model, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.core.events import Actor
from carekit.core.ids import new_public_id
from carekit.loyalty.enums import EntryKind, QuoteStatus
from carekit.loyalty.models import (
    Account,
    Compensation,
    Coupon,
    CouponRedemption,
    LedgerEntry,
    Lot,
    LotAllocation,
    MergeMove,
    OrderFact,
    Program,
    Quote,
    Referral,
)
from carekit.loyalty.services import ledger
from carekit.loyalty.services.ledger import Deltas

ACTOR = Actor.system("customers.merge")
PROVIDER = "loyalty"

REFERENCES: list[tuple[type[Model], str]] = [
    (Account, "customer_id"),
    (Coupon, "customer_id"),
    (CouponRedemption, "customer_id"),
    (Referral, "referrer_customer_id"),
    (Referral, "referred_customer_id"),
    (Compensation, "customer_id"),
    (OrderFact, "customer_id"),
]


# References that follow the customer into the survivor: order facts (so the counting rule sees the
# merged profile's orders), personal coupons and their uses, compensations (so the cap spans both),
# referrals. The account itself stays with its customer id; its points move by transfer entries.
MOVABLE: dict[str, tuple[type[Model], str]] = {
    "orderfact.customer_id": (OrderFact, "customer_id"),
    "coupon.customer_id": (Coupon, "customer_id"),
    "couponredemption.customer_id": (CouponRedemption, "customer_id"),
    "compensation.customer_id": (Compensation, "customer_id"),
    "referral.referrer_customer_id": (Referral, "referrer_customer_id"),
    "referral.referred_customer_id": (Referral, "referred_customer_id"),
}


class MergeLike(Protocol):
    """The fields of customers' MergeContext that loyalty uses (read-only, like the frozen original)."""

    @property
    def workspace_id(self) -> int: ...
    @property
    def survivor_id(self) -> str: ...
    @property
    def merged_id(self) -> str: ...
    @property
    def merge_id(self) -> str: ...


class TimelineQueryLike(Protocol):
    @property
    def workspace_id(self) -> int: ...
    @property
    def customer_id(self) -> str: ...
    @property
    def before(self) -> datetime | None: ...
    @property
    def limit(self) -> int: ...
    @property
    def kinds(self) -> frozenset[str]: ...


def _accounts(ctx: MergeLike) -> tuple[Account, Account] | None:
    program = Program.objects.filter(workspace_id=ctx.workspace_id).first()
    if program is None:
        return None
    merged = Account.objects.filter(program=program, customer_id=ctx.merged_id).first()
    if merged is None:
        return None
    survivor = ledger.account_ensure(program=program, customer_id=ctx.survivor_id)
    survivor, merged = ledger.lock_many([survivor, merged])
    return survivor, merged


def _move_references(ctx: MergeLike) -> None:
    if MergeMove.objects.filter(workspace_id=ctx.workspace_id, merge_id=ctx.merge_id).exists():
        return
    survivor_referred = Referral.objects.filter(
        workspace_id=ctx.workspace_id, referred_customer_id=ctx.survivor_id
    ).exists()
    for name, (model, field) in MOVABLE.items():
        if name == "referral.referred_customer_id" and survivor_referred:
            continue  # a customer is referred once; the survivor's own referral stands
        rows = model._default_manager.filter(workspace_id=ctx.workspace_id, **{field: ctx.merged_id})
        pks = list(rows.values_list("pk", flat=True))
        if pks:
            model._default_manager.filter(pk__in=pks).update(**{field: ctx.survivor_id})
            MergeMove.objects.create(
                workspace_id=ctx.workspace_id, merge_id=ctx.merge_id, reference=name, pks=pks
            )


def _move_references_back(ctx: MergeLike) -> None:
    for move in MergeMove.objects.filter(workspace_id=ctx.workspace_id, merge_id=ctx.merge_id):
        model, field = MOVABLE[move.reference]
        model._default_manager.filter(pk__in=move.pks, **{field: ctx.survivor_id}).update(
            **{field: ctx.merged_id}
        )


def merge(ctx: MergeLike) -> None:
    """Move the merged customer's points to the survivor: open holds are released, then one transfer
    entry out of the merged account and one into the survivor's; the lots move with them. Order
    facts, personal coupons, compensations and referrals follow the customer (see MOVABLE)."""
    _move_references(ctx)
    pair = _accounts(ctx)
    if pair is None:
        return
    survivor, merged = pair
    out_key = f"merge:{ctx.merge_id}:out"
    if LedgerEntry.objects.filter(program_id=merged.program_id, idempotency_key=out_key).exists():
        return
    now = timezone.now()
    for account in (survivor, merged):
        ledger.settle_time(account, actor=ACTOR, at=now)
    for quote in Quote.objects.filter(account=merged, status=QuoteStatus.OPEN):
        if quote.hold_entry is not None:
            ledger.hold_release(
                actor=ACTOR, hold=quote.hold_entry, idempotency_key=f"merge-release:{quote.pk}", at=now
            )
        Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.CANCELLED)
    merged.refresh_from_db()
    p, a, d = merged.pending, merged.available, merged.debt
    out = ledger.write_entry(
        merged,
        kind=EntryKind.TRANSFER,
        key=out_key,
        points=p + a,
        d=Deltas(pending=-p, available=-a, debt=-d),
        actor=ACTOR,
        at=now,
        ref_type="merge",
        ref_id=ctx.merge_id,
    )
    ledger.write_entry(
        survivor,
        kind=EntryKind.TRANSFER,
        key=f"merge:{ctx.merge_id}:in",
        points=p + a,
        d=Deltas(pending=p, available=a, debt=d),
        actor=ACTOR,
        at=now,
        related=out,
        ref_type="merge",
        ref_id=ctx.merge_id,
    )
    # All lots move, empty ones too: a later refund or return finds its lots, and so its account.
    Lot.objects.filter(account=merged).update(account=survivor)
    # Lots moved in: make the survivor's next write look at what is due instead of trusting its mark.
    Account.objects.filter(pk=survivor.pk).update(next_due_at=now)


def unmerge(ctx: MergeLike) -> None:
    """Give the restored customer back what was moved: its own lots with what remains in them, plus
    the points the survivor spent from them in between, taken from the survivor's available points;
    what the survivor cannot cover becomes the survivor's debt."""
    _move_references_back(ctx)
    pair = _accounts(ctx)
    if pair is None:
        return
    survivor, restored = pair
    program_id = restored.program_id
    out = LedgerEntry.objects.filter(
        program_id=program_id, idempotency_key=f"merge:{ctx.merge_id}:out"
    ).first()
    back_key = f"unmerge:{ctx.merge_id}"
    if (
        out is None
        or LedgerEntry.objects.filter(program_id=program_id, idempotency_key=f"{back_key}:out").exists()
    ):
        return
    now = timezone.now()
    for account in (survivor, restored):
        ledger.settle_time(account, actor=ACTOR, at=now)
    origin = Lot.objects.filter(account=survivor, entry__account=restored)
    r_p = origin.filter(pending=True).aggregate(n=Sum("remaining"))["n"] or 0
    r_a = origin.filter(pending=False).aggregate(n=Sum("remaining"))["n"] or 0
    spent = (
        LotAllocation.objects.filter(
            lot__in=origin,
            entry__account=survivor,
            entry__pk__gt=out.pk,
            entry__kind__in=[
                EntryKind.HOLD,
                EntryKind.REDEEM,
                EntryKind.ADJUST,
                EntryKind.RELEASE,
                EntryKind.REVERSE,
            ],
        ).aggregate(n=Sum("points"))["n"]
        or 0
    )
    spent = max(spent, 0)
    debt_back = min(-out.d_debt, survivor.debt)
    origin_ids = list(origin.values_list("pk", flat=True))
    others = list(
        Lot.objects.filter(account=survivor, pending=False, remaining__gt=0)
        .exclude(pk__in=origin_ids)
        .order_by(*ledger.SPEND_ORDER)
    )
    from_others = min(spent, sum(lot.remaining for lot in others))
    shortfall = spent - from_others
    back = ledger.write_entry(
        survivor,
        kind=EntryKind.TRANSFER,
        key=f"{back_key}:out",
        points=r_p + r_a + spent,
        d=Deltas(pending=-r_p, available=-(r_a + from_others), debt=shortfall - debt_back),
        actor=ACTOR,
        at=now,
        related=out,
        ref_type="unmerge",
        ref_id=ctx.merge_id,
    )
    if from_others:
        ledger.take_lots(survivor, from_others, entry=back, source=back, at=now, lots=others)
    Lot.objects.filter(pk__in=origin_ids).update(account=restored)
    Account.objects.filter(pk=restored.pk).update(next_due_at=now)
    into = ledger.write_entry(
        restored,
        kind=EntryKind.TRANSFER,
        key=f"{back_key}:in",
        points=r_p + r_a + spent,
        d=Deltas(pending=r_p, available=r_a + spent, debt=debt_back),
        actor=ACTOR,
        at=now,
        related=back,
        ref_type="unmerge",
        ref_id=ctx.merge_id,
    )
    if spent:
        Lot.objects.create(
            workspace_id=restored.workspace_id,
            account=restored,
            entry=into,
            points=spent,
            remaining=spent,
            created_at=now,
        )


def erase(workspace_id: int, customer_id: str) -> None:
    """Keep every amount (the ledger must still add up) but cut the link to the person: the customer id
    is replaced by a marker and free-text reasons are blanked."""
    account = Account.objects.filter(workspace_id=workspace_id, customer_id=customer_id).first()
    marker = f"erased:{account.public_id if account else new_public_id('x')}"
    if account is not None:
        Account.objects.filter(pk=account.pk).update(customer_id=marker, referral_code=None)
        LedgerEntry.objects.filter(account=account).update(reason="")
    for model, field in REFERENCES:
        if model is Account:
            continue
        model._default_manager.filter(workspace_id=workspace_id, **{field: customer_id}).update(
            **{field: marker}
        )
    Compensation.objects.filter(workspace_id=workspace_id, customer_id=marker).update(reason="")


def export(workspace_id: int, customer_id: str) -> dict[str, Any]:
    """The customer's loyalty data for a data-access request."""
    account = Account.objects.filter(workspace_id=workspace_id, customer_id=customer_id).first()
    if account is None:
        return {}
    return {
        "account_id": account.public_id,
        "balances": {
            "pending": account.pending,
            "available": account.available,
            "held": account.held,
            "debt": account.debt,
        },
        "lots": [
            {
                "remaining": lot.remaining,
                "pending": lot.pending,
                "expires_at": lot.expires_at.isoformat() if lot.expires_at else None,
            }
            for lot in Lot.objects.filter(account=account, remaining__gt=0)
        ],
        "entries": [
            {"kind": e.kind, "points": e.points, "at": e.created_at.isoformat(), "reason": e.reason}
            for e in LedgerEntry.objects.filter(account=account).order_by("id")
        ],
        "coupons": list(
            Coupon.objects.filter(workspace_id=workspace_id, customer_id=customer_id).values_list(
                "code", flat=True
            )
        ),
    }


TIMELINE_KIND = "loyalty.points"
# What a support agent wants on the customer's timeline; holds, releases and unlocks are checkout and
# clock mechanics, visible in the account's own history.
TIMELINE_ENTRY_KINDS = [
    EntryKind.EARN,
    EntryKind.REDEEM,
    EntryKind.CAPTURE,
    EntryKind.EXPIRE,
    EntryKind.ADJUST,
    EntryKind.REVERSE,
    EntryKind.TRANSFER,
]


def timeline(query: TimelineQueryLike) -> list[Any]:
    """Ledger entries as timeline items, newest first, at or before `query.before`."""
    from carekit.customers import public as customers

    if query.kinds and TIMELINE_KIND not in query.kinds:
        return []
    account = Account.objects.filter(workspace_id=query.workspace_id, customer_id=query.customer_id).first()
    if account is None:
        return []
    rows = LedgerEntry.objects.filter(account=account, kind__in=TIMELINE_ENTRY_KINDS)
    if query.before is not None:
        rows = rows.filter(created_at__lte=query.before)
    return [
        customers.TimelineItem(
            occurred_at=e.created_at,
            kind=TIMELINE_KIND,
            ref=e.public_id,
            title=_("%(what)s: %(points)s points") % {"what": EntryKind(e.kind).label, "points": e.points},
            data={"entry_kind": e.kind, "points": e.points, "ref_type": e.ref_type},
        )
        for e in rows.order_by("-created_at", "-id")[: query.limit]
    ]


def register() -> None:
    """Register with the customers registries (ARCHITECTURE.md rule 10) when that context is installed.
    Loyalty also runs without it: accounts are keyed by the customer's public id."""
    if not django_apps.is_installed("carekit.customers"):
        return
    from carekit.customers import public as customers

    customers.register_merge_provider(PROVIDER, merge=merge, unmerge=unmerge)
    customers.register_erasure_provider(PROVIDER, erase)
    customers.register_export_provider(PROVIDER, export)
    customers.register_timeline_provider(PROVIDER, timeline)
    for model, field in REFERENCES:
        customers.register_customer_reference(model, field, PROVIDER)
