"""What other contexts may use from loyalty: balances for the inbox sidebar and compensations for
every issuer (SLA breaches, scenarios, agents). Frozen dataclasses only; no models leave this module.
Functions run inside the caller's transaction (ARCHITECTURE.md rule 8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from carekit.core.events import Actor
from carekit.loyalty import selectors
from carekit.loyalty.enums import CompensationStatus, EntryKind
from carekit.loyalty.services import compensation as _compensation
from carekit.loyalty.services import rules as _rules


@dataclass(frozen=True)
class Balances:
    pending: int
    available: int
    held: int
    debt: int
    tier: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class LotView:
    remaining: int
    pending: bool
    expires_at: datetime | None


@dataclass(frozen=True)
class AccountSummary:
    balances: Balances
    lots: tuple[LotView, ...]
    recent: tuple[tuple[str, int, datetime], ...]  # (kind, points, when), newest first


@dataclass(frozen=True)
class CompensationResult:
    status: str  # granted | duplicate | refused
    compensation_id: str
    refusal: str = ""  # cap | budget, for refused (and for a duplicate of a refused request)
    points: int = 0
    coupon_code: str | None = None


def balances(workspace_id: int, customer_id: str) -> Balances:
    """The customer's four counters; zeros for a customer with no account yet."""
    acc = selectors.account_for_customer(workspace_id, customer_id)
    if acc is None:
        return Balances(0, 0, 0, 0)
    return Balances(
        acc.pending, acc.available, acc.held, acc.debt, acc.tier.name if acc.tier else None, acc.public_id
    )


def account_summary(workspace_id: int, customer_id: str, *, history: int = 10) -> AccountSummary:
    """Balances, live lots with their expiry, and recent entries: what the inbox sidebar shows."""
    acc = selectors.account_for_customer(workspace_id, customer_id)
    if acc is None:
        return AccountSummary(Balances(0, 0, 0, 0), (), ())
    lots = tuple(
        LotView(lot.remaining, lot.pending, lot.expires_at)
        for lot in selectors.live_lots(workspace_id, acc.pk)
    )
    recent = tuple(
        (e.kind, e.points, e.created_at)
        for e in selectors.entries(workspace_id, acc.pk).order_by("-id")[:history]
    )
    return AccountSummary(balances(workspace_id, customer_id), lots, recent)


def compensation_grant(
    *,
    workspace_id: int,
    customer_id: str,
    reason: str,
    idempotency_key: str,
    issuer: str,
    actor: Actor,
    points: int = 0,
    coupon_template: str | None = None,
) -> CompensationResult:
    """Compensate a customer once per key, within the per-customer cap (across all issuers) and the
    program's budget. A refusal is recorded and returned, not raised."""
    record, new = _compensation.compensation_grant(
        actor=actor,
        workspace_id=workspace_id,
        customer_id=customer_id,
        reason=reason,
        idempotency_key=idempotency_key,
        issuer=issuer,
        points=points,
        coupon_template=coupon_template,
    )
    if not new:
        status = "duplicate"
    else:
        status = "granted" if record.status == CompensationStatus.GRANTED else "refused"
    return CompensationResult(
        status, record.public_id, record.refusal, record.points, record.coupon.code if record.coupon else None
    )


def birthday_bonus_grant(*, workspace_id: int, customer_id: str, year: int, actor: Actor) -> int:
    """Apply the program's birthday rules to a customer whose birthday it is (once per year; a repeated
    call grants nothing). Called by the context that owns birth dates. Returns the points granted."""
    return _rules.customer_birthday(
        actor=actor, workspace_id=workspace_id, customer_id=customer_id, year=year
    )


def entry_kind_label(kind: str) -> str:
    """The human name of a ledger entry kind ("earn" → "Earned"), in the active language."""
    return str(dict(EntryKind.choices).get(kind, kind))
