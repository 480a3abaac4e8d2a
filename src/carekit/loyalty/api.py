"""Loyalty API: program, accounts, checkout, compensations, referrals, liability. Thin: parse, scope,
call one service inside the durable transaction, serialize. Settings routes live in api_settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from carekit.core.api import need, paginate
from carekit.core.errors import NotAllowed
from carekit.loyalty import public, selectors
from carekit.loyalty.api_settings import router as settings_router
from carekit.loyalty.models import Account, LedgerEntry, Quote
from carekit.loyalty.schemas import (
    AccountDetail,
    AccountOut,
    AccountPage,
    AdjustIn,
    CompensationIn,
    CompensationOut,
    CompensationPage,
    EntryPage,
    LiabilityOut,
    ProgramOut,
    ProgramPatch,
    QuoteIn,
    QuoteOut,
    RedeemIn,
    ReferralCodeOut,
    ReferralIn,
    ReferralOut,
    RefundIn,
)
from carekit.loyalty.services import checkout, ledger, programs, referrals

router = Router(tags=["loyalty"])
router.add_router("", settings_router)


def _program(p: Any) -> dict[str, Any]:
    return {"id": p.public_id, **{f: getattr(p, f) for f in ProgramOut.model_fields if f != "id"}}


def _account(a: Account) -> dict[str, Any]:
    return {
        "id": a.public_id,
        "customer_id": a.customer_id,
        "pending": a.pending,
        "available": a.available,
        "held": a.held,
        "debt": a.debt,
        "tier": a.tier.name if a.tier else None,
    }


def _entry(e: LedgerEntry) -> dict[str, Any]:
    return {
        "id": e.public_id,
        "kind": e.kind,
        "points": e.points,
        "d_pending": e.d_pending,
        "d_available": e.d_available,
        "d_held": e.d_held,
        "d_debt": e.d_debt,
        "ref_type": e.ref_type,
        "ref_id": e.ref_id,
        "reason": e.reason,
        "created_at": e.created_at,
    }


def _quote(q: Quote) -> dict[str, Any]:
    return {
        "id": q.public_id,
        "status": q.status,
        "account_id": q.account.public_id,
        "customer_id": q.account.customer_id,
        "basket_total": q.basket_total,
        "points": q.points,
        "points_discount": q.points_discount,
        "coupon_code": q.coupon.code if q.coupon else None,
        "coupon_discount": q.coupon_discount,
        "free_delivery": q.free_delivery,
        "gift": q.gift,
        "rule_discount": q.rule_discount,
        "total_discount": q.points_discount + q.coupon_discount + q.rule_discount,
        "points_refunded": q.points_refunded,
        "order_id": q.order_id,
        "expires_at": q.expires_at,
    }


@router.get("/loyalty/program", response=ProgramOut, summary="The workspace's loyalty program")
def get_program(request: HttpRequest) -> dict[str, Any]:
    p = need(request, "loyalty:read")
    with transaction.atomic(durable=True):
        return _program(programs.program_ensure(actor=p.actor, workspace_id=p.workspace_id))


@router.patch("/loyalty/program", response=ProgramOut, summary="Change program settings")
def patch_program(request: HttpRequest, body: ProgramPatch) -> dict[str, Any]:
    p = need(request, "loyalty:manage")
    with transaction.atomic(durable=True):
        prog = programs.program_ensure(actor=p.actor, workspace_id=p.workspace_id)
        prog = programs.program_update(
            actor=p.actor, program=prog, changes=body.model_dump(exclude_unset=True)
        )
    return _program(prog)


@router.get("/loyalty/accounts", response=AccountPage, summary="Accounts, optionally of one customer")
def list_accounts(
    request: HttpRequest, customer_id: str | None = None, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    p = need(request, "loyalty:read")
    qs = selectors.accounts(p.workspace_id)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    page = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_account(a) for a in page.items], "next_cursor": page.next_cursor}


@router.get("/loyalty/accounts/{account_id}", response=AccountDetail, summary="Balances and live lots")
def get_account(request: HttpRequest, account_id: str) -> dict[str, Any]:
    p = need(request, "loyalty:read")
    acc = selectors.account(p.workspace_id, account_id)
    lots = [
        {
            "points": lot.points,
            "remaining": lot.remaining,
            "pending": lot.pending,
            "unlock_at": lot.unlock_at,
            "expires_at": lot.expires_at,
        }
        for lot in selectors.live_lots(p.workspace_id, acc.pk)
    ]
    return {**_account(acc), "lots": lots}


@router.get("/loyalty/accounts/{account_id}/entries", response=EntryPage, summary="Ledger history")
def list_entries(
    request: HttpRequest, account_id: str, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    p = need(request, "loyalty:read")
    acc = selectors.account(p.workspace_id, account_id)
    page = paginate(selectors.entries(p.workspace_id, acc.pk), cursor=cursor, limit=limit)
    return {"items": [_entry(e) for e in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/loyalty/accounts/{account_id}/adjustments",
    response={201: AccountOut},
    summary="A support correction (credit or debit)",
)
def adjust(request: HttpRequest, account_id: str, body: AdjustIn) -> Status:
    p = need(request, "loyalty:manage")
    with transaction.atomic(durable=True):
        acc = selectors.account(p.workspace_id, account_id)
        ledger.points_adjust(
            actor=p.actor,
            account=acc,
            points=body.points,
            idempotency_key=body.idempotency_key,
            reason=body.reason,
        )
    return Status(201, _account(selectors.account(p.workspace_id, account_id)))


@router.post(
    "/loyalty/accounts/{account_id}/referral-code",
    response=ReferralCodeOut,
    summary="The account's referral code (created on first call)",
)
def referral_code(request: HttpRequest, account_id: str) -> dict[str, Any]:
    p = need(request, "loyalty:checkout")
    with transaction.atomic(durable=True):
        code = referrals.referral_code_get(
            actor=p.actor, account=selectors.account(p.workspace_id, account_id)
        )
    return {"code": code, "link": f"{settings.SITE_URL.rstrip('/')}/?ref={code}"}


@router.post(
    "/loyalty/referrals", response={201: ReferralOut}, summary="Attach a referred customer to a code"
)
def attach_referral(request: HttpRequest, body: ReferralIn) -> Status:
    p = need(request, "loyalty:checkout")
    with transaction.atomic(durable=True):
        prog = programs.program_ensure(actor=p.actor, workspace_id=p.workspace_id)
        ref = referrals.referral_attach(
            actor=p.actor, program=prog, code=body.code, referred_customer_id=body.customer_id
        )
    return Status(
        201,
        {
            "referrer_id": ref.referrer_customer_id,
            "referred_id": ref.referred_customer_id,
            "status": ref.status,
        },
    )


@router.post(
    "/loyalty/checkout/quotes",
    response={201: QuoteOut},
    summary="Price a basket: points allowed, coupon and rule discounts; holds the points",
)
def create_quote(request: HttpRequest, body: QuoteIn) -> Status:
    p = need(request, "loyalty:checkout")
    with transaction.atomic(durable=True):
        prog = programs.program_ensure(actor=p.actor, workspace_id=p.workspace_id)
        q = checkout.quote_create(
            actor=p.actor,
            program=prog,
            customer_id=body.customer_id,
            items=[i.model_dump() for i in body.items],
            points=body.points,
            coupon_code=body.coupon_code,
        )
    return Status(201, _quote(q))


@router.get("/loyalty/checkout/quotes/{quote_id}", response=QuoteOut)
def get_quote(request: HttpRequest, quote_id: str) -> dict[str, Any]:
    p = need(request, "loyalty:checkout")
    return _quote(selectors.quote(p.workspace_id, quote_id))


@router.post(
    "/loyalty/checkout/quotes/{quote_id}/redeem",
    response=QuoteOut,
    summary="Spend the quote's points and coupon (idempotency key required)",
)
def redeem_quote(request: HttpRequest, quote_id: str, body: RedeemIn) -> dict[str, Any]:
    p = need(request, "loyalty:checkout")
    with transaction.atomic(durable=True):
        q = checkout.quote_redeem(
            actor=p.actor,
            quote=selectors.quote(p.workspace_id, quote_id),
            idempotency_key=body.idempotency_key,
            order_id=body.order_id,
        )
    return _quote(q)


@router.post(
    "/loyalty/checkout/quotes/{quote_id}/cancel",
    response=QuoteOut,
    summary="Release an open quote or reverse a redeemed one completely",
)
def cancel_quote(request: HttpRequest, quote_id: str) -> dict[str, Any]:
    p = need(request, "loyalty:checkout")
    with transaction.atomic(durable=True):
        q = checkout.quote_cancel(actor=p.actor, quote=selectors.quote(p.workspace_id, quote_id))
    return _quote(q)


@router.post(
    "/loyalty/checkout/quotes/{quote_id}/refund",
    response=QuoteOut,
    summary="Give back some or all redeemed points",
)
def refund_quote(request: HttpRequest, quote_id: str, body: RefundIn) -> dict[str, Any]:
    p = need(request, "loyalty:checkout")
    with transaction.atomic(durable=True):
        q = checkout.quote_refund(
            actor=p.actor,
            quote=selectors.quote(p.workspace_id, quote_id),
            idempotency_key=body.idempotency_key,
            points=body.points,
        )
    return _quote(q)


@router.post(
    "/loyalty/compensations",
    response=CompensationOut,
    summary="Compensate a customer (once per key, within the cap and the budget)",
)
def grant_compensation(request: HttpRequest, body: CompensationIn) -> dict[str, Any]:
    p = need(request, "loyalty:compensate")
    with transaction.atomic(durable=True):
        limit = programs.program_ensure(actor=p.actor, workspace_id=p.workspace_id).agent_comp_max_points
        if body.points > limit and not p.has("loyalty:manage"):
            raise NotAllowed(
                "This is more than your role may grant.",
                code="over_role_limit",
                details={"max_points": limit},
            )
        result = public.compensation_grant(
            workspace_id=p.workspace_id,
            customer_id=body.customer_id,
            reason=body.reason,
            idempotency_key=body.idempotency_key,
            issuer=f"api:{p.actor}"[:60],
            actor=p.actor,
            points=body.points,
            coupon_template=body.coupon_template,
        )
    return {
        "status": result.status,
        "compensation_id": result.compensation_id,
        "refusal": result.refusal,
        "points": result.points,
        "coupon_code": result.coupon_code,
    }


@router.get("/loyalty/compensations", response=CompensationPage, summary="Granted and refused compensations")
def list_compensations(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "loyalty:read")
    page = paginate(selectors.compensations(p.workspace_id), cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "id": c.public_id,
                "customer_id": c.customer_id,
                "issuer": c.issuer,
                "status": c.status,
                "refusal": c.refusal,
                "points": c.points,
                "created_at": c.created_at,
            }
            for c in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.get("/loyalty/liability", response=LiabilityOut, summary="Outstanding points and what expires soon")
def liability(request: HttpRequest) -> dict[str, Any]:
    p = need(request, "loyalty:read")
    return selectors.liability(p.workspace_id)
