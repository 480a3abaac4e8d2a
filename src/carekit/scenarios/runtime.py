"""The live driver: starts runs on triggering events, resumes waiting runs on awaited events and on
time, persists each run's state and trace in the caller's transaction (the event delivery's or the
job's), so every step and its effects happen once (ADR 0901)."""

from __future__ import annotations

import time as _time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from carekit.core.ids import new_public_id
from carekit.core.models import Event, Workspace
from carekit.scenarios import messaging
from carekit.scenarios.actions import ACTOR, ActionCall
from carekit.scenarios.conditions import EVENT_META, OPS
from carekit.scenarios.definition import listened_types
from carekit.scenarios.engine import Engine, RunState, TraceEntry, bucket, event_facts
from carekit.scenarios.enums import ACTIVE_RUN_STATUSES, ExperimentStatus, RunStatus, VersionStatus
from carekit.scenarios.models import Experiment, Run, Scenario, ScenarioMessage, ScenarioVersion, StepRun
from carekit.scenarios.ports import inbox

# Tests roll back and reuse workspace ids, so a cached index could outlive its rows: no cache there.
INDEX_TTL_SECONDS = 0.0 if settings.TESTING else 1.0


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


class LiveReads:
    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id
        self._facts: dict[str, Mapping[str, Any] | None] = {}
        self._ws_tz: ZoneInfo | None = None

    def customer(self, customer_id: str) -> Mapping[str, Any] | None:
        if customer_id not in self._facts:
            from carekit.customers import public as customers

            f = customers.customer_facts(self.workspace_id, customer_id) if customer_id else None
            self._facts[customer_id] = (
                None
                if f is None
                else {
                    "tags": list(f.tags),
                    "attributes": f.attributes,
                    "language": f.language,
                    "time_zone": f.time_zone,
                    "preferred_channel": f.preferred_channel,
                }
            )
        return self._facts[customer_id]

    def conversation(self, customer_id: str, at: datetime) -> Mapping[str, Any] | None:
        return inbox().conversation_facts(self.workspace_id, customer_id, at)

    def time_zone(self, customer_id: str) -> ZoneInfo:
        facts = self.customer(customer_id)
        tz = _zone(str(facts.get("time_zone") or "")) if facts else None
        if tz is not None:
            return tz
        if self._ws_tz is None:
            name = Workspace.objects.filter(pk=self.workspace_id).values_list("time_zone", flat=True).first()
            self._ws_tz = _zone(name or "") or ZoneInfo("UTC")
        return self._ws_tz


class LiveEffects:
    dry = False

    def __init__(self, run: Run) -> None:
        self.run = run

    def need_run_row(self) -> None:
        if self.run.pk is None:
            self.run.save(force_insert=True)

    def guard(self) -> AbstractContextManager[Any]:
        return transaction.atomic()

    def messages_in_window(self, call: ActionCall, message_class: str) -> int:
        return ScenarioMessage.objects.filter(
            workspace_id=call.workspace_id,
            customer_id=call.customer_id,
            message_class=message_class,
            planned_at__gt=call.at - messaging.CAP_WINDOW,
            planned_at__lte=call.at,
        ).count()

    def record_message(self, call: ActionCall, decision: messaging.Decision, channel: str) -> str:
        self.need_run_row()
        msg, _ = ScenarioMessage.objects.get_or_create(
            idempotency_key=call.key,
            defaults={
                "workspace_id": call.workspace_id,
                "run": self.run,
                "customer_id": call.customer_id,
                "step": call.step,
                "channel": channel,
                "message_class": str(call.params["class"]),
                "template": str(call.params["template"]),
                "subject": str(call.params.get("subject", "")),
                "planned_at": call.at,
                "due_at": decision.due_at,
            },
        )
        transaction.on_commit(lambda: _enqueue_send(msg.pk, msg.due_at))
        return msg.public_id

    def customer_tag(self, call: ActionCall, tag: str) -> bool:
        from carekit.customers import public as customers

        return customers.customer_tag_add(
            actor=ACTOR, workspace_id=call.workspace_id, customer_id=call.customer_id, tag=tag
        )

    def customer_attribute(self, call: ActionCall, key: str, value: Any) -> bool:
        from carekit.customers import public as customers

        return customers.customer_attribute_set(
            actor=ACTOR, workspace_id=call.workspace_id, customer_id=call.customer_id, key=key, value=value
        )


def _enqueue_send(message_pk: int, due_at: datetime | None) -> None:
    from carekit.scenarios import tasks

    delay = (due_at - timezone.now()).total_seconds() if due_at else 0
    if delay > 0:
        tasks.send_message.schedule((message_pk,), delay=delay)
    else:
        tasks.send_message(message_pk)


def _enqueue_resume(run_pk: int, seq: int, until: datetime) -> None:
    from carekit.scenarios import tasks

    delay = (until - timezone.now()).total_seconds()
    if delay > 0:
        tasks.resume_run.schedule((run_pk, seq), delay=delay)
    else:
        tasks.resume_run(run_pk, seq)


# --- which scenarios care about an event type (cached per process, per workspace) ---------------------


@dataclass(frozen=True)
class Compiled:
    scenario_pk: int
    scenario_id: str
    version_pk: int
    definition: Mapping[str, Any]
    rate_limit_per_hour: int | None
    experiment: tuple[str, tuple[Mapping[str, Any], ...]] | None
    # Trigger filters on top-level event facts with literal values: checked on the payload before any
    # engine work, because most events match no scenario (the engine re-checks and traces them).
    prefilter: tuple[tuple[str, str, Any], ...] = ()

    def may_enter(self, payload: Mapping[str, Any]) -> bool:
        return all(OPS[op](payload.get(key), value) for key, op, value in self.prefilter)


def _prefilter(definition: Mapping[str, Any]) -> tuple[tuple[str, str, Any], ...]:
    out = []
    for cond in definition.get("trigger", {}).get("when", []):
        name = str(cond.get("var", ""))
        ns, _, key = name.partition(".")
        if ns == "event" and key and "." not in key and key not in EVENT_META and "ref" not in cond:
            out.append((key, str(cond["op"]), cond.get("value")))
    return tuple(out)


@dataclass
class WorkspaceIndex:
    loaded_at: float
    by_trigger: dict[str, list[Compiled]] = field(default_factory=dict)
    listening: dict[str, set[int]] = field(default_factory=dict)  # event type -> scenario pks


_INDEX: dict[int, WorkspaceIndex] = {}


def invalidate(workspace_id: int | None = None) -> None:
    if workspace_id is None:
        _INDEX.clear()
    else:
        _INDEX.pop(workspace_id, None)


def index_for(workspace_id: int) -> WorkspaceIndex:
    """Published scenarios by trigger and listened event types; refreshed at most every second.

    A publish invalidates this process's copy at once; other processes see it within the TTL.
    """
    now = _time.monotonic()
    idx = _INDEX.get(workspace_id)
    if idx is not None and now - idx.loaded_at < INDEX_TTL_SECONDS:
        return idx
    idx = WorkspaceIndex(now)
    # One query for every workspace; the experiments query only where something is published.
    versions = list(
        ScenarioVersion.objects.filter(
            workspace_id=workspace_id,
            status__in=[VersionStatus.PUBLISHED, VersionStatus.RETIRED],
            scenario__killed=False,
        ).select_related("scenario")
    )
    published = [v for v in versions if v.scenario.published_id == v.pk]
    experiments = {}
    if published:
        experiments = {
            e.scenario_id: (e.public_id, tuple(e.arms))
            for e in Experiment.objects.filter(workspace_id=workspace_id, status=ExperimentStatus.RUNNING)
        }
    for v in published:
        s = v.scenario
        c = Compiled(
            s.pk,
            s.public_id,
            v.pk,
            v.definition,
            s.rate_limit_per_hour,
            experiments.get(s.pk),
            _prefilter(v.definition),
        )
        idx.by_trigger.setdefault(s.trigger_type, []).append(c)
    for v in versions:
        for t in listened_types(v.definition):
            idx.listening.setdefault(t, set()).add(v.scenario_id)
    _INDEX[workspace_id] = idx
    return idx


# --- the event handler's work -------------------------------------------------------------------------


@dataclass
class Outcome:
    started: int = 0
    resumed: int = 0
    skipped: int = 0


def handle_event(event: Event) -> Outcome:
    """Goals and awaited events first (runs that existed before this event), then new entries."""
    out = Outcome()
    idx = index_for(event.workspace_id)
    interested = idx.listening.get(event.type)
    payload = event.payload
    candidates = [c for c in idx.by_trigger.get(event.type, ()) if c.may_enter(payload)]
    if not interested and not candidates:
        return out
    facts = event_facts(event.type, event.payload, event.occurred_at, event.subject_type, event.subject_id)
    reads = LiveReads(event.workspace_id)
    customer_id = str(event.payload.get("customer_id") or "")
    if interested and customer_id:
        runs = (
            Run.objects.select_for_update(of=("self",))
            .select_related("version", "scenario")
            .filter(
                workspace_id=event.workspace_id,
                customer_id=customer_id,
                status__in=ACTIVE_RUN_STATUSES,
                scenario_id__in=interested,
            )
            .order_by("id")
        )
        for run in runs:
            engine = _engine(run, reads)
            state = _state(run)
            trace = engine.goal_reached(state, facts, event.occurred_at) or engine.resume_on_event(
                state, facts, event.occurred_at
            )
            if trace:
                persist(run, state, trace)
                out.resumed += 1
    for c in candidates:
        started = start_run(c, event, facts, reads)
        out.started += started is not None
        out.skipped += started is None
    return out


def _engine(run: Run, reads: LiveReads) -> Engine:
    return Engine(
        definition=run.version.definition,
        workspace_id=run.workspace_id,
        scenario_id=run.scenario.public_id,
        reads=reads,
        effects=LiveEffects(run),
    )


def _state(run: Run) -> RunState:
    return RunState.from_row(
        run_id=run.public_id,
        customer_id=run.customer_id,
        trigger_at=run.trigger_at,
        status=run.status,
        seq=run.seq,
        arm=run.arm,
        data=run.context,
    )


def assign_arm(
    customer_id: str, experiment_id: str, arms: tuple[Mapping[str, Any], ...]
) -> Mapping[str, Any]:
    """Deterministic: the same customer always lands in the same arm of an experiment."""
    total = sum(int(a["weight"]) for a in arms)
    point = bucket(customer_id, experiment_id, modulo=total)
    acc = 0
    for arm in arms:
        acc += int(arm["weight"])
        if point < acc:
            return arm
    return arms[-1]


def entry_allowed(c: Compiled, customer_id: str, at: datetime) -> str:
    """'' if a new run may start, else why not (re-entry rule per customer, rate limit)."""
    reentry = c.definition.get("reentry", "if_not_active") if customer_id else "always"
    runs = Run.objects.filter(scenario_id=c.scenario_pk, customer_id=customer_id)
    if reentry == "if_not_active" and runs.filter(status__in=ACTIVE_RUN_STATUSES).exists():
        return "already active"
    if reentry == "once" and runs.exists():
        return "entered before"
    if (
        c.rate_limit_per_hour is not None
        and Run.objects.filter(
            scenario_id=c.scenario_pk, trigger_at__gt=at - timedelta(hours=1), trigger_at__lte=at
        ).count()
        >= c.rate_limit_per_hour
    ):
        Scenario.objects.filter(pk=c.scenario_pk).update(rate_limited=F("rate_limited") + 1)
        return "rate limit"
    return ""


def start_run(c: Compiled, event: Event, facts: Mapping[str, Any], reads: LiveReads) -> Run | None:
    customer_id = str(facts.get("customer_id") or "")
    dummy_run = Run(workspace_id=event.workspace_id)
    engine = Engine(
        definition=c.definition,
        workspace_id=event.workspace_id,
        scenario_id=c.scenario_id,
        reads=reads,
        effects=LiveEffects(dummy_run),
    )
    at = event.occurred_at
    ok, compared = engine.trigger_matches(facts, at, customer_id)
    if not ok or entry_allowed(c, customer_id, at):
        return None
    arm: Mapping[str, Any] | None = None
    if c.experiment is not None and customer_id:
        arm = assign_arm(customer_id, c.experiment[0], c.experiment[1])
    # Inserted once with its final state by persist() (or earlier if an action needs the row).
    run = Run(
        public_id=new_public_id("run"),
        workspace_id=event.workspace_id,
        scenario_id=c.scenario_pk,
        version_id=c.version_pk,
        customer_id=customer_id,
        trigger_event_id=event.pk,
        trigger_at=at,
        arm=str(arm["name"]) if arm else "",
        started_at=at,
    )
    engine.effects = LiveEffects(run)
    state = RunState(run.public_id, customer_id, at, dict(facts), arm=run.arm)
    if arm is not None and arm.get("holdout"):
        trace = engine.hold_out(state, at)
    else:
        trace = engine.start(state, at, start_step=(arm or {}).get("start"), compared=compared)
    persist(run, state, trace, created=True)
    return run


def persist(run: Run, state: RunState, trace: list[TraceEntry], *, created: bool = False) -> None:
    run.context = state.to_json()
    run.status = state.status
    run.step = state.step or ""
    run.seq = state.seq
    run.wait_until = state.wait_until
    if not state.active and run.finished_at is None:
        run.finished_at = trace[-1].at if trace else timezone.now()
    run.save(force_insert=run.pk is None)
    StepRun.objects.bulk_create(
        [
            StepRun(
                workspace_id=run.workspace_id,
                run=run,
                seq=e.seq,
                step=e.step,
                kind=e.kind,
                outcome=e.outcome,
                branch=e.branch,
                detail=e.detail,
                at=e.at,
            )
            for e in trace
        ]
    )
    if state.status == RunStatus.WAITING and run.wait_until is not None:
        pk, seq, until = run.pk, run.seq, run.wait_until
        transaction.on_commit(lambda: _enqueue_resume(pk, seq, until))


def resume_run(run_pk: int, *, seq: int | None, now: datetime) -> bool:
    """Wake one due run (the caller holds the transaction). False if it is not waiting, not due, or a
    later wait replaced the one this job was scheduled for."""
    run = (
        Run.objects.select_for_update(of=("self",))
        .select_related("version", "scenario")
        .filter(pk=run_pk, status=RunStatus.WAITING)
        .first()
    )
    if run is None or (seq is not None and run.seq != seq) or run.wait_until is None or run.wait_until > now:
        return False
    if Scenario.objects.filter(pk=run.scenario_id, killed=True).exists():
        run.status, run.finished_at = RunStatus.KILLED, now
        run.save(update_fields=["status", "finished_at"])
        return False
    state = _state(run)
    trace = _engine(run, LiveReads(run.workspace_id)).resume_on_time(state, now)
    if not trace:
        return False
    persist(run, state, trace)
    return True


def due_runs(now: datetime, limit: int = 500) -> list[int]:
    return list(
        Run.objects.filter(status=RunStatus.WAITING, wait_until__lte=now)
        .order_by("wait_until", "id")
        .values_list("id", flat=True)[:limit]
    )
