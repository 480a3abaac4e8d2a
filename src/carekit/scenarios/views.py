"""The scenario editor pages: the list, and per scenario its flow drawn step by step with each
step's problems, a YAML editor of the draft (validate, save, publish) and the latest runs.

Signed-in pages in the current workspace (session auth through core's WorkspaceAuth); writes go
through services inside the view's durable transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from carekit.core.api.auth import Principal, WorkspaceAuth
from carekit.core.errors import DomainError
from carekit.scenarios import definition as defs
from carekit.scenarios import selectors, services
from carekit.scenarios.enums import VersionStatus


def _principal(request: HttpRequest, scope: str) -> Principal | None:
    p = getattr(request, "principal", None) or WorkspaceAuth()(request)
    return p if p is not None and p.has(scope) else None


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "scenarios/forbidden.html", status=403)


def flow(definition: Mapping[str, Any], problems: list[defs.Problem]) -> list[dict[str, Any]]:
    """Steps in the order a run meets them (breadth first from the start), each with its branches."""
    raw = definition.get("steps")
    steps: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    by_step: dict[str, list[str]] = {}
    for pr in problems:
        by_step.setdefault(pr.step, []).append(pr.message)
    order: list[str] = []
    queue = [str(definition.get("start") or "")]
    while queue:
        sid = queue.pop(0)
        if sid in order or sid not in steps:
            continue
        order.append(sid)
        queue += [str(t) for _, t in defs.edges(steps[sid]) if t]
    order += [str(s) for s in steps if s not in order]  # unreachable steps last, flagged by validation
    out = []
    for sid in order:
        step = steps[sid] if isinstance(steps[sid], Mapping) else {}
        out.append(
            {
                "id": sid,
                "yaml": yaml.safe_dump(dict(step), sort_keys=False, allow_unicode=True),
                "type": step.get("type", "?"),
                "summary": _summary(step),
                "branches": [(label, target or "—") for label, target in defs.edges(step)],
                "problems": by_step.get(sid, []),
            }
        )
    return out


def _summary(step: Mapping[str, Any]) -> str:
    kind = step.get("type")
    if kind == "action":
        return str(step.get("action", ""))
    if kind == "wait":
        if "event" in step:
            return f"until {step['event']} (timeout {step.get('timeout', '?')})"
        if "duration" in step:
            return f"for {step['duration']}"
        return f"until the window {step.get('until')}"
    if kind == "condition":
        return "; ".join(
            f"{c.get('name', '?')}: "
            + " and ".join(
                f"{w.get('var')} {w.get('op')} {w.get('value', w.get('ref', ''))}"
                for w in c.get("when") or []
            )
            for c in step.get("cases") or []
        )
    if kind == "split":
        return ", ".join(f"{a.get('name', '?')} {a.get('weight')}" for a in step.get("arms") or [])
    return ""


STEP_SKELETONS: dict[str, dict[str, Any]] = {
    "action": {"type": "action", "action": "customer.tag", "params": {"tag": "new"}, "next": "end"},
    "condition": {"type": "condition", "cases": [{"name": "yes", "when": [], "next": "end"}], "else": "end"},
    "wait": {"type": "wait", "duration": "1h", "next": "end"},
    "split": {
        "type": "split",
        "arms": [{"name": "a", "weight": 50, "next": "end"}, {"name": "b", "weight": 50, "next": "end"}],
    },
    "end": {"type": "end"},
}


def _edit_step(definition: dict[str, Any], form: Mapping[str, str]) -> str:
    """The per-step forms: replace one step, add one from a skeleton, or delete one. '' or an error."""
    steps = dict(definition.get("steps") or {})
    sid = form.get("step_id", "").strip()
    if not defs.STEP_ID_RE.match(sid) or sid == defs.END:
        return "A step id is lower-case letters, digits, _ and -."
    action = form.get("action")
    if action == "step_add":
        kind = form.get("step_type", "")
        if kind not in STEP_SKELETONS or sid in steps:
            return "Choose a step type and a new id."
        steps[sid] = dict(STEP_SKELETONS[kind])
        definition.setdefault("start", sid)
    elif action == "step_delete":
        steps.pop(sid, None)
    else:
        try:
            step = yaml.safe_load(form.get("step", ""))
        except yaml.YAMLError as exc:
            return f"Not valid YAML: {exc}"
        if not isinstance(step, dict):
            return "A step must be a mapping."
        steps[sid] = step
    definition["steps"] = steps
    return ""


@login_required
def scenario_list(request: HttpRequest) -> HttpResponse:
    p = _principal(request, "scenarios:read")
    if p is None:
        return _forbidden(request)
    return render(
        request,
        "scenarios/list.html",
        {"scenarios": selectors.scenarios(p.workspace_id).order_by("name")[:200]},
    )


@login_required
@require_http_methods(["GET", "POST"])
def scenario_detail(request: HttpRequest, scenario_id: str) -> HttpResponse:
    p = _principal(request, "scenarios:read")
    if p is None:
        return _forbidden(request)
    scenario = selectors.scenario(p.workspace_id, scenario_id)
    draft = scenario.versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()
    current = draft or scenario.published
    text = yaml.safe_dump(current.definition if current else {}, sort_keys=False, allow_unicode=True)
    error = ""
    if request.method == "POST" and request.POST.get("action") in ("step_save", "step_add", "step_delete"):
        if not p.has("scenarios:write"):
            return _forbidden(request)
        base = dict(current.definition) if current else {"schema": defs.SCHEMA, "trigger": {}, "steps": {}}
        error = _edit_step(base, request.POST)
        if not error:
            with transaction.atomic(durable=True):
                services.draft_save(actor=p.actor, scenario=scenario, definition=base)
            return redirect("scenarios:detail", scenario_id=scenario.public_id)
    if request.method == "POST" and not error:
        action = request.POST.get("action", "validate")
        text = request.POST.get("definition", "")
        needed = "scenarios:publish" if action == "publish" else "scenarios:write"
        if not p.has(needed):
            return _forbidden(request)
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            parsed, error = None, f"Not valid YAML: {exc}"
        if isinstance(parsed, dict) and action in ("save", "publish"):
            try:
                with transaction.atomic(durable=True):
                    version = services.draft_save(actor=p.actor, scenario=scenario, definition=parsed)
                    if action == "publish":
                        services.version_publish(actor=p.actor, version=version)
                return redirect("scenarios:detail", scenario_id=scenario.public_id)
            except DomainError as exc:
                error = exc.message
        elif parsed is not None and not isinstance(parsed, dict):
            error = "The definition must be a mapping."
        current_def = parsed if isinstance(parsed, dict) else {}
    else:
        current_def = current.definition if current else {}
    problems = defs.validate(current_def)
    return render(
        request,
        "scenarios/detail.html",
        {
            "scenario": scenario,
            "draft": draft,
            "text": text,
            "error": error,
            "problems": problems,
            "flow": flow(current_def, problems),
            "runs": selectors.runs(p.workspace_id).filter(scenario=scenario).order_by("-pk")[:20],
            "status": request.method == "POST" and not error,
        },
    )
