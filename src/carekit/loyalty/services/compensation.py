"""Compensations and goodwill: one path for every issuer, with a per-customer cap and a budget."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Sum
from django.utils import timezone

from carekit.core.events import Actor, emit
from carekit.loyalty.enums import CompensationStatus
from carekit.loyalty.errors import InvalidAmount, KeyReused
from carekit.loyalty.models import Compensation, Program
from carekit.loyalty.services import coupons, ledger
from carekit.loyalty.services.programs import program_ensure


def compensation_grant(
    *,
    actor: Actor,
    workspace_id: int,
    customer_id: str,
    reason: str,
    idempotency_key: str,
    issuer: str,
    points: int = 0,
    coupon_template: str | None = None,
    at: datetime | None = None,
) -> tuple[Compensation, bool]:
    """Grant points and/or a coupon unless the cap or the budget refuses; returns (record, is_new).

    Refusals are stored like grants, so asking again with the same key returns the first answer. The
    customer's account lock serialises issuers for one customer, which makes the cap exact.
    """
    at = at or timezone.now()
    ledger.check_points(points, allow_zero=True)
    if points == 0 and not coupon_template:
        raise InvalidAmount("A compensation needs points or a coupon.", field="points")
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidAmount(
            "An idempotency key is required.", field="idempotency_key", code="idempotency_key_required"
        )
    program = program_ensure(actor=actor, workspace_id=workspace_id)
    account = ledger.lock(ledger.account_ensure(program=program, customer_id=customer_id))
    existing = Compensation.objects.filter(program=program, idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.customer_id != customer_id:
            raise KeyReused(
                "This idempotency key was already used for another customer.", field="idempotency_key"
            )
        return existing, False
    campaign = coupons.campaign_find(workspace_id, coupon_template) if coupon_template else None
    recent = Compensation.objects.filter(
        program=program,
        customer_id=customer_id,
        status=CompensationStatus.GRANTED,
        created_at__gte=at - timedelta(days=program.comp_cap_days),
    )
    refusal = ""
    if recent.count() >= program.comp_cap_count or (
        (recent.aggregate(n=Sum("points"))["n"] or 0) + points > program.comp_cap_points
    ):
        refusal = "cap"
    elif points and not Program.objects.filter(
        pk=program.pk, comp_budget_used__lte=F("comp_budget_points") - points
    ).update(comp_budget_used=F("comp_budget_used") + points):
        refusal = "budget"
    record = Compensation(
        workspace_id=workspace_id,
        program=program,
        customer_id=customer_id,
        issuer=issuer[:60],
        reason=reason[:200],
        idempotency_key=idempotency_key,
        points=points,
        actor=str(actor)[:80],
        created_at=at,
        status=CompensationStatus.REFUSED if refusal else CompensationStatus.GRANTED,
        refusal=refusal,
    )
    if not refusal:
        if points:
            ledger.points_earn(
                actor=actor,
                account=account,
                points=points,
                idempotency_key=f"comp:{idempotency_key}",
                ref_type="compensation",
                ref_id=issuer[:64],
                reason=reason,
                at=at,
            )
        if campaign is not None:
            record.coupon = coupons.coupon_issue(
                actor=actor,
                campaign=campaign,
                customer_id=customer_id,
                idempotency_key=f"comp:{idempotency_key}",
            )
    record.save()
    emit(
        workspace_id=workspace_id,
        type=f"loyalty.compensation.{'refused' if refusal else 'granted'}",
        subject_type="compensation",
        subject_id=record.public_id,
        actor=actor,
        payload={
            "compensation_id": record.public_id,
            "customer_id": customer_id,
            "issuer": record.issuer,
            "points": points,
            "refusal": refusal,
            "coupon_id": record.coupon.public_id if record.coupon else None,
        },
    )
    return record, True
