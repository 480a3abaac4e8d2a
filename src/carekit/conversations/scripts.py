"""Guided scripts: a checklist of suggested steps in the agent's sidebar, with authority limits by role.

A step may carry `points`, the compensation it grants when ticked (through loyalty's
`compensation_grant`, key `script:<script>:<step>`, so one tick grants once whoever retries). Each role
may grant up to its limit: a role missing from the script's limits takes the highest limit of the roles
below it (a supervisor is at least an agent); owners and admins not named have no limit. A step above
the ticking member's limit is refused with `needs_lead` and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.accounts import public as accounts
from carekit.conversations import realtime
from carekit.conversations.enums import ActivityKind, CompensationOutcome
from carekit.conversations.errors import NotFound
from carekit.conversations.models import Conversation, Script, ScriptTick
from carekit.conversations.services import _activity
from carekit.core.errors import Conflict, DomainError, NotAllowed
from carekit.core.events import Actor, emit
from carekit.loyalty import public as loyalty

ROLE_RANK = ("agent", "supervisor", "admin", "owner")
UNLIMITED_ROLES = ("admin", "owner")
ISSUER = "conversations.script"
MAX_STEPS = 30


class NeedsLead(NotAllowed):
    code = "needs_lead"


def limit_for(role: str, limits: Mapping[str, Any]) -> int | None:
    """The most points `role` may grant under these limits; None means no limit."""
    if role in limits:
        return int(limits[role])
    if role not in ROLE_RANK:
        return 0
    if role in UNLIMITED_ROLES:
        return None
    below = [int(limits[r]) for r in ROLE_RANK[: ROLE_RANK.index(role)] if r in limits]
    return max(below) if below else 0


def clean_steps(raw: Sequence[Any]) -> list[dict[str, Any]]:
    steps = []
    for item in list(raw)[:MAX_STEPS]:
        if isinstance(item, Mapping):
            text, points = str(item.get("text") or "").strip(), int(item.get("points") or 0)
        else:
            text, points = str(item).strip(), 0
        if text:
            steps.append({"text": text[:300], "points": max(points, 0)})
    if not steps:
        raise DomainError(_("A script needs at least one step."), field="steps")
    return steps


def script_create(
    *,
    actor: Actor,
    conversation: Conversation,
    steps: Sequence[Any],
    limits: Mapping[str, Any] | None = None,
    title: str = "",
    source: str = "",
    at: datetime | None = None,
) -> Script:
    at = at or timezone.now()
    clean_limits = {str(k): int(v) for k, v in (limits or {}).items()}
    script = Script.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        title=title[:200],
        steps=clean_steps(steps),
        limits=clean_limits,
        source=source[:60],
        created_at=at,
    )
    _activity(conversation, ActivityKind.SCRIPT, actor, at, script_id=script.public_id)
    emit(
        workspace_id=conversation.workspace_id,
        type="conversations.script.suggested",
        subject_type="conversation",
        subject_id=conversation.public_id,
        actor=actor,
        payload={
            "conversation_id": conversation.public_id,
            "script_id": script.public_id,
            "steps": len(script.steps),
        },
        occurred_at=at,
    )
    realtime.conversation_changed(conversation, kind="script")
    return script


def script_tick(
    *, actor: Actor, script: Script, index: int, member: accounts.AgentRef, at: datetime | None = None
) -> ScriptTick:
    """Tick one step as done by `member`; a step with points grants them, within the member's limit."""
    at = at or timezone.now()
    if not 0 <= index < len(script.steps):
        raise NotFound(_("Unknown step."), field="index")
    step = script.steps[index]
    points = int(step.get("points") or 0)
    limit = limit_for(member.role, script.limits)
    if points and limit is not None and points > limit:
        raise NeedsLead(
            _("This step grants %(points)s points; your role may grant up to %(limit)s. Ask a team lead.")
            % {"points": points, "limit": limit},
            field="index",
        )
    conv = script.conversation
    try:
        with transaction.atomic():
            tick = ScriptTick.objects.create(
                workspace_id=script.workspace_id,
                script=script,
                index=index,
                member_id=member.member_id,
                role=member.role,
                created_at=at,
            )
    except IntegrityError:
        raise Conflict(_("This step is already done."), code="already_done", field="index") from None
    if points:
        result = loyalty.compensation_grant(
            workspace_id=script.workspace_id,
            customer_id=conv.customer_id,
            reason=step["text"][:200],
            idempotency_key=f"script:{script.public_id}:{index}",
            issuer=ISSUER,
            actor=actor,
            points=points,
        )
        tick.outcome = CompensationOutcome(result.status)
        tick.compensation_id = result.compensation_id
        tick.refusal = result.refusal
        tick.save(update_fields=["outcome", "compensation_id", "refusal"])
    _activity(conv, ActivityKind.SCRIPT, actor, at, script_id=script.public_id, step=index)
    emit(
        workspace_id=script.workspace_id,
        type="conversations.script.step_done",
        subject_type="conversation",
        subject_id=conv.public_id,
        actor=actor,
        payload={
            "conversation_id": conv.public_id,
            "script_id": script.public_id,
            "step": index,
            "member_id": member.member_id,
            "points": points,
            "compensation": tick.outcome,
        },
        occurred_at=at,
    )
    realtime.conversation_changed(conv, kind="script")
    return tick


@dataclass(frozen=True)
class StepView:
    index: int
    text: str
    points: int
    done: bool
    done_by: str
    outcome: str
    needs_lead: bool  # above the viewer's limit and not done


@dataclass(frozen=True)
class ScriptView:
    script_id: str
    title: str
    limit: int | None  # the viewer's limit
    lead_needed: bool  # the viewer is an agent: steps above the limit need a team lead
    steps: list[StepView]


def scripts_for(conversation: Conversation, role: str) -> list[ScriptView]:
    """The conversation's scripts as the viewer (by role) sees them."""
    out = []
    for s in conversation.scripts.prefetch_related("ticks"):
        ticks = {t.index: t for t in s.ticks.all()}
        limit = limit_for(role, s.limits)
        steps = []
        for i, step in enumerate(s.steps):
            t = ticks.get(i)
            points = int(step.get("points") or 0)
            steps.append(
                StepView(
                    i,
                    step["text"],
                    points,
                    t is not None,
                    t.member_id if t else "",
                    t.outcome if t else "",
                    t is None and bool(points) and limit is not None and points > limit,
                )
            )
        out.append(ScriptView(s.public_id, s.title, limit, role == "agent", steps))
    return out
