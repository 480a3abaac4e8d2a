"""The team lead's report over time, per team or per agent, computed from the event log.

Replaying a conversation's events in order gives its team and assignee at every moment, so each
figure is credited to whoever held the conversation when it happened:
- first response: the first agent or bot message after `created` (its time minus the creation time),
  credited on the day of the answer to the team and assignee of that moment;
- resolution: `resolved` minus `created`, credited on the day of resolution;
- handled: conversations resolved that day.
Days are the workspace's local days. Events are read from `LOOKBACK` before the period so that
conversations begun earlier still have their creation time; older ones count as handled only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carekit.core.models import Event, Workspace

LOOKBACK = timedelta(days=30)
MAX_DAYS = 92
TYPES = (
    "conversations.conversation.created",
    "conversations.conversation.routed",
    "conversations.conversation.transferred",
    "conversations.conversation.assigned",
    "conversations.conversation.unassigned",
    "conversations.conversation.resolved",
    "conversations.message.queued",
)
RESPONDERS = ("agent", "bot")


@dataclass
class Cell:
    handled: int = 0
    frt: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)

    @staticmethod
    def _avg(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 1) if values else None

    def as_row(self, day: date, group: str) -> dict[str, object]:
        return {
            "day": day.isoformat(),
            "group": group,
            "handled": self.handled,
            "first_responses": len(self.frt),
            "frt_avg_seconds": self._avg(self.frt),
            "resolution_avg_seconds": self._avg(self.resolution),
        }


@dataclass
class _Conv:
    created: datetime | None = None
    team: str = ""
    assignee: str = ""
    answered: bool = False


def _zone(workspace_id: int) -> ZoneInfo:
    name = Workspace.objects.filter(pk=workspace_id).values_list("time_zone", flat=True).first() or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _events(workspace_id: int, since: datetime, until: datetime) -> Iterable[tuple[str, dict, datetime]]:
    return (
        Event.objects.filter(
            workspace_id=workspace_id,
            type__in=TYPES,
            occurred_at__gte=since - LOOKBACK,
            occurred_at__lt=until,
        )
        .order_by("occurred_at", "id")
        .values_list("type", "payload", "occurred_at")
        .iterator(chunk_size=2000)
    )


def report(workspace_id: int, since: datetime, until: datetime, *, by: str) -> list[dict[str, object]]:
    """Rows {day, group, handled, first_responses, frt_avg_seconds, resolution_avg_seconds} for every
    (local day, team or agent) with activity in [since, until); `by` is "team" or "agent"."""
    tz = _zone(workspace_id)
    convs: dict[str, _Conv] = defaultdict(_Conv)
    cells: dict[tuple[date, str], Cell] = defaultdict(Cell)
    for type_, payload, at in _events(workspace_id, since, until):
        cid = str(payload.get("conversation_id") or "")
        if not cid:
            continue
        c = convs[cid]
        verb = type_.rsplit(".", 1)[1]
        if verb == "created":
            c.created = at
        elif verb in ("routed", "transferred"):
            c.team = str(payload.get("team_id") or "")
            if verb == "transferred":
                c.assignee = ""
        elif verb == "assigned":
            c.assignee = str(payload.get("assignee_id") or "")
        elif verb == "unassigned":
            c.assignee = ""
        if at < since:
            if verb == "queued" and payload.get("author_kind") in RESPONDERS:
                c.answered = True
            continue
        key = (at.astimezone(tz).date(), c.team if by == "team" else c.assignee)
        if verb == "queued" and payload.get("author_kind") in RESPONDERS and not c.answered:
            c.answered = True
            if c.created is not None:
                cells[key].frt.append((at - c.created).total_seconds())
        elif verb == "resolved":
            cells[key].handled += 1
            if c.created is not None:
                cells[key].resolution.append((at - c.created).total_seconds())
    return [cells[k].as_row(*k) for k in sorted(cells, key=lambda k: (k[0], k[1]))]


def days_between(since: date, until: date) -> list[date]:
    """Every local day from `since` to `until` inclusive (at most MAX_DAYS)."""
    out: list[date] = []
    d = since
    while d <= until and len(out) < MAX_DAYS:
        out.append(d)
        d += timedelta(days=1)
    return out


def local_day(workspace_id: int, at: datetime) -> date:
    return at.astimezone(_zone(workspace_id)).date()
