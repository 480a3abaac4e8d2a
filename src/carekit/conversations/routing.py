"""Routing: ordered rules give a new conversation its team and priority; assignment inside the team by
least load or round robin, within each online agent's capacity (per channel if set).

Agent rows are locked in primary-key order before loads are counted, so two concurrent assignments
cannot both take an agent's last slot (PostgreSQL; SQLite serialises writers anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.accounts import public as accounts
from carekit.conversations.enums import (
    ACTIVE_STATUSES,
    ActivityKind,
    AssignmentStrategy,
    ConversationStatus,
    Presence,
)
from carekit.conversations.errors import NotFound
from carekit.conversations.models import Activity, AgentState, Conversation, RoutingRule, TeamRouting
from carekit.core.errors import DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.customers import public as customers

FILL_BATCH = 50

# Predicates (workspace id, channel kind) -> bool registered by a first-line responder (the bot): a new
# conversation on such a channel is held (`bot_active`) and not assigned until the responder hands off.
_FIRST_LINE: list[Callable[[int, str], bool]] = []


def register_first_line(predicate: Callable[[int, str], bool]) -> None:
    if predicate not in _FIRST_LINE:
        _FIRST_LINE.append(predicate)


def first_line_holds(workspace_id: int, channel: str) -> bool:
    return any(p(workspace_id, channel) for p in _FIRST_LINE)


def rule_matches(
    rule: RoutingRule, conversation: Conversation, text: str, intent: str, tags: set[str] | None = None
) -> bool:
    """`tags`: the conversation's and its customer's tags (the conversation's alone when not given)."""
    if rule.channel and rule.channel != conversation.channel:
        return False
    if rule.language and rule.language != conversation.language:
        return False
    if rule.tags and not set(rule.tags) <= (tags if tags is not None else set(conversation.tags)):
        return False
    if rule.intent and rule.intent != intent:
        return False
    if rule.keywords:
        lowered = text.lower()
        if not any(k.lower() in lowered for k in rule.keywords):
            return False
    return True


def route_new(*, actor: Actor, conversation: Conversation, text: str, intent: str = "", at: datetime) -> None:
    """Apply the first matching rule, then try to assign; with no free agent the conversation waits."""
    rules = list(RoutingRule.objects.filter(workspace_id=conversation.workspace_id, is_active=True))
    tags = set(conversation.tags)
    if any(r.tags for r in rules):  # the customer's tags count too ("vip" customers to the VIP team)
        facts = customers.customer_facts(conversation.workspace_id, conversation.customer_id)
        tags |= set(facts.tags) if facts else set()
    rule = next((r for r in rules if rule_matches(r, conversation, text, intent, tags)), None)
    if rule is not None:
        if rule.team_id:
            conversation.team_id = rule.team_id
        if rule.priority:
            conversation.priority = rule.priority
        conversation.required_skill = rule.skill
        conversation.save(update_fields=["team_id", "priority", "required_skill"])
        Activity.objects.create(
            workspace_id=conversation.workspace_id,
            conversation=conversation,
            kind=ActivityKind.TRANSFERRED,
            actor=str(actor)[:80],
            data={
                "rule_id": rule.public_id,
                "team_id": conversation.team_id,
                "priority": conversation.priority,
                "skill": conversation.required_skill,
            },
            created_at=at,
        )
        emit(
            workspace_id=conversation.workspace_id,
            type="conversations.conversation.routed",
            subject_type="conversation",
            subject_id=conversation.public_id,
            actor=actor,
            payload={
                "conversation_id": conversation.public_id,
                "rule_id": rule.public_id,
                "team_id": conversation.team_id,
                "priority": conversation.priority,
            },
            occurred_at=at,
        )
    assign_next(actor=actor, conversation=conversation, at=at)


def _pool(workspace_id: int, team_id: str) -> list[str] | None:
    """Member ids that may take the team's conversations; None means every agent."""
    if not team_id:
        return None
    team = next((t for t in accounts.teams(workspace_id) if t.team_id == team_id), None)
    return list(team.member_ids) if team else []


def loads(workspace_id: int, member_ids: list[str]) -> dict[str, dict[str, int]]:
    """Active conversations per agent and channel: {member_id: {channel: n}}."""
    out: dict[str, dict[str, int]] = {m: {} for m in member_ids}
    rows = (
        Conversation.objects.filter(
            workspace_id=workspace_id, assignee_id__in=member_ids, status__in=ACTIVE_STATUSES
        )
        .values("assignee_id", "channel")
        .annotate(n=Count("id"))
    )
    for row in rows:
        out[row["assignee_id"]][row["channel"]] = row["n"]
    return out


def has_room(state: AgentState, load: dict[str, int], channel: str) -> bool:
    if channel in state.channel_capacity:
        return load.get(channel, 0) < state.capacity_for(channel)
    return sum(load.values()) < state.capacity


def assign_next(*, actor: Actor, conversation: Conversation, at: datetime) -> str | None:
    """Assign to the best online agent with room; returns the member id, or None (it waits)."""
    from carekit.conversations import lifecycle

    if conversation.assignee_id or conversation.status != ConversationStatus.OPEN:
        return conversation.assignee_id or None
    if conversation.bot_active:
        return None
    pool = _pool(conversation.workspace_id, conversation.team_id)
    states = AgentState.objects.select_for_update().filter(
        workspace_id=conversation.workspace_id, presence=Presence.ONLINE
    )
    if pool is not None:
        states = states.filter(member_id__in=pool)
    candidates = list(states.order_by("pk"))
    if conversation.required_skill:
        candidates = [s for s in candidates if conversation.required_skill in (s.skills or [])]
    if not candidates:
        return None
    load = loads(conversation.workspace_id, [s.member_id for s in candidates])
    free = [s for s in candidates if has_room(s, load[s.member_id], conversation.channel)]
    if not free:
        return None
    strategy = (
        TeamRouting.objects.filter(workspace_id=conversation.workspace_id, team_id=conversation.team_id)
        .values_list("strategy", flat=True)
        .first()
        if conversation.team_id
        else None
    ) or AssignmentStrategy.LEAST_LOAD
    never = datetime(1970, 1, 1, tzinfo=UTC)
    if strategy == AssignmentStrategy.ROUND_ROBIN:
        best = min(free, key=lambda s: (s.last_assigned_at or never, s.pk))
    else:
        best = min(free, key=lambda s: (sum(load[s.member_id].values()), s.last_assigned_at or never, s.pk))
    lifecycle.conversation_assign(actor=actor, conversation=conversation, assignee_id=best.member_id, at=at)
    return best.member_id


def note_assigned(workspace_id: int, member_id: str, at: datetime) -> None:
    AgentState.objects.filter(workspace_id=workspace_id, member_id=member_id).update(last_assigned_at=at)


def fill_slots(*, actor: Actor, workspace_id: int, at: datetime) -> int:
    """Give waiting (open, unassigned) conversations to agents with room, oldest first."""
    waiting = list(
        Conversation.objects.filter(
            workspace_id=workspace_id, status=ConversationStatus.OPEN, assignee_id="", bot_active=False
        ).order_by("created_at", "pk")[:FILL_BATCH]
    )
    n = 0
    # (team, skill) pools with no free agent: later conversations of theirs wait too
    full: set[tuple[str, str]] = set()
    for conv in waiting:
        pool = (conv.team_id, conv.required_skill)
        if pool in full:
            continue
        if assign_next(actor=actor, conversation=conv, at=at):
            n += 1
        else:
            full.add(pool)
    return n


def presence_set(
    *,
    actor: Actor,
    workspace: Workspace,
    member_id: str,
    presence: str,
    capacity: int | None = None,
    channel_capacity: dict[str, int] | None = None,
    skills: list[str] | None = None,
    at: datetime | None = None,
) -> AgentState:
    """Set an agent's presence (and optionally capacity and skills); going online pulls waiting
    conversations."""
    at = at or timezone.now()
    agent = next((a for a in accounts.agents(workspace.pk) if a.member_id == member_id), None)
    if agent is None:
        raise NotFound(_("Unknown agent."), field="member_id")
    state, _created = AgentState.objects.get_or_create(
        workspace=workspace, member_id=member_id, defaults={"user_id": agent.user_id}
    )
    previous = state.presence
    state.presence = Presence(presence)
    state.user_id = agent.user_id
    state.last_seen_at = at
    if capacity is not None:
        if capacity < 0 or capacity > 100:
            raise DomainError(_("Capacity must be between 0 and 100."), field="capacity")
        state.capacity = capacity
    if channel_capacity is not None:
        state.channel_capacity = {k: int(v) for k, v in channel_capacity.items()}
    if skills is not None:
        state.skills = sorted({s.strip()[:60] for s in skills if s.strip()})
    state.save()
    emit(
        workspace_id=workspace.pk,
        type="conversations.agent.presence_changed",
        subject_type="member",
        subject_id=member_id,
        actor=actor,
        payload={
            "member_id": member_id,
            "presence": state.presence,
            "previous": previous,
            "capacity": state.capacity,
            "skills": state.skills,
        },
        occurred_at=at,
    )
    if state.presence == Presence.ONLINE:
        fill_slots(actor=actor, workspace_id=workspace.pk, at=at)
    return state


def agent_seen(workspace_id: int, member_id: str, at: datetime | None = None) -> None:
    """An agent's page was active: refresh the auto-away clock (no event: this is not a decision)."""
    AgentState.objects.filter(workspace_id=workspace_id, member_id=member_id).update(
        last_seen_at=at or timezone.now()
    )


def agents_auto_away(*, actor: Actor, at: datetime | None = None) -> int:
    from carekit.conversations.services import settings_for

    at = at or timezone.now()
    n = 0
    for state in AgentState.objects.filter(presence=Presence.ONLINE).select_related("workspace")[:1000]:
        minutes = settings_for(state.workspace_id).auto_away_minutes
        if state.last_seen_at and state.last_seen_at < at - timedelta(minutes=minutes):
            presence_set(
                actor=actor,
                workspace=state.workspace,
                member_id=state.member_id,
                presence=Presence.AWAY,
                at=at,
            )
            n += 1
    return n


def rule_create(*, actor: Actor, workspace: Workspace, **fields: object) -> RoutingRule:
    rule = RoutingRule.objects.create(workspace=workspace, **fields)
    emit(
        workspace_id=workspace.pk,
        type="conversations.routing_rule.created",
        subject_type="routing_rule",
        subject_id=rule.public_id,
        actor=actor,
        payload={"rule_id": rule.public_id, "team_id": rule.team_id, "priority": rule.priority},
    )
    return rule


def team_routing_set(*, actor: Actor, workspace: Workspace, team_id: str, strategy: str) -> TeamRouting:
    row, _created = TeamRouting.objects.update_or_create(
        workspace=workspace, team_id=team_id, defaults={"strategy": AssignmentStrategy(strategy)}
    )
    emit(
        workspace_id=workspace.pk,
        type="conversations.team_routing.updated",
        subject_type="team",
        subject_id=team_id,
        actor=actor,
        payload={"team_id": team_id, "strategy": row.strategy},
    )
    return row
