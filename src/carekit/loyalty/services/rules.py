"""Rules on order events and the counting rule.

Counting: only paid, not cancelled, not fully returned orders count. An order's number is fixed when
it is paid (`counted_number`), so "from the 3rd purchase" means the order that becomes the 3rd counted
one gets the discount (the quote sees 2 counted orders before it). A later return lowers the count for
future orders but never claws back a discount already used; milestone rewards (every N-th order,
referral milestones) are keyed by the milestone, so reaching the same number again does not pay twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F, Sum
from django.utils import timezone

from carekit.core.events import Actor
from carekit.loyalty.enums import EntryKind, OrderState, ReferralStatus, Rounding, RuleKind
from carekit.loyalty.errors import InvalidAmount, LoyaltyError
from carekit.loyalty.models import Account, LedgerEntry, OrderFact, Program, Referral, Rule
from carekit.loyalty.services import coupons, ledger, tiers
from carekit.loyalty.services.coupons import BasketItem

ZERO = Decimal("0")
PAID_LIKE = {"paid", "shipped", "delivered"}
RULE_PARAMS: dict[str, set[str]] = {
    RuleKind.CASHBACK: {"percent", "categories", "skus", "tags"},
    RuleKind.NTH_ORDER_GIFT: {"n", "points", "campaign_id"},
    RuleKind.DISCOUNT_FROM_KTH: {"k", "percent"},
    RuleKind.WELCOME: {"points"},
    RuleKind.BIRTHDAY: {"points"},
    RuleKind.REFERRAL: {"referrer_points", "referred_points"},
    RuleKind.REFERRAL_MILESTONE: {"friends", "points"},
}


def _positive_int(params: dict[str, Any], name: str, *, required: bool = True) -> None:
    value = params.get(name)
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidAmount(f"{name} must be a whole number from 1.", field=f"params.{name}")


def _percent(params: dict[str, Any]) -> None:
    try:
        value = Decimal(str(params.get("percent")))
    except ArithmeticError as exc:
        raise InvalidAmount("percent must be a number.", field="params.percent") from exc
    if not value.is_finite() or not ZERO < value <= 100:
        raise InvalidAmount("percent must be above 0 and at most 100.", field="params.percent")


def validate_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    if kind not in RULE_PARAMS:
        raise InvalidAmount("Unknown rule kind.", field="kind")
    unknown = set(params) - RULE_PARAMS[kind]
    if unknown:
        raise InvalidAmount(f"Unknown parameters: {', '.join(sorted(unknown))}", field="params")
    if kind in {RuleKind.CASHBACK, RuleKind.DISCOUNT_FROM_KTH}:
        _percent(params)
    if kind == RuleKind.DISCOUNT_FROM_KTH:
        _positive_int(params, "k")
    if kind == RuleKind.NTH_ORDER_GIFT:
        _positive_int(params, "n")
        _positive_int(params, "points", required=not params.get("campaign_id"))
    if kind in {RuleKind.WELCOME, RuleKind.BIRTHDAY, RuleKind.REFERRAL_MILESTONE}:
        _positive_int(params, "points")
    if kind == RuleKind.REFERRAL_MILESTONE:
        _positive_int(params, "friends")
    if kind == RuleKind.REFERRAL:
        _positive_int(params, "referrer_points", required=False)
        _positive_int(params, "referred_points", required=False)
    return params


def rule_create(
    *,
    actor: Actor,
    program: Program,
    kind: str,
    name: str,
    params: dict[str, Any],
    cap_points: int | None = None,
    cap_days: int = 30,
    budget_points: int | None = None,
) -> Rule:
    validate_params(kind, params)
    if kind == RuleKind.NTH_ORDER_GIFT and params.get("campaign_id"):
        coupons.campaign_find(program.workspace_id, params["campaign_id"])
    return Rule.objects.create(
        workspace_id=program.workspace_id,
        program=program,
        kind=kind,
        name=name.strip(),
        params=params,
        cap_points=cap_points,
        cap_days=cap_days,
        budget_points=budget_points,
    )


def rule_update(*, actor: Actor, rule: Rule, changes: dict[str, Any]) -> Rule:
    if "params" in changes:
        validate_params(rule.kind, changes["params"])
    for name in ("name", "active", "params", "cap_points", "cap_days", "budget_points"):
        if name in changes:
            setattr(rule, name, changes[name])
    rule.save()
    return rule


def _active(program: Program, kind: str) -> list[Rule]:
    return list(Rule.objects.filter(program=program, kind=kind, active=True).order_by("id"))


def _to_points(program: Program, money: Decimal) -> int:
    rounding = ROUND_HALF_UP if program.rounding == Rounding.HALF_UP else ROUND_FLOOR
    return int((money / program.point_value).to_integral_value(rounding=rounding))


def _rule_earn(
    *,
    actor: Actor,
    rule: Rule,
    account: Account,
    points: int,
    key: str,
    ref_type: str,
    ref_id: str,
    at: datetime,
    locked_until: datetime | None = None,
) -> LedgerEntry | None:
    """Earn under the rule's per-customer cap and budget; a re-delivered event finds its key and stops."""
    if points <= 0 or LedgerEntry.objects.filter(program_id=account.program_id, idempotency_key=key).exists():
        return None
    if rule.cap_points is not None:
        used = (
            LedgerEntry.objects.filter(
                account=account,
                rule=rule,
                kind=EntryKind.EARN,
                created_at__gte=at - timedelta(days=rule.cap_days),
            ).aggregate(n=Sum("points"))["n"]
            or 0
        )
        points = min(points, rule.cap_points - used)
        if points <= 0:
            return None
    if rule.budget_points is not None and not Rule.objects.filter(
        pk=rule.pk, budget_used__lte=F("budget_points") - points
    ).update(budget_used=F("budget_used") + points):
        return None
    return ledger.points_earn(
        actor=actor,
        account=account,
        points=points,
        idempotency_key=key,
        rule=rule,
        ref_type=ref_type,
        ref_id=ref_id,
        reason=rule.name,
        locked_until=locked_until,
        at=at,
    )


def counted_orders(workspace_id: int, customer_id: str) -> int:
    return OrderFact.objects.filter(
        workspace_id=workspace_id, customer_id=customer_id, state=OrderState.PAID
    ).count()


def kth_purchase_discount(
    *, program: Program, customer_id: str, basket: list[BasketItem]
) -> tuple[Rule | None, Decimal]:
    """The best "from the K-th purchase" discount for the order being checked out (the next counted one)."""
    rules = _active(program, RuleKind.DISCOUNT_FROM_KTH)
    if not rules:
        return None, ZERO
    upcoming = counted_orders(program.workspace_id, customer_id) + 1
    total = sum((i.amount for i in basket), ZERO)
    best: tuple[Rule | None, Decimal] = (None, ZERO)
    for rule in rules:
        if upcoming >= int(rule.params["k"]):
            discount = (total * Decimal(str(rule.params["percent"])) / 100).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            if discount > best[1]:
                best = (rule, discount)
    return best


def _cashback_base(rule: Rule, items: list[dict[str, Any]]) -> Decimal:
    cats, skus, tags = (set(rule.params.get(k) or []) for k in ("categories", "skus", "tags"))
    base = ZERO
    for item in items:
        if (
            (cats and item.get("category") not in cats)
            or (skus and item.get("sku") not in skus)
            or (tags and not tags.intersection(item.get("tags") or []))
        ):
            continue
        base += Decimal(str(item.get("price", "0"))) * int(item.get("quantity", 1))
    return base


def _on_paid(*, actor: Actor, program: Program, account: Account, fact: OrderFact, at: datetime) -> None:
    locked_until = at + timedelta(days=program.return_window_days) if program.return_window_days else None
    multiplier = account.tier.multiplier if account.tier else Decimal("1")
    for rule in _active(program, RuleKind.CASHBACK):
        money = _cashback_base(rule, fact.items) * Decimal(str(rule.params["percent"])) / 100 * multiplier
        _rule_earn(
            actor=actor,
            rule=rule,
            account=account,
            points=_to_points(program, money),
            key=f"order:{fact.order_id}:rule:{rule.pk}",
            ref_type="order",
            ref_id=fact.order_id,
            at=at,
            locked_until=locked_until,
        )
    number = fact.counted_number or 0
    for rule in _active(program, RuleKind.NTH_ORDER_GIFT):
        if number % int(rule.params["n"]):
            continue
        key = f"nth:{rule.pk}:{account.customer_id}:{number}"
        if rule.params.get("campaign_id"):
            campaign = coupons.campaign_find(program.workspace_id, rule.params["campaign_id"])
            coupons.coupon_issue(
                actor=actor, campaign=campaign, customer_id=account.customer_id, idempotency_key=key
            )
        if rule.params.get("points"):
            _rule_earn(
                actor=actor,
                rule=rule,
                account=account,
                points=int(rule.params["points"]),
                key=key,
                ref_type="milestone",
                ref_id=fact.order_id,
                at=at,
            )
    if number == 1:
        _qualify_referral(actor=actor, program=program, account=account, fact=fact, at=at)
    tiers.tier_upgrade(actor=actor, account=account, at=at)


def _qualify_referral(
    *, actor: Actor, program: Program, account: Account, fact: OrderFact, at: datetime
) -> None:
    referral = Referral.objects.filter(
        program=program, referred_customer_id=account.customer_id, status=ReferralStatus.PENDING
    ).first()
    if referral is None:
        return
    Referral.objects.filter(pk=referral.pk).update(
        status=ReferralStatus.QUALIFIED, qualified_order_id=fact.order_id
    )
    referrer = ledger.account_ensure(program=program, customer_id=referral.referrer_customer_id)
    for rule in _active(program, RuleKind.REFERRAL):
        _rule_earn(
            actor=actor,
            rule=rule,
            account=referrer,
            points=int(rule.params.get("referrer_points") or 0),
            key=f"referral:{referral.pk}:rule:{rule.pk}:referrer",
            ref_type="referral",
            ref_id=fact.order_id,
            at=at,
        )
        _rule_earn(
            actor=actor,
            rule=rule,
            account=account,
            points=int(rule.params.get("referred_points") or 0),
            key=f"referral:{referral.pk}:rule:{rule.pk}:referred",
            ref_type="referral",
            ref_id=fact.order_id,
            at=at,
        )
    friends = Referral.objects.filter(
        program=program, referrer_customer_id=referral.referrer_customer_id, status=ReferralStatus.QUALIFIED
    ).count()
    for rule in _active(program, RuleKind.REFERRAL_MILESTONE):
        if friends >= int(rule.params["friends"]):
            _rule_earn(
                actor=actor,
                rule=rule,
                account=referrer,
                points=int(rule.params["points"]),
                key=f"milestone:{rule.pk}:{referral.referrer_customer_id}",
                ref_type="milestone",
                ref_id=fact.order_id,
                at=at,
            )
    tiers.tier_upgrade(actor=actor, account=ledger.lock(referrer), at=at)


def _reverse_order(*, actor: Actor, fact: OrderFact, share: Decimal | None, key: str, at: datetime) -> None:
    """Reverse the order's accruals: all that is left of them, or `share` (0-1) of each."""
    for earn in LedgerEntry.objects.filter(
        workspace_id=fact.workspace_id, kind=EntryKind.EARN, ref_type="order", ref_id=fact.order_id
    ).order_by("id"):
        points = earn.points if share is None else int((earn.points * share).to_integral_value(ROUND_HALF_UP))
        if points > 0:
            ledger.earn_reverse(
                actor=actor, earn=earn, points=points, idempotency_key=f"{key}:{earn.pk}", reason=key, at=at
            )


def _fact(program: Program, payload: dict[str, Any]) -> tuple[OrderFact, Account]:
    order_id, customer_id = str(payload.get("order_id") or ""), str(payload.get("customer_id") or "")
    if not order_id or not customer_id:
        raise LoyaltyError("Order event without order or customer id.", code="bad_order_event")
    # The customer's account lock serialises everything that counts this customer's orders.
    account = ledger.lock(ledger.account_ensure(program=program, customer_id=customer_id))
    fact, _ = OrderFact.objects.get_or_create(
        workspace_id=program.workspace_id,
        order_id=order_id,
        defaults={
            "customer_id": customer_id,
            "total": Decimal(str(payload.get("total") or "0")),
            "items": payload.get("items") or [],
        },
    )
    return fact, account


def order_status_changed(
    *, actor: Actor, workspace_id: int, payload: dict[str, Any], at: datetime | None = None
) -> None:
    """Apply an order's status change to counting and accruals (idempotent by order state and keys)."""
    at = at or timezone.now()
    program = Program.objects.filter(workspace_id=workspace_id, active=True).first()
    if program is None:
        return
    fact, account = _fact(program, payload)
    to = payload.get("to")
    if to in PAID_LIKE and fact.state == OrderState.PLACED:
        fact.counted_number = counted_orders(workspace_id, fact.customer_id) + 1
        fact.state = OrderState.PAID
        fact.paid_at = fact.updated_at = at
        fact.save(update_fields=["counted_number", "state", "paid_at", "updated_at"])
        _on_paid(actor=actor, program=program, account=account, fact=fact, at=at)
    elif to in {"cancelled", "returned"} and fact.state in {OrderState.PLACED, OrderState.PAID}:
        was_paid = fact.state == OrderState.PAID
        fact.state = OrderState.CANCELLED if to == "cancelled" else OrderState.RETURNED
        fact.updated_at = at
        fact.save(update_fields=["state", "updated_at"])
        if was_paid:
            _reverse_order(actor=actor, fact=fact, share=None, key=f"order:{fact.order_id}:{to}", at=at)


def order_returned(
    *, actor: Actor, workspace_id: int, payload: dict[str, Any], at: datetime | None = None
) -> None:
    """A (partial) return reverses the same share of the order's accruals; a full one uncounts it."""
    at = at or timezone.now()
    program = Program.objects.filter(workspace_id=workspace_id, active=True).first()
    if program is None:
        return
    fact, _account = _fact(program, payload)
    return_id = str(payload.get("return_id") or "")
    amount = Decimal(str(payload.get("amount") or "0"))
    if not return_id or amount <= 0 or fact.state != OrderState.PAID or fact.total <= 0:
        return
    key = f"return:{return_id}"
    if LedgerEntry.objects.filter(program=program, idempotency_key__startswith=f"{key}:").exists():
        return
    share = min(amount / fact.total, Decimal("1"))
    fact.returned_amount += amount
    if fact.returned_amount >= fact.total:
        fact.state = OrderState.RETURNED
        share = Decimal("1")
    fact.updated_at = at
    fact.save(update_fields=["returned_amount", "state", "updated_at"])
    _reverse_order(actor=actor, fact=fact, share=None if share == 1 else share, key=key, at=at)


def customer_welcome(
    *, actor: Actor, workspace_id: int, customer_id: str, at: datetime | None = None
) -> None:
    at = at or timezone.now()
    program = Program.objects.filter(workspace_id=workspace_id, active=True).first()
    if program is None:
        return
    for rule in _active(program, RuleKind.WELCOME):
        account = ledger.account_ensure(program=program, customer_id=customer_id)
        _rule_earn(
            actor=actor,
            rule=rule,
            account=account,
            points=int(rule.params["points"]),
            key=f"welcome:{rule.pk}:{customer_id}",
            ref_type="welcome",
            ref_id=customer_id,
            at=at,
        )


def customer_birthday(
    *, actor: Actor, workspace_id: int, customer_id: str, year: int, at: datetime | None = None
) -> int:
    """The birthday bonus, once per customer and year. The customers context owns birth dates and calls
    this (through public) from its daily job; loyalty never stores the date. Returns points granted."""
    at = at or timezone.now()
    program = Program.objects.filter(workspace_id=workspace_id, active=True).first()
    if program is None:
        return 0
    granted = 0
    for rule in _active(program, RuleKind.BIRTHDAY):
        account = ledger.account_ensure(program=program, customer_id=customer_id)
        entry = _rule_earn(
            actor=actor,
            rule=rule,
            account=account,
            points=int(rule.params["points"]),
            key=f"birthday:{rule.pk}:{customer_id}:{year}",
            ref_type="birthday",
            ref_id=str(year),
            at=at,
        )
        granted += entry.points if entry else 0
    return granted
