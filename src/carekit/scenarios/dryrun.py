"""Dry-run on history: replay the stored events of the last N days through a draft, in memory.

The same `Engine` as live runs, with effects that record instead of act and profile reads overlaid
with the run's own simulated writes (ADR 0901). Nothing is written: no runs, no messages, no grants.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from carekit.core.models import Event
from carekit.scenarios import messaging
from carekit.scenarios.actions import ActionCall
from carekit.scenarios.definition import ensure_valid, listened_types
from carekit.scenarios.engine import Engine, RunState, TraceEntry, event_facts

__all__ = ["DryRunReport", "TraceEntry", "dry_run", "tally"]
from carekit.scenarios.enums import StepKind
from carekit.scenarios.runtime import LiveReads

MAX_EVENTS = 200_000


class DryReads:
    def __init__(self, workspace_id: int, fx: DryEffects) -> None:
        self.live = LiveReads(workspace_id)
        self.fx = fx

    def customer(self, customer_id: str) -> Mapping[str, Any] | None:
        base = self.live.customer(customer_id)
        tags = self.fx.tags.get(customer_id)
        attrs = self.fx.attributes.get(customer_id)
        if base is None or (not tags and not attrs):
            return base
        return {
            **base,
            "tags": sorted(set(base.get("tags") or []) | (tags or set())),
            "attributes": {**(base.get("attributes") or {}), **(attrs or {})},
        }

    def conversation(self, customer_id: str, at: datetime) -> Mapping[str, Any] | None:
        return self.live.conversation(customer_id, at)

    def time_zone(self, customer_id: str) -> ZoneInfo:
        return self.live.time_zone(customer_id)


class DryEffects:
    dry = True

    def need_run_row(self) -> None:
        return None

    def guard(self) -> AbstractContextManager[Any]:
        return nullcontext()

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, datetime]] = []  # (customer, class, planned_at)
        self.tags: dict[str, set[str]] = defaultdict(set)
        self.attributes: dict[str, dict[str, Any]] = defaultdict(dict)

    def messages_in_window(self, call: ActionCall, message_class: str) -> int:
        since = call.at - messaging.CAP_WINDOW
        return sum(
            1
            for c, k, at in self.messages
            if c == call.customer_id and k == message_class and since < at <= call.at
        )

    def record_message(self, call: ActionCall, decision: messaging.Decision, channel: str) -> str:
        self.messages.append((call.customer_id, str(call.params["class"]), call.at))
        return ""

    def customer_tag(self, call: ActionCall, tag: str) -> bool:
        self.tags[call.customer_id].add(tag.strip().lower())
        return True

    def customer_attribute(self, call: ActionCall, key: str, value: Any) -> bool:
        self.attributes[call.customer_id][key] = value
        return True


@dataclass
class DryRunReport:
    since: datetime
    until: datetime
    events_read: int = 0
    entries: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    branches: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    actions: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    statuses: Counter[str] = field(default_factory=Counter)
    sample: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "events_read": self.events_read,
            "entries": self.entries,
            "skipped": dict(self.skipped),
            "branches": {k: dict(v) for k, v in sorted(self.branches.items())},
            "actions": {k: dict(v) for k, v in sorted(self.actions.items())},
            "statuses": dict(self.statuses),
            "sample": self.sample,
        }


def tally(
    report: DryRunReport, trace: list[TraceEntry], *, actions_by_step: Mapping[str, str], run_id: str
) -> None:
    """Branch and action counts from a trace (the differential test tallies live traces the same way)."""
    for e in trace:
        if e.kind in (StepKind.CONDITION, StepKind.SPLIT) or (e.kind == StepKind.RESUME):
            report.branches[e.step][e.branch] += 1
        elif e.kind == StepKind.ACTION:
            report.actions[f"{e.step}:{actions_by_step[e.step]}"][e.outcome] += 1
            if len(report.sample) < 50:
                report.sample.append(
                    {
                        "run": run_id,
                        "step": e.step,
                        "action": actions_by_step[e.step],
                        "outcome": e.outcome,
                        "at": e.at.isoformat(),
                    }
                )


def dry_run(
    *,
    workspace_id: int,
    definition: Mapping[str, Any],
    days: int,
    now: datetime,
    scenario_id: str = "dry-run",
    rate_limit_per_hour: int | None = None,
) -> DryRunReport:
    """Replay events with occurred_at in [now - days, now] through `definition`; side-effect free."""
    ensure_valid(definition)
    since = now - timedelta(days=days)
    report = DryRunReport(since, now)
    fx = DryEffects()
    engine = Engine(
        definition=definition,
        workspace_id=workspace_id,
        scenario_id=scenario_id,
        reads=DryReads(workspace_id, fx),
        effects=fx,
    )
    actions_by_step = {sid: s.get("action", "") for sid, s in definition["steps"].items()}
    trigger = definition["trigger"]["event"]
    listens = listened_types(definition)
    reentry = definition.get("reentry", "if_not_active")
    runs: list[RunState] = []
    by_customer: dict[str, list[RunState]] = defaultdict(list)
    recent: deque[datetime] = deque()
    counter = 0

    def fire_timers(until: datetime) -> None:
        due = sorted(
            (r for r in runs if r.active and r.wait_until is not None and r.wait_until <= until),
            key=lambda r: (r.wait_until, int(r.run_id.rsplit("-", 1)[1])),
        )
        for r in due:
            wake = r.wait_until
            assert wake is not None
            tally(
                report, engine.resume_on_time(r, wake) or [], actions_by_step=actions_by_step, run_id=r.run_id
            )
        if due:
            fire_timers(until)  # a resumed run may wait again within the window

    qs = (
        Event.objects.filter(workspace_id=workspace_id, occurred_at__gte=since, occurred_at__lte=now)
        .exclude(type__startswith="scenarios.")
        .order_by("occurred_at", "id")
    )
    for ev in qs.iterator(chunk_size=2000):
        report.events_read += 1
        if report.events_read > MAX_EVENTS:
            report.skipped["event limit"] += 1
            break
        fire_timers(ev.occurred_at)
        if ev.type not in listens and ev.type != trigger:
            continue
        facts = event_facts(ev.type, ev.payload, ev.occurred_at, ev.subject_type, ev.subject_id)
        cid = str(ev.payload.get("customer_id") or "")
        if ev.type in listens and cid:
            for r in [r for r in by_customer[cid] if r.active]:
                trace = engine.goal_reached(r, facts, ev.occurred_at) or engine.resume_on_event(
                    r, facts, ev.occurred_at
                )
                tally(report, trace or [], actions_by_step=actions_by_step, run_id=r.run_id)
        if ev.type != trigger:
            continue
        ok, compared = engine.trigger_matches(facts, ev.occurred_at, cid)
        if not ok:
            continue
        mine = by_customer[cid] if cid else []
        if cid and reentry == "if_not_active" and any(r.active for r in mine):
            report.skipped["already active"] += 1
            continue
        if cid and reentry == "once" and mine:
            report.skipped["entered before"] += 1
            continue
        while recent and recent[0] <= ev.occurred_at - timedelta(hours=1):
            recent.popleft()
        if rate_limit_per_hour is not None and len(recent) >= rate_limit_per_hour:
            report.skipped["rate limit"] += 1
            continue
        recent.append(ev.occurred_at)
        counter += 1
        state = RunState(f"dry-{counter}", cid, ev.occurred_at, dict(facts))
        runs.append(state)
        if cid:
            by_customer[cid].append(state)
        report.entries += 1
        tally(
            report,
            engine.start(state, ev.occurred_at, compared=compared),
            actions_by_step=actions_by_step,
            run_id=state.run_id,
        )
    fire_timers(now)
    for r in runs:
        report.statuses[str(r.status)] += 1
    return report
