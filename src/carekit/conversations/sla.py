"""SLA clocks: start, pause, resume, meet, warn, breach, compensate. Every step is a domain event
(`conversations.sla.<verb>`), so FRT, next-response time, resolution time and attainment can be
computed from the log.

Targets are business time: a clock consumes seconds only inside its calendar's working hours. A paused
clock (waiting on the customer) keeps what it consumed; resuming recomputes `due_at` from the rest.
Breaching is a conditional update (running → breached), so a breach job that runs twice acts once; the
compensation goes through `loyalty.public.compensation_grant` with the key `sla:<conversation>:<target>`,
so any second grant for the same key, from any issuer, is a duplicate.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max, Q
from django.utils import translation
from django.utils.translation import gettext as _

from carekit.accounts import public as accounts
from carekit.conversations import notify, realtime
from carekit.conversations.business_hours import Calendar, add_business_seconds, business_seconds_between
from carekit.conversations.enums import (
    PRIORITY_ORDER,
    AuthorKind,
    ClockState,
    CompensationOutcome,
    MessageClass,
    Priority,
    SlaTarget,
)
from carekit.conversations.models import BusinessCalendar, Conversation, SlaClock, SlaPolicy, TeamRouting
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.loyalty import public as loyalty

SLA_WARNING = "conversations.sla_warning"
SLA_BREACH = "conversations.sla_breach"
ISSUER = "conversations.sla"


def compensation_key(conversation: Conversation, target: str) -> str:
    return f"sla:{conversation.public_id}:{target}"


def policy_for(conversation: Conversation) -> SlaPolicy | None:
    for p in SlaPolicy.objects.filter(workspace_id=conversation.workspace_id, is_active=True).select_related(
        "calendar"
    ):
        if p.priority and p.priority != conversation.priority:
            continue
        if p.channel and p.channel != conversation.channel:
            continue
        if p.team_id and p.team_id != conversation.team_id:
            continue
        if p.customer_tag and p.customer_tag not in conversation.tags:
            continue
        return p
    return None


def _calendar_row(policy: SlaPolicy, conversation: Conversation) -> BusinessCalendar | None:
    if policy.calendar is not None:
        return policy.calendar
    if conversation.team_id:
        row = (
            TeamRouting.objects.filter(workspace_id=conversation.workspace_id, team_id=conversation.team_id)
            .select_related("calendar")
            .first()
        )
        if row is not None:
            return row.calendar
    return None


def calendar_for(policy: SlaPolicy, conversation: Conversation) -> Calendar:
    row = _calendar_row(policy, conversation)
    if row is None:
        return Calendar.always()
    return Calendar.of(row.time_zone, row.hours, row.holidays)


def _emit(
    clock: SlaClock, conversation: Conversation, verb: str, actor: Actor, at: datetime, **extra
) -> None:
    emit(
        workspace_id=conversation.workspace_id,
        type=f"conversations.sla.{verb}",
        subject_type="conversation",
        subject_id=conversation.public_id,
        actor=actor,
        payload={
            "conversation_id": conversation.public_id,
            "target": clock.target,
            "cycle": clock.cycle,
            "policy_id": clock.policy.public_id,
            **extra,
        },
        occurred_at=at,
    )


def _schedule(clock: SlaClock, cal: Calendar, at: datetime) -> None:
    remaining = max(clock.target_seconds - clock.consumed_seconds, 0)
    clock.running_since = at
    clock.due_at = add_business_seconds(cal, at, remaining)
    if clock.warned_at is None:
        policy = clock.policy
        warn_total = clock.target_seconds * policy.warn_at_percent / 100
        clock.warn_at = add_business_seconds(cal, at, max(warn_total - clock.consumed_seconds, 0))


def clock_start(
    *, actor: Actor, conversation: Conversation, target: str, at: datetime, policy: SlaPolicy | None = None
) -> SlaClock | None:
    """Start the target's clock under the conversation's policy (nothing if no policy sets it)."""
    policy = policy or policy_for(conversation)
    if policy is None or not policy.minutes_for(target):
        return None
    existing = SlaClock.objects.filter(conversation=conversation, target=target)
    if existing.filter(state__in=[ClockState.RUNNING, ClockState.PAUSED]).exists():
        return None
    if target == SlaTarget.FIRST_RESPONSE and existing.exclude(state=ClockState.CANCELLED).exists():
        return None  # a conversation has one first response
    cycle = (existing.aggregate(n=Max("cycle"))["n"] or 0) + 1
    clock = SlaClock(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        policy=policy,
        target=target,
        cycle=cycle,
        target_seconds=int(policy.minutes_for(target) or 0) * 60,
        started_at=at,
    )
    _schedule(clock, calendar_for(policy, conversation), at)
    clock.save()
    _emit(
        clock, conversation, "started", actor, at, due_at=clock.due_at.isoformat() if clock.due_at else None
    )
    return clock


def clocks_start_new(*, actor: Actor, conversation: Conversation, at: datetime) -> None:
    policy = policy_for(conversation)
    if policy is None:
        return
    for target in (SlaTarget.FIRST_RESPONSE, SlaTarget.RESOLUTION):
        clock_start(actor=actor, conversation=conversation, target=target, at=at, policy=policy)


def _consume(clock: SlaClock, conversation: Conversation, at: datetime) -> None:
    if clock.state == ClockState.RUNNING and clock.running_since is not None:
        cal = calendar_for(clock.policy, conversation)
        clock.consumed_seconds += business_seconds_between(cal, clock.running_since, at)
    clock.running_since = None


def _live(conversation: Conversation, *targets: str):
    qs = SlaClock.objects.select_related("policy").filter(
        conversation=conversation, state__in=[ClockState.RUNNING, ClockState.PAUSED]
    )
    if targets:
        qs = qs.filter(target__in=targets)
    return list(qs.order_by("pk"))


def clock_meet(*, actor: Actor, conversation: Conversation, target: str, at: datetime) -> None:
    for clock in _live(conversation, target):
        _consume(clock, conversation, at)
        clock.state = ClockState.MET
        clock.stopped_at = at
        clock.due_at = None
        clock.save()
        _emit(clock, conversation, "met", actor, at, business_seconds=clock.consumed_seconds)


def clocks_finish(*, actor: Actor, conversation: Conversation, at: datetime) -> None:
    """On resolve or close: the resolution clock is met, response clocks no longer apply."""
    for clock in _live(conversation):
        _consume(clock, conversation, at)
        clock.state = ClockState.MET if clock.target == SlaTarget.RESOLUTION else ClockState.CANCELLED
        clock.stopped_at = at
        clock.due_at = None
        clock.save()
        verb = "met" if clock.state == ClockState.MET else "cancelled"
        _emit(clock, conversation, verb, actor, at, business_seconds=clock.consumed_seconds)


def clocks_pause(*, actor: Actor, conversation: Conversation, at: datetime) -> None:
    for clock in _live(conversation):
        if clock.state != ClockState.RUNNING:
            continue
        _consume(clock, conversation, at)
        clock.state = ClockState.PAUSED
        clock.due_at = None
        clock.save()
        _emit(clock, conversation, "paused", actor, at, business_seconds=clock.consumed_seconds)


def clocks_resume(*, actor: Actor, conversation: Conversation, at: datetime) -> None:
    for clock in _live(conversation):
        if clock.state != ClockState.PAUSED:
            continue
        clock.state = ClockState.RUNNING
        _schedule(clock, calendar_for(clock.policy, conversation), at)
        clock.save()
        _emit(
            clock,
            conversation,
            "resumed",
            actor,
            at,
            due_at=clock.due_at.isoformat() if clock.due_at else None,
        )


def clocks_repolicy(*, actor: Actor, conversation: Conversation, at: datetime) -> None:
    """After a transfer (e.g. an escalation to a specialist team with its own SLA): if another policy now
    applies, live clocks under the old one are cancelled and the new policy's clocks start now."""
    policy = policy_for(conversation)
    live = _live(conversation)
    if not live or policy is None or all(c.policy_id == policy.pk for c in live):
        return
    targets = [c.target for c in live]
    for clock in live:
        _consume(clock, conversation, at)
        clock.state = ClockState.CANCELLED
        clock.stopped_at = at
        clock.due_at = None
        clock.save()
        _emit(
            clock,
            conversation,
            "cancelled",
            actor,
            at,
            business_seconds=clock.consumed_seconds,
            reason="policy",
        )
    for target in targets:
        clock_start(actor=actor, conversation=conversation, target=target, at=at, policy=policy)


# --- warnings and breaches (run by the periodic job, one clock per transaction) ----------------------


def due_to_warn(at: datetime) -> list[int]:
    return list(
        SlaClock.objects.filter(state=ClockState.RUNNING, warned_at__isnull=True, warn_at__lte=at)
        .order_by("warn_at")
        .values_list("pk", flat=True)[:1000]
    )


def due_to_breach(at: datetime) -> list[int]:
    return list(
        SlaClock.objects.filter(state=ClockState.RUNNING, due_at__lte=at)
        .order_by("due_at")
        .values_list("pk", flat=True)[:1000]
    )


def _watchers(conversation: Conversation) -> list[str]:
    """Who hears about SLA trouble: the assignee, else the workspace's supervisors and admins."""
    agents = accounts.agents(conversation.workspace_id)
    if conversation.assignee_id:
        mine = [a.user_id for a in agents if a.member_id == conversation.assignee_id]
        if mine:
            return mine
    return [a.user_id for a in agents if a.role in {"owner", "admin", "supervisor"}]


def clock_warn(*, actor: Actor, clock_id: int, at: datetime) -> bool:
    if not SlaClock.objects.filter(
        pk=clock_id, state=ClockState.RUNNING, warned_at__isnull=True, warn_at__lte=at
    ).update(warned_at=at):
        return False
    clock = SlaClock.objects.select_related("policy", "conversation").get(pk=clock_id)
    conv = clock.conversation
    _emit(clock, conv, "warned", actor, at, due_at=clock.due_at.isoformat() if clock.due_at else None)
    users = _watchers(conv)
    if users:
        notify.notify(
            actor=actor,
            workspace_id=conv.workspace_id,
            user_ids=users,
            kind=SLA_WARNING,
            subject_type="conversation",
            subject_id=conv.public_id,
            params={"conversation": conv.public_id, "target": clock.target},
        )
    realtime.conversation_changed(conv, kind="sla")
    return True


def clock_breach(*, actor: Actor, clock_id: int, at: datetime) -> bool:
    """Breach a due clock once, then run the policy's actions. False if it was not due (or done)."""
    if not SlaClock.objects.filter(pk=clock_id, state=ClockState.RUNNING, due_at__lte=at).update(
        state=ClockState.BREACHED, stopped_at=at
    ):
        return False
    clock = SlaClock.objects.select_related("policy", "conversation").get(pk=clock_id)
    conv = Conversation.objects.select_for_update().get(pk=clock.conversation_id)
    policy = clock.policy
    _emit(clock, conv, "breached", actor, at, due_at=clock.due_at.isoformat() if clock.due_at else None)
    users = _watchers(conv)
    if policy.notify and users:
        notify.notify(
            actor=actor,
            workspace_id=conv.workspace_id,
            user_ids=users,
            kind=SLA_BREACH,
            subject_type="conversation",
            subject_id=conv.public_id,
            params={"conversation": conv.public_id, "target": clock.target},
        )
    if policy.raise_priority:
        i = PRIORITY_ORDER.index(Priority(conv.priority))
        if i + 1 < len(PRIORITY_ORDER):
            from carekit.conversations.lifecycle import conversation_set_priority

            conversation_set_priority(actor=actor, conversation=conv, priority=PRIORITY_ORDER[i + 1], at=at)
    if policy.escalate_team_id and policy.escalate_team_id != conv.team_id:
        from carekit.conversations.lifecycle import conversation_transfer

        conversation_transfer(actor=actor, conversation=conv, team_id=policy.escalate_team_id, at=at)
    if policy.compensate_points or policy.compensate_coupon:
        sla_compensate(actor=actor, clock=clock, conversation=conv, at=at)
    realtime.conversation_changed(conv, kind="sla")
    return True


def sla_compensate(*, actor: Actor, clock: SlaClock, conversation: Conversation, at: datetime) -> str:
    """Compensate the customer for this breach through loyalty (the single path, keyed per conversation
    and target), record the answer on the clock, and on a grant tell the customer in the conversation."""
    policy = clock.policy
    result = loyalty.compensation_grant(
        workspace_id=conversation.workspace_id,
        customer_id=conversation.customer_id,
        reason=f"SLA {clock.target} breached",
        idempotency_key=compensation_key(conversation, clock.target),
        issuer=ISSUER,
        actor=actor,
        points=policy.compensate_points,
        coupon_template=policy.compensate_coupon or None,
    )
    clock.compensation = result.status
    clock.compensation_id = result.compensation_id
    clock.compensation_refusal = result.refusal
    clock.save(update_fields=["compensation", "compensation_id", "compensation_refusal"])
    verb = "compensation_refused" if result.status == CompensationOutcome.REFUSED else "compensated"
    _emit(
        clock,
        conversation,
        verb,
        actor,
        at,
        compensation_id=result.compensation_id,
        status=result.status,
        refusal=result.refusal,
        points=result.points,
    )
    if result.status == CompensationOutcome.GRANTED:
        _post_notice(actor, conversation, result, at)
    return result.status


def _post_notice(
    actor: Actor, conversation: Conversation, result: loyalty.CompensationResult, at: datetime
) -> None:
    from carekit.conversations.services import message_send

    language = (
        conversation.language
        or Workspace.objects.only("default_language").get(pk=conversation.workspace_id).default_language
    )
    with translation.override(language):
        parts = [_("We are sorry: we did not answer as fast as we promised.")]
        if result.points:
            parts.append(_("We have added %(points)s points to your account.") % {"points": result.points})
        if result.coupon_code:
            parts.append(_("Here is your coupon: %(code)s") % {"code": result.coupon_code})
        text = " ".join(parts)
    # Class "reply": it answers the message the customer is waiting on, so quiet hours never hold it.
    message_send(
        actor=actor,
        conversation=conversation,
        text=text,
        message_class=MessageClass.REPLY,
        author_kind=AuthorKind.SYSTEM,
        at=at,
    )


def at_risk_filter() -> Q:
    """Conversations whose running clock has already passed its warning point."""
    return Q(clocks__state=ClockState.RUNNING, clocks__warned_at__isnull=False)
