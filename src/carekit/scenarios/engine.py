"""The step engine: one pure state machine for live runs and dry-runs (ADR 0901).

`Engine` reads through `Reads` (profile, conversation, time zone) and acts through `Effects`; it never
touches the database itself. The live driver (runtime.py) persists `RunState` and the trace after each
call; the dry-run driver (dryrun.py) keeps them in memory. Same inputs, same trace.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from carekit.core.errors import DomainError
from carekit.scenarios.actions import ACTIONS, ActionCall, Effects
from carekit.scenarios.conditions import Scope, evaluate
from carekit.scenarios.definition import END, parse_duration
from carekit.scenarios.enums import RunStatus, StepKind

MAX_STEPS_PER_ADVANCE = 500


class Reads(Protocol):
    def customer(self, customer_id: str) -> Mapping[str, Any] | None: ...

    def conversation(self, customer_id: str, at: datetime) -> Mapping[str, Any] | None: ...

    def time_zone(self, customer_id: str) -> ZoneInfo: ...


@dataclass
class TraceEntry:
    seq: int
    step: str
    kind: str
    at: datetime
    outcome: str = ""
    branch: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunState:
    run_id: str
    customer_id: str
    trigger_at: datetime
    event: dict[str, Any]
    step: str | None = None
    status: str = RunStatus.RUNNING
    seq: int = 0
    arm: str = ""
    vars: dict[str, Any] = field(default_factory=dict)
    last_event: dict[str, Any] = field(default_factory=dict)
    wait: dict[str, Any] | None = None  # {"step", "kind": time|event, "until", "event"}

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "event": self.event,
            "vars": self.vars,
            "last_event": self.last_event,
            "wait": self.wait,
        }

    @classmethod
    def from_row(
        cls,
        *,
        run_id: str,
        customer_id: str,
        trigger_at: datetime,
        status: str,
        seq: int,
        arm: str,
        data: Mapping[str, Any],
    ) -> RunState:
        return cls(
            run_id,
            customer_id,
            trigger_at,
            dict(data.get("event") or {}),
            data.get("step"),
            status,
            seq,
            arm,
            dict(data.get("vars") or {}),
            dict(data.get("last_event") or {}),
            data.get("wait"),
        )

    @property
    def wait_until(self) -> datetime | None:
        return datetime.fromisoformat(self.wait["until"]) if self.wait and self.wait.get("until") else None

    @property
    def active(self) -> bool:
        return self.status in (RunStatus.RUNNING, RunStatus.WAITING)


def event_facts(
    type_: str,
    payload: Mapping[str, Any],
    occurred_at: datetime,
    subject_type: str = "",
    subject_id: str = "",
) -> dict[str, Any]:
    return {
        **payload,
        "type": type_,
        "occurred_at": occurred_at.isoformat(),
        "subject_type": subject_type,
        "subject_id": subject_id,
    }


def bucket(*parts: str, modulo: int) -> int:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % modulo


class Engine:
    def __init__(
        self,
        *,
        definition: Mapping[str, Any],
        workspace_id: int,
        scenario_id: str,
        reads: Reads,
        effects: Effects,
    ) -> None:
        self.defn = definition
        self.steps: Mapping[str, Mapping[str, Any]] = definition["steps"]
        self.workspace_id = workspace_id
        self.scenario_id = scenario_id
        self.reads = reads
        self.effects = effects

    # --- scopes -------------------------------------------------------------------------------------

    def scope(self, state: RunState, at: datetime) -> Scope:
        cid = state.customer_id
        return Scope(
            event=state.event,
            at=at,
            load_tz=lambda: self.reads.time_zone(cid),
            last_event=state.last_event,
            vars=state.vars,
            run={"arm": state.arm, "id": state.run_id, "scenario_id": self.scenario_id},
            load_customer=lambda: self.reads.customer(cid),
            load_conversation=lambda: self.reads.conversation(cid, at),
        )

    def trigger_matches(self, facts: Mapping[str, Any], at: datetime, customer_id: str) -> tuple[bool, list]:
        probe = RunState("", customer_id, at, dict(facts))
        scope = self.scope(probe, at)
        ok, compared = evaluate(self.defn["trigger"].get("when", []), scope)
        if ok:
            ok, more = evaluate(self.defn.get("entry", []), scope)
            compared += more
        return ok, compared

    # --- entry points -------------------------------------------------------------------------------

    def start(
        self, state: RunState, at: datetime, *, start_step: str | None = None, compared: list | None = None
    ) -> list[TraceEntry]:
        trace = [
            self._entry(
                state,
                "",
                StepKind.ENTRY,
                at,
                outcome="entered",
                detail={"compared": compared or [], "arm": state.arm},
            )
        ]
        state.step = start_step or self.defn["start"]
        return trace + self.advance(state, at)

    def hold_out(self, state: RunState, at: datetime) -> list[TraceEntry]:
        state.status, state.step = RunStatus.HELD_OUT, None
        return [self._entry(state, "", StepKind.HOLDOUT, at, outcome="control", detail={"arm": state.arm})]

    def goal_reached(
        self, state: RunState, facts: Mapping[str, Any], at: datetime
    ) -> list[TraceEntry] | None:
        """If the event is one of the goals, the run ends early; None otherwise."""
        for goal in self.defn.get("goals") or []:
            if goal["event"] != facts.get("type"):
                continue
            probe = self.scope(state, at)
            probe.last_event = facts
            ok, compared = evaluate(goal.get("when", []), probe)
            if ok:
                state.status, state.step, state.wait = RunStatus.GOAL, None, None
                return [
                    self._entry(
                        state,
                        "",
                        StepKind.GOAL,
                        at,
                        outcome=goal.get("name") or goal["event"],
                        detail={"compared": compared},
                    )
                ]
        return None

    def resume_on_event(
        self, state: RunState, facts: Mapping[str, Any], at: datetime
    ) -> list[TraceEntry] | None:
        wait = state.wait
        if state.status != RunStatus.WAITING or not wait or wait.get("kind") != "event":
            return None
        if wait["event"] != facts.get("type"):
            return None
        step = self.steps[wait["step"]]
        probe = self.scope(state, at)
        probe.last_event = facts
        ok, compared = evaluate(step.get("when", []), probe)
        if not ok:
            return None
        state.last_event = dict(facts)
        return self._resume(
            state, wait["step"], step["next"], at, "event", {"compared": compared, "event": facts.get("type")}
        )

    def resume_on_time(self, state: RunState, at: datetime) -> list[TraceEntry] | None:
        """Wake a run whose wait is due at `at` (its due time, the run's logical time)."""
        wait = state.wait
        if state.status != RunStatus.WAITING or not wait or state.wait_until is None or state.wait_until > at:
            return None
        due = state.wait_until
        step = self.steps[wait["step"]]
        if wait["kind"] == "event":
            return self._resume(state, wait["step"], step["on_timeout"], due, "timeout", {})
        return self._resume(state, wait["step"], step["next"], due, "elapsed", {})

    def _resume(
        self, state: RunState, sid: str, target: str, at: datetime, why: str, detail: dict[str, Any]
    ) -> list[TraceEntry]:
        state.status, state.wait = RunStatus.RUNNING, None
        entry = self._entry(
            state,
            sid,
            StepKind.RESUME,
            at,
            outcome=why,
            branch="timeout" if why == "timeout" else "next",
            detail=detail,
        )
        state.step = target
        return [entry, *self.advance(state, at)]

    # --- the loop -----------------------------------------------------------------------------------

    def advance(self, state: RunState, at: datetime) -> list[TraceEntry]:
        trace: list[TraceEntry] = []
        for _ in range(MAX_STEPS_PER_ADVANCE):
            if state.status != RunStatus.RUNNING:
                return trace
            if state.step in (None, END):
                state.status, state.step = RunStatus.COMPLETED, None
                return trace
            sid = str(state.step)
            step = self.steps[sid]
            kind = step["type"]
            if kind == "action":
                trace.append(self._action(state, sid, step, at))
                state.step = step["next"]
            elif kind == "condition":
                entry, target = self._condition(state, sid, step, at)
                trace.append(entry)
                state.step = target
            elif kind == "split":
                arms = step["arms"]
                total = sum(a["weight"] for a in arms)
                point = bucket(
                    state.customer_id, state.trigger_at.isoformat(), self.scenario_id, sid, modulo=total
                )
                acc = 0
                chosen = arms[-1]
                for arm in arms:
                    acc += arm["weight"]
                    if point < acc:
                        chosen = arm
                        break
                name = str(chosen.get("name") or f"arm{arms.index(chosen) + 1}")
                trace.append(
                    self._entry(
                        state,
                        sid,
                        StepKind.SPLIT,
                        at,
                        outcome="split",
                        branch=name,
                        detail={"point": point, "of": total},
                    )
                )
                state.step = chosen["next"]
            elif kind == "wait":
                entry = self._wait(state, sid, step, at)
                trace.append(entry)
                if state.status == RunStatus.WAITING:
                    return trace
            elif kind == "end":
                trace.append(self._entry(state, sid, StepKind.END, at, outcome="end"))
                state.status, state.step = RunStatus.COMPLETED, None
                return trace
        state.status = RunStatus.FAILED
        trace.append(self._entry(state, str(state.step), StepKind.END, at, outcome="step budget exceeded"))
        return trace

    def _entry(self, state: RunState, sid: str, kind: str, at: datetime, **kw: Any) -> TraceEntry:
        entry = TraceEntry(state.seq, sid, str(kind), at, **kw)
        state.seq += 1
        return entry

    def _action(self, state: RunState, sid: str, step: Mapping[str, Any], at: datetime) -> TraceEntry:
        name = step["action"]
        once = step.get("once", "run")
        key = (
            f"scn:{self.scenario_id}:{state.customer_id}:{sid}"
            if once == "customer"
            else f"scn:{state.run_id}:{state.seq}"
        )
        scope = self.scope(state, at)
        call = ActionCall(
            self.workspace_id,
            self.scenario_id,
            state.run_id,
            None,
            state.customer_id,
            sid,
            key,
            dict(step.get("params") or {}),
            at,
            lambda: scope.tz,
        )
        spec = ACTIONS[name]
        try:
            with self.effects.guard() if spec.savepoint else nullcontext():
                result = spec.run(call, self.effects)
        except DomainError as exc:
            # A terminal refusal (unknown coupon template, invalid value): the run stops here, traced.
            # Anything else (database, network) propagates and the delivery or job is retried.
            entry = self._entry(
                state,
                sid,
                StepKind.ACTION,
                at,
                outcome="error",
                detail={"action": name, "error": exc.message},
            )
            state.status, state.step = RunStatus.FAILED, None
            return entry
        if step.get("save_as"):
            state.vars[str(step["save_as"])] = result.value if result.value is not None else result.outcome
        return self._entry(
            state,
            sid,
            StepKind.ACTION,
            at,
            outcome=result.outcome,
            branch="next",
            detail={"action": name, **result.detail},
        )

    def _condition(
        self, state: RunState, sid: str, step: Mapping[str, Any], at: datetime
    ) -> tuple[TraceEntry, str]:
        scope = self.scope(state, at)
        tried = []
        for i, case in enumerate(step["cases"]):
            ok, compared = evaluate(case.get("when", []), scope)
            name = str(case.get("name") or f"case{i + 1}")
            tried.append({"case": name, "compared": compared})
            if ok:
                return self._entry(
                    state,
                    sid,
                    StepKind.CONDITION,
                    at,
                    outcome="matched",
                    branch=name,
                    detail={"tried": tried},
                ), case["next"]
        return self._entry(
            state, sid, StepKind.CONDITION, at, outcome="else", branch="else", detail={"tried": tried}
        ), step["else"]

    def _wait(self, state: RunState, sid: str, step: Mapping[str, Any], at: datetime) -> TraceEntry:
        if "duration" in step:
            until = at + parse_duration(step["duration"])
            state.wait = {"step": sid, "kind": "time", "until": until.isoformat()}
        elif "event" in step:
            until = at + parse_duration(step["timeout"])
            state.wait = {"step": sid, "kind": "event", "event": step["event"], "until": until.isoformat()}
        else:
            tz = self.scope(state, at).tz
            opens = next_window(at, tz, step["until"])
            if opens <= at:
                state.step = step["next"]
                return self._entry(state, sid, StepKind.WAIT, at, outcome="window open", branch="next")
            state.wait = {"step": sid, "kind": "time", "until": opens.isoformat()}
            until = opens
        state.status = RunStatus.WAITING
        return self._entry(
            state,
            sid,
            StepKind.WAIT,
            at,
            outcome="waiting",
            detail={"until": until.isoformat(), **({"event": step["event"]} if "event" in step else {})},
        )


def next_window(at: datetime, tz: ZoneInfo, window: Mapping[str, Any]) -> datetime:
    """`at` if inside the window (local hours [start, end) on allowed weekdays), else the next opening."""
    start_h, end_h = window["hours"]
    days = set(window.get("weekdays") or range(7))
    local = at.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        opens = datetime.combine(day, time(start_h), tzinfo=tz)
        closes = datetime.combine(day, time(0), tzinfo=tz) + timedelta(hours=end_h)
        if offset == 0 and opens <= local < closes:
            return at
        if opens > local:
            return opens
    return at  # no weekday allowed: validation prevents it; never block a run forever
