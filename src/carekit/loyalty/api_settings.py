"""Loyalty settings API: coupon campaigns and codes, rules, tiers."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from carekit.core.api import need, paginate
from carekit.loyalty import selectors
from carekit.loyalty.models import Coupon, CouponCampaign, Rule, Tier
from carekit.loyalty.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CouponOut,
    CouponPage,
    IssueIn,
    PromoCodeIn,
    RuleIn,
    RuleOut,
    RulePage,
    RulePatch,
    TierIn,
    TierOut,
    TierPage,
)
from carekit.loyalty.services import coupons, programs, rules

router = Router(tags=["loyalty settings"])


def _campaign(c: CouponCampaign) -> dict[str, Any]:
    return {"id": c.public_id, **{f: getattr(c, f) for f in CampaignOut.model_fields if f != "id"}}


def _coupon(c: Coupon) -> dict[str, Any]:
    return {
        "id": c.public_id,
        "code": c.code,
        "campaign_id": c.campaign.public_id,
        "customer_id": c.customer_id,
        "max_uses": c.max_uses,
        "uses": c.uses,
    }


def _rule(r: Rule) -> dict[str, Any]:
    return {"id": r.public_id, **{f: getattr(r, f) for f in RuleOut.model_fields if f != "id"}}


def _tier(t: Tier) -> dict[str, Any]:
    return {"id": t.public_id, "name": t.name, "threshold": t.threshold, "multiplier": t.multiplier}


@router.get("/loyalty/campaigns", response=CampaignPage)
def list_campaigns(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "loyalty:read")
    page = paginate(selectors.campaigns(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_campaign(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/loyalty/campaigns", response={201: CampaignOut}, summary="A coupon campaign (template)")
def create_campaign(request: HttpRequest, body: CampaignIn) -> Status:
    p = need(request, "loyalty:manage")
    with transaction.atomic(durable=True):
        c = coupons.campaign_create(actor=p.actor, workspace_id=p.workspace_id, **body.model_dump())
    return Status(201, _campaign(c))


@router.post(
    "/loyalty/campaigns/{campaign_id}/codes",
    response={201: CouponOut},
    summary="A named promo code (stored normalized: case and spaces do not matter)",
)
def create_promo_code(request: HttpRequest, campaign_id: str, body: PromoCodeIn) -> Status:
    p = need(request, "loyalty:manage")
    with transaction.atomic(durable=True):
        c = coupons.promo_code_create(
            actor=p.actor,
            campaign=selectors.campaign(p.workspace_id, campaign_id),
            code=body.code,
            max_uses=body.max_uses,
        )
    return Status(201, _coupon(c))


@router.post(
    "/loyalty/campaigns/{campaign_id}/issue",
    response={201: CouponOut},
    summary="Issue an unguessable generated code to one customer",
)
def issue_coupon(request: HttpRequest, campaign_id: str, body: IssueIn) -> Status:
    p = need(request, "loyalty:manage")
    with transaction.atomic(durable=True):
        c = coupons.coupon_issue(
            actor=p.actor,
            campaign=selectors.campaign(p.workspace_id, campaign_id),
            customer_id=body.customer_id,
            idempotency_key=body.idempotency_key,
            max_uses=body.max_uses,
        )
    return Status(201, _coupon(c))


@router.get("/loyalty/coupons", response=CouponPage)
def list_coupons(
    request: HttpRequest, customer_id: str | None = None, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    p = need(request, "loyalty:read")
    qs = selectors.coupons(p.workspace_id)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    page = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_coupon(c) for c in page.items], "next_cursor": page.next_cursor}


@router.get("/loyalty/rules", response=RulePage)
def list_rules(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "loyalty:read")
    page = paginate(selectors.rules(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_rule(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post("/loyalty/rules", response={201: RuleOut})
def create_rule(request: HttpRequest, body: RuleIn) -> Status:
    p = need(request, "loyalty:manage")
    with transaction.atomic(durable=True):
        prog = programs.program_ensure(actor=p.actor, workspace_id=p.workspace_id)
        r = rules.rule_create(actor=p.actor, program=prog, **body.model_dump())
    return Status(201, _rule(r))


@router.patch("/loyalty/rules/{rule_id}", response=RuleOut)
def patch_rule(request: HttpRequest, rule_id: str, body: RulePatch) -> dict[str, Any]:
    p = need(request, "loyalty:manage")
    with transaction.atomic(durable=True):
        r = rules.rule_update(
            actor=p.actor,
            rule=selectors.rule(p.workspace_id, rule_id),
            changes=body.model_dump(exclude_unset=True),
        )
    return _rule(r)


@router.get("/loyalty/tiers", response=TierPage)
def list_tiers(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "loyalty:read")
    page = paginate(selectors.tiers(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_tier(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post("/loyalty/tiers", response={201: TierOut})
def create_tier(request: HttpRequest, body: TierIn) -> Status:
    p = need(request, "loyalty:manage")
    with transaction.atomic(durable=True):
        prog = programs.program_ensure(actor=p.actor, workspace_id=p.workspace_id)
        t = programs.tier_create(
            actor=p.actor, program=prog, name=body.name, threshold=body.threshold, multiplier=body.multiplier
        )
    return Status(201, _tier(t))
