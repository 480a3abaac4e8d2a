"""Program and tier settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from carekit.core.events import Actor, emit
from carekit.loyalty.errors import InvalidAmount
from carekit.loyalty.models import Program, Tier

PROGRAM_FIELDS = {
    "name",
    "active",
    "currency",
    "point_value",
    "rounding",
    "max_redeem_percent",
    "return_window_days",
    "lot_lifetime_days",
    "hold_minutes",
    "comp_cap_count",
    "comp_cap_points",
    "comp_cap_days",
    "comp_budget_points",
    "agent_comp_max_points",
    "tier_basis",
    "tier_period_days",
    "tier_grace_days",
}


def program_ensure(*, actor: Actor, workspace_id: int) -> Program:
    """The workspace's program, created with defaults on first use."""
    program, created = Program.objects.get_or_create(workspace_id=workspace_id)
    if created:
        emit(
            workspace_id=workspace_id,
            type="loyalty.program.created",
            subject_type="loyalty_program",
            subject_id=program.public_id,
            actor=actor,
            payload={"program_id": program.public_id},
        )
    return program


def program_update(*, actor: Actor, program: Program, changes: dict[str, Any]) -> Program:
    unknown = set(changes) - PROGRAM_FIELDS
    if unknown:
        raise InvalidAmount(f"Unknown settings: {', '.join(sorted(unknown))}", code="invalid_setting")
    if "point_value" in changes and Decimal(str(changes["point_value"])) <= 0:
        raise InvalidAmount("A point must be worth more than zero.", field="point_value")
    if "max_redeem_percent" in changes and not 0 <= int(changes["max_redeem_percent"]) <= 100:
        raise InvalidAmount("The redemption limit is a percentage from 0 to 100.", field="max_redeem_percent")
    for name, value in changes.items():
        setattr(program, name, value)
    program.full_clean(exclude=["workspace"])
    program.save(update_fields=sorted(changes))
    emit(
        workspace_id=program.workspace_id,
        type="loyalty.program.updated",
        subject_type="loyalty_program",
        subject_id=program.public_id,
        actor=actor,
        payload={"fields": sorted(changes)},
    )
    return program


def tier_create(*, actor: Actor, program: Program, name: str, threshold: int, multiplier: Decimal) -> Tier:
    if threshold < 0 or multiplier <= 0:
        raise InvalidAmount("A tier needs a non-negative threshold and a positive multiplier.")
    tier = Tier.objects.create(
        workspace_id=program.workspace_id,
        program=program,
        name=name.strip(),
        threshold=threshold,
        multiplier=multiplier,
    )
    emit(
        workspace_id=program.workspace_id,
        type="loyalty.tier.created",
        subject_type="loyalty_tier",
        subject_id=tier.public_id,
        actor=actor,
        payload={"tier_id": tier.public_id, "threshold": threshold},
    )
    return tier
