"""The scenario definition (schema 1), its validation before publishing, and JSON/YAML import/export.

The schema is documented in docs/scenarios.md. Validation returns every problem, each naming the step
and what is wrong, so the editor can point at it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import yaml

from carekit.core.events.registry import EVENT_TYPE_RE
from carekit.scenarios.actions import ACTIONS
from carekit.scenarios.conditions import OPS, UNARY, known_variable, template_variables

SCHEMA = 1
END = "end"  # a `next` of "end" finishes the run
STEP_TYPES = ("action", "condition", "wait", "split", "end")
REENTRY = ("if_not_active", "once", "always")
_DURATION_RE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
STEP_ID_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,59}$")


@dataclass(frozen=True)
class Problem:
    step: str  # "" for the scenario as a whole
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class InvalidDefinition(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.step or 'scenario'}: {p.message}" for p in problems))
        self.problems = problems


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    m = _DURATION_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"'{value}' is not a duration like 30m, 48h or 7d")
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])


def edges(step: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, target) of every branch leaving a step; a target may be missing (None)."""
    kind = step.get("type")
    if kind == "action":
        return [("next", step.get("next"))]
    if kind == "condition":
        out = [
            (str(c.get("name") or f"case{i + 1}"), c.get("next"))
            for i, c in enumerate(step.get("cases") or [])
        ]
        return [*out, ("else", step.get("else"))]
    if kind == "wait":
        out = [("next", step.get("next"))]
        if "event" in step:
            out.append(("timeout", step.get("on_timeout")))
        return out
    if kind == "split":
        return [
            (str(a.get("name") or f"arm{i + 1}"), a.get("next")) for i, a in enumerate(step.get("arms") or [])
        ]
    return []


def awaited_types(defn: Mapping[str, Any]) -> list[str]:
    return sorted(
        {
            s["event"]
            for s in (defn.get("steps") or {}).values()
            if isinstance(s, Mapping) and s.get("type") == "wait" and isinstance(s.get("event"), str)
        }
    )


def listened_types(defn: Mapping[str, Any]) -> set[str]:
    """Event types a live run of this definition reacts to: awaited events and goals."""
    return set(awaited_types(defn)) | {g["event"] for g in defn.get("goals") or [] if isinstance(g, Mapping)}


def validate(defn: Any) -> list[Problem]:
    problems: list[Problem] = []

    def bad(step: str, code: str, message: str) -> None:
        problems.append(Problem(step, code, message))

    if not isinstance(defn, Mapping):
        return [Problem("", "not_an_object", "the definition must be an object")]
    if defn.get("schema", SCHEMA) != SCHEMA:
        bad("", "schema", f"unsupported schema {defn.get('schema')!r}; this version reads {SCHEMA}")
    trigger = defn.get("trigger")
    trigger_type = trigger.get("event", "") if isinstance(trigger, Mapping) else ""
    if not isinstance(trigger_type, str) or not EVENT_TYPE_RE.match(trigger_type):
        bad("", "trigger", "trigger.event must be an event type like customers.order.returned")
        trigger_type = ""
    if defn.get("reentry", "if_not_active") not in REENTRY:
        bad("", "reentry", f"reentry must be one of {', '.join(REENTRY)}")
    steps = defn.get("steps")
    if not isinstance(steps, Mapping) or not steps:
        bad("", "no_steps", "the scenario has no steps")
        return problems
    start = defn.get("start")
    if start not in steps:
        bad("", "start", f"start names no step ({start!r})")
    saved = {str(s["save_as"]) for s in steps.values() if isinstance(s, Mapping) and s.get("save_as")}
    awaited = awaited_types(defn)

    def check_conditions(step: str, conds: Any, where: str, also_awaited: tuple[str, ...] = ()) -> None:
        if not isinstance(conds, list):
            bad(step, "conditions", f"{where} must be a list of conditions")
            return
        for c in conds:
            if not isinstance(c, Mapping) or "var" not in c or "op" not in c:
                bad(step, "condition", f"{where}: a condition needs 'var' and 'op'")
                continue
            if c["op"] not in OPS:
                bad(step, "operator", f"{where}: unknown operator '{c['op']}'")
            elif c["op"] not in UNARY and "value" not in c and "ref" not in c:
                bad(step, "condition", f"{where}: '{c['var']} {c['op']}' needs a value or a ref")
            for name in (c["var"], c.get("ref")):
                if name is None:
                    continue
                why = known_variable(
                    str(name), trigger_type=trigger_type, awaited_types=[*awaited, *also_awaited], saved=saved
                )
                if why:
                    bad(step, "unknown_variable", f"{where}: unknown variable '{name}': {why}")

    check_conditions(
        "", (trigger or {}).get("when", []) if isinstance(trigger, Mapping) else [], "trigger.when"
    )
    check_conditions("", defn.get("entry", []), "entry")
    for i, goal in enumerate(defn.get("goals") or []):
        if not isinstance(goal, Mapping) or not EVENT_TYPE_RE.match(str(goal.get("event", ""))):
            bad("", "goal", f"goals[{i}] needs an event type")
            continue
        check_conditions("", goal.get("when", []), f"goals[{i}].when", (str(goal["event"]),))

    for sid, step in steps.items():
        if not STEP_ID_RE.match(str(sid)) or sid == END:
            bad(str(sid), "step_id", "step ids are lower-case letters, digits, _ and -, and not 'end'")
        if not isinstance(step, Mapping) or step.get("type") not in STEP_TYPES:
            bad(str(sid), "step_type", f"the step type must be one of {', '.join(STEP_TYPES)}")
            continue
        kind = step["type"]
        if kind == "action":
            spec = ACTIONS.get(str(step.get("action")))
            if spec is None:
                bad(sid, "unknown_action", f"unknown action '{step.get('action')}'")
            else:
                params = step.get("params") or {}
                missing = [k for k in spec.required if k not in params]
                if missing:
                    bad(sid, "action_params", f"{spec.name} needs {', '.join(missing)}")
                for text_key in ("template", "subject", "title"):
                    for var in template_variables(str(params.get(text_key, ""))):
                        why = known_variable(
                            var, trigger_type=trigger_type, awaited_types=awaited, saved=saved
                        )
                        if why:
                            bad(
                                sid, "unknown_variable", f"params.{text_key}: unknown variable '{var}': {why}"
                            )
                if step.get("once", "run") not in ("run", "customer"):
                    bad(sid, "once", "once must be 'run' or 'customer'")
        elif kind == "condition":
            cases = step.get("cases")
            if not isinstance(cases, list) or not cases:
                bad(sid, "cases", "a condition needs at least one case")
            else:
                for i, case in enumerate(cases):
                    check_conditions(
                        sid, case.get("when") if isinstance(case, Mapping) else None, f"cases[{i}].when"
                    )
        elif kind == "wait":
            forms = [k for k in ("duration", "until", "event") if k in step]
            if len(forms) != 1:
                bad(sid, "wait_form", "a wait needs exactly one of duration, until or event")
            for key in ("duration", "timeout"):
                if key in step:
                    try:
                        parse_duration(step[key])
                    except ValueError as exc:
                        bad(sid, "duration", f"{key}: {exc}")
            if "event" in step:
                if not EVENT_TYPE_RE.match(str(step["event"])):
                    bad(sid, "wait_event", "event must be an event type")
                if "timeout" not in step:
                    bad(sid, "timeout", "a wait for an event needs a timeout (and on_timeout)")
                check_conditions(sid, step.get("when", []), "when", (str(step["event"]),))
            if "until" in step:
                window = step["until"]
                hours = window.get("hours") if isinstance(window, Mapping) else None
                if not (
                    isinstance(hours, list)
                    and len(hours) == 2
                    and all(isinstance(h, int) for h in hours)
                    and 0 <= hours[0] < hours[1] <= 24
                ):
                    bad(sid, "window", "until.hours must be [start, end) with 0 <= start < end <= 24")
        elif kind == "split":
            arms = step.get("arms")
            if not isinstance(arms, list) or len(arms) < 2:
                bad(sid, "arms", "a split needs at least two arms")
            elif any(
                not isinstance(a, Mapping) or not isinstance(a.get("weight"), int) or a["weight"] <= 0
                for a in arms
            ):
                bad(sid, "arms", "every arm needs a positive integer weight")
        for label, target in edges(step):
            if target is None:
                bad(sid, "dangling_branch", f"branch '{label}' goes nowhere (set it to a step or 'end')")
            elif target != END and target not in steps:
                bad(sid, "unknown_step", f"branch '{label}' goes to unknown step '{target}'")
    if problems:
        return problems
    return _graph_problems(steps, str(start))


def _graph_problems(steps: Mapping[str, Any], start: str) -> list[Problem]:
    problems: list[Problem] = []
    succ = {sid: [t for _, t in edges(s) if t != END] for sid, s in steps.items()}
    seen: set[str] = set()
    todo = [start]
    while todo:
        sid = todo.pop()
        if sid not in seen:
            seen.add(sid)
            todo.extend(succ[sid])
    for sid in steps:
        if sid not in seen:
            problems.append(Problem(sid, "unreachable", "no path from the start reaches this step"))
    # A cycle is only safe if a wait breaks it; remove waits and look for any cycle left.
    nowait = {
        sid: [t for t in ts if steps[t]["type"] != "wait"]
        for sid, ts in succ.items()
        if steps[sid]["type"] != "wait"
    }
    color: dict[str, int] = {}
    for root in sorted(nowait):
        if color.get(root):
            continue
        stack = [(root, iter(nowait[root]))]
        color[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = 2
                stack.pop()
            elif color.get(nxt) == 1:
                problems.append(
                    Problem(
                        nxt, "cycle_without_wait", f"a loop through '{node}' back to '{nxt}' has no wait step"
                    )
                )
            elif not color.get(nxt):
                color[nxt] = 1
                stack.append((nxt, iter(nowait[nxt])))
    # Every branch ends: from each step some path reaches an end.
    ends = {sid for sid, s in steps.items() if s["type"] == "end" or any(t == END for _, t in edges(s))}
    reaches = set(ends)
    changed = True
    while changed:
        changed = False
        for sid, ts in succ.items():
            if sid not in reaches and any(t in reaches for t in ts):
                reaches.add(sid)
                changed = True
    for sid in steps:
        if sid in seen and sid not in reaches:
            problems.append(Problem(sid, "never_ends", "no path from this step reaches an end"))
    return problems


def ensure_valid(defn: Any) -> None:
    problems = validate(defn)
    if problems:
        raise InvalidDefinition(problems)


# --- import / export ---------------------------------------------------------------------------------

FORMATS = ("json", "yaml")


def export_document(*, name: str, description: str, definition: Mapping[str, Any], fmt: str) -> str:
    doc = {"carekit_scenario": SCHEMA, "name": name, "description": description, "definition": definition}
    if fmt == "yaml":
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    return json.dumps(doc, ensure_ascii=False, indent=2)


def import_document(text: str, fmt: str) -> dict[str, Any]:
    """Parse an exported document; raises InvalidDefinition naming what is wrong."""
    try:
        doc = yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InvalidDefinition([Problem("", "parse", f"not valid {fmt}: {exc}")]) from None
    if (
        not isinstance(doc, dict)
        or doc.get("carekit_scenario") != SCHEMA
        or not isinstance(doc.get("definition"), dict)
    ):
        raise InvalidDefinition(
            [Problem("", "document", "expected carekit_scenario: 1, name and definition")]
        )
    if not str(doc.get("name") or "").strip():
        raise InvalidDefinition([Problem("", "name", "the document has no name")])
    return doc
