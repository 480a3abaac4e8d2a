"""Demo data for loyalty: the shop's programme (5% cashback, a welcome bonus, a gift on every fifth
order, referrals, two tiers). Points accrue from the demo orders' events once the worker runs."""

from __future__ import annotations

from decimal import Decimal

from carekit.demo.public import DemoContext
from carekit.loyalty.services.programs import program_ensure, program_update, tier_create
from carekit.loyalty.services.rules import rule_create


def load(ctx: DemoContext) -> None:
    program = program_ensure(actor=ctx.actor, workspace_id=ctx.shop.pk)
    program = program_update(actor=ctx.actor, program=program, changes={"name": "Wardrobe Club"})
    tier_create(actor=ctx.actor, program=program, name="Silver", threshold=2000, multiplier=Decimal("1.5"))
    tier_create(actor=ctx.actor, program=program, name="Gold", threshold=10000, multiplier=Decimal("2"))
    for kind, name, params in (
        ("cashback", "5% back on every paid order", {"percent": "5"}),
        ("welcome", "Welcome bonus", {"points": 300}),
        ("nth_order_gift", "A gift on every fifth order", {"n": 5, "points": 1000}),
        ("referral", "Invite a friend", {"referrer_points": 500, "referred_points": 300}),
        ("referral_milestone", "Three friends who bought", {"friends": 3, "points": 3000}),
    ):
        rule_create(actor=ctx.actor, program=program, kind=kind, name=name, params=params)
