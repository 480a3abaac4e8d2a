"""Referral codes and links: a referrer's code, attached to a referred customer before their first
paid order; rewards are paid by the rules when that order is paid (services.rules)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from carekit.core.events import Actor, emit
from carekit.loyalty.enums import OrderState
from carekit.loyalty.errors import LoyaltyError, ReferralNotFound
from carekit.loyalty.models import Account, OrderFact, Program, Referral
from carekit.loyalty.services import coupons, ledger


def referral_code_get(*, actor: Actor, account: Account) -> str:
    """The account's referral code, generated once (unguessable, like coupon codes)."""
    if account.referral_code:
        return account.referral_code
    account = ledger.lock(account)
    if not account.referral_code:
        code = coupons.generate_code()[:10]
        Account.objects.filter(pk=account.pk).update(referral_code=code)
        account.referral_code = code
    return account.referral_code or ""


def referral_attach(*, actor: Actor, program: Program, code: str, referred_customer_id: str) -> Referral:
    """Link a new customer to the referrer whose code they used. Only before their first paid order,
    never to themselves, and only once."""
    normalized = coupons.normalize_code(code) if code else ""
    referrer = (
        Account.objects.filter(program=program, referral_code=normalized).first() if normalized else None
    )
    if referrer is None:
        raise ReferralNotFound("This referral code does not exist.", field="code")
    if referrer.customer_id == referred_customer_id:
        raise LoyaltyError("You cannot refer yourself.", field="code", code="referral_self")
    if (
        OrderFact.objects.filter(workspace_id=program.workspace_id, customer_id=referred_customer_id)
        .exclude(state=OrderState.PLACED)
        .exists()
    ):
        raise LoyaltyError("Referrals apply only before the first order.", code="referral_too_late")
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                workspace_id=program.workspace_id,
                program=program,
                referrer_customer_id=referrer.customer_id,
                referred_customer_id=referred_customer_id,
            )
    except IntegrityError:
        raise LoyaltyError("This customer was already referred.", code="referral_exists") from None
    emit(
        workspace_id=program.workspace_id,
        type="loyalty.referral.attached",
        subject_type="loyalty_account",
        subject_id=referrer.public_id,
        actor=actor,
        payload={"referrer_id": referrer.customer_id, "referred_id": referred_customer_id},
    )
    return referral
