"""Reads of the inbox; every selector takes the workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from carekit.conversations.enums import ACTIVE_STATUSES, ClockState, ConversationStatus, Presence
from carekit.conversations.models import (
    AgentState,
    ApiChannel,
    CannedResponse,
    Conversation,
    Message,
    Note,
    RoutingRule,
    SlaClock,
    SlaPolicy,
    Task,
)

VIEWS = ("mine", "unassigned", "team", "at_risk", "all")


def conversation(workspace_id: int, conversation_id: str) -> Conversation:
    """Raises Conversation.DoesNotExist for an id of another workspace (a 404, never a leak)."""
    return Conversation.objects.get(workspace_id=workspace_id, public_id=conversation_id)


def _at_risk(workspace_id: int) -> QuerySet[SlaClock]:
    return SlaClock.objects.filter(
        workspace_id=workspace_id, state=ClockState.RUNNING, warned_at__isnull=False
    )


def inbox(
    workspace_id: int,
    *,
    view: str = "all",
    member_id: str = "",
    team_ids: tuple[str, ...] = (),
    status: str = "",
    channel: str = "",
    priority: str = "",
) -> QuerySet[Conversation]:
    qs = Conversation.objects.filter(workspace_id=workspace_id)
    qs = qs.filter(status=status) if status else qs.filter(status__in=ACTIVE_STATUSES)
    if view == "mine":
        qs = qs.filter(assignee_id=member_id)
    elif view == "unassigned":
        qs = qs.filter(assignee_id="")
    elif view == "team":
        qs = qs.filter(team_id__in=team_ids)
    elif view == "at_risk":
        qs = qs.filter(pk__in=_at_risk(workspace_id).values("conversation_id"))
    if channel:
        qs = qs.filter(channel=channel)
    if priority:
        qs = qs.filter(priority=priority)
    return qs


COUNT_CAP = 1000


def inbox_counts(workspace_id: int, *, member_id: str, team_ids: tuple[str, ...]) -> dict[str, int]:
    """Active conversations per view, each counted up to COUNT_CAP + 1 (shown as "1000+"): a capped
    count reads at most that many index entries, so the page costs the same with 100,000 conversations."""
    out = {}
    for view in VIEWS:
        qs = inbox(workspace_id, view=view, member_id=member_id, team_ids=team_ids)
        if view == "mine" and not member_id:
            out[view] = 0
            continue
        out[view] = qs.values("pk")[: COUNT_CAP + 1].count()
    return out


@dataclass(frozen=True)
class ThreadItem:
    kind: str  # message | note
    at: datetime
    obj: Any


def thread(conv: Conversation, *, limit: int = 200) -> list[ThreadItem]:
    messages = list(
        Message.objects.filter(conversation=conv).prefetch_related("attachments").order_by("-pk")[:limit]
    )
    notes = list(Note.objects.filter(conversation=conv).order_by("-pk")[:limit])
    items = [ThreadItem("message", m.created_at, m) for m in messages] + [
        ThreadItem("note", n.created_at, n) for n in notes
    ]
    return sorted(items, key=lambda i: (i.at, i.kind, i.obj.pk))


def messages(workspace_id: int, conversation_id: str) -> QuerySet[Message]:
    return Message.objects.filter(workspace_id=workspace_id, conversation__public_id=conversation_id)


def clocks(conv: Conversation) -> list[SlaClock]:
    return list(SlaClock.objects.filter(conversation=conv).select_related("policy").order_by("pk"))


def tasks(workspace_id: int, *, assignee_id: str = "", status: str = "") -> QuerySet[Task]:
    qs = Task.objects.filter(workspace_id=workspace_id).select_related("conversation")
    if assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def canned(workspace_id: int, language: str = "") -> QuerySet[CannedResponse]:
    qs = CannedResponse.objects.filter(workspace_id=workspace_id)
    return qs.filter(language=language) if language else qs


def rules(workspace_id: int) -> QuerySet[RoutingRule]:
    return RoutingRule.objects.filter(workspace_id=workspace_id)


def policies(workspace_id: int) -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.filter(workspace_id=workspace_id)


def api_channel(workspace_id: int, channel_id: str) -> ApiChannel:
    return ApiChannel.objects.select_related("workspace").get(
        workspace_id=workspace_id, public_id=channel_id, is_active=True
    )


def agent_states(workspace_id: int) -> QuerySet[AgentState]:
    return AgentState.objects.filter(workspace_id=workspace_id)


def previous_conversations(conv: Conversation, limit: int = 10) -> list[Conversation]:
    return list(
        Conversation.objects.filter(workspace_id=conv.workspace_id, customer_id=conv.customer_id)
        .exclude(pk=conv.pk)
        .order_by("-pk")[:limit]
    )


def report(workspace_id: int, since: datetime, until: datetime) -> dict[str, Any]:
    """First-response time, resolution time and SLA attainment per target over a period."""
    convs = Conversation.objects.filter(
        workspace_id=workspace_id, created_at__gte=since, created_at__lt=until
    )
    frt = [
        (c.first_response_at - c.created_at).total_seconds()
        for c in convs.exclude(first_response_at=None).only("created_at", "first_response_at")
        if c.first_response_at
    ]
    resolved = [
        (c.resolved_at - c.created_at).total_seconds()
        for c in convs.filter(status=ConversationStatus.RESOLVED).only("created_at", "resolved_at")
        if c.resolved_at
    ]
    clocks_ = SlaClock.objects.filter(workspace_id=workspace_id, started_at__gte=since, started_at__lt=until)
    attainment = {}
    for row in clocks_.values("target").annotate(
        met=Count("pk", filter=Q(state=ClockState.MET)),
        breached=Count("pk", filter=Q(state=ClockState.BREACHED)),
    ):
        total = row["met"] + row["breached"]
        attainment[row["target"]] = round(row["met"] / total, 4) if total else None
    return {
        "conversations": convs.count(),
        "frt_avg_seconds": round(sum(frt) / len(frt), 1) if frt else None,
        "resolution_avg_seconds": round(sum(resolved) / len(resolved), 1) if resolved else None,
        "attainment": attainment,
    }


@dataclass(frozen=True)
class AgentLoad:
    member_id: str
    name: str
    presence: str
    load: int
    capacity: int


def supervisor_board(
    workspace_id: int, agents: list[tuple[str, str]], teams: list[tuple[str, str]]
) -> dict[str, Any]:
    """Live queue per team, agent load and presence, SLA at risk: what a supervisor watches."""
    active = Conversation.objects.filter(workspace_id=workspace_id, status__in=ACTIVE_STATUSES)
    per_team: dict[str, dict[str, Any]] = {
        row["team_id"]: dict(row)
        for row in active.values("team_id").annotate(
            active=Count("pk"), waiting=Count("pk", filter=Q(assignee_id="", status=ConversationStatus.OPEN))
        )
    }
    loads = dict(
        active.exclude(assignee_id="")
        .values_list("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    states = {s.member_id: s for s in AgentState.objects.filter(workspace_id=workspace_id)}
    at_risk = list(
        active.filter(pk__in=_at_risk(workspace_id).values("conversation_id")).order_by("last_message_at")[
            :50
        ]
    )
    return {
        "teams": [
            (name, per_team.get(tid, {}).get("active", 0), per_team.get(tid, {}).get("waiting", 0))
            for tid, name in [*teams, ("", "")]
        ],
        "agents": [
            AgentLoad(
                mid,
                name,
                str(Presence(states[mid].presence if mid in states else Presence.OFFLINE).label),
                loads.get(mid, 0),
                states[mid].capacity if mid in states else 0,
            )
            for mid, name in agents
        ],
        "at_risk": at_risk,
    }


def daily_report(workspace_id: int, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per day: conversations, average first-response and resolution seconds, SLA attainment."""
    from collections import defaultdict

    days: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"n": [], "frt": [], "res": []})
    for c in Conversation.objects.filter(
        workspace_id=workspace_id, created_at__gte=since, created_at__lt=until
    ).only("created_at", "first_response_at", "resolved_at"):
        d = days[c.created_at.date().isoformat()]
        d["n"].append(1)
        if c.first_response_at:
            d["frt"].append((c.first_response_at - c.created_at).total_seconds())
        if c.resolved_at:
            d["res"].append((c.resolved_at - c.created_at).total_seconds())
    met: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for started, state in SlaClock.objects.filter(
        workspace_id=workspace_id,
        started_at__gte=since,
        started_at__lt=until,
        state__in=[ClockState.MET, ClockState.BREACHED],
    ).values_list("started_at", "state"):
        met[started.date().isoformat()][0 if state == ClockState.MET else 1] += 1
    out = []
    for day in sorted(set(days) | set(met)):
        d = days[day]
        m, b = met[day]
        out.append(
            {
                "day": day,
                "conversations": len(d["n"]),
                "frt_avg_seconds": round(sum(d["frt"]) / len(d["frt"]), 1) if d["frt"] else None,
                "resolution_avg_seconds": round(sum(d["res"]) / len(d["res"]), 1) if d["res"] else None,
                "sla_attainment": round(m / (m + b), 4) if m + b else None,
            }
        )
    return out
