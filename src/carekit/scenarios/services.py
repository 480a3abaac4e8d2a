"""Every write to scenarios: keyword-only, with `actor=`, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from carekit.core.errors import Conflict, DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.scenarios import definition as defs
from carekit.scenarios import runtime
from carekit.scenarios.enums import ACTIVE_RUN_STATUSES, ExperimentStatus, RunStatus, VersionStatus
from carekit.scenarios.models import Experiment, Run, Scenario, ScenarioTask, ScenarioVersion
from carekit.scenarios.ports import InboxRequest


class InvalidScenario(DomainError):
    code = "invalid_scenario"
    status = 422


def _emit(scenario: Scenario, actor: Actor, type_: str, **payload: Any) -> None:
    emit(
        workspace_id=scenario.workspace_id,
        type=f"scenarios.{type_}",
        subject_type="scenario",
        subject_id=scenario.public_id,
        actor=actor,
        payload={"scenario_id": scenario.public_id, **payload},
    )


def _check_shape(definition: Any) -> None:
    if not isinstance(definition, Mapping):
        raise InvalidScenario("The definition must be an object.", field="definition")


def scenario_create(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    description: str = "",
    definition: Mapping[str, Any] | None = None,
) -> Scenario:
    """A new scenario with its first draft (drafts may be incomplete; publishing validates)."""
    if not name.strip():
        raise InvalidScenario("A scenario needs a name.", field="name")
    definition = dict(definition or {"schema": defs.SCHEMA, "trigger": {}, "steps": {}})
    _check_shape(definition)
    scenario = Scenario.objects.create(workspace=workspace, name=name.strip()[:200], description=description)
    ScenarioVersion.objects.create(workspace=workspace, scenario=scenario, number=1, definition=definition)
    _emit(scenario, actor, "scenario.created")
    return scenario


def draft_save(*, actor: Actor, scenario: Scenario, definition: Mapping[str, Any]) -> ScenarioVersion:
    """Replace the open draft, or open a new one after the last published version."""
    _check_shape(definition)
    draft = scenario.versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()
    if draft is None:
        number = (scenario.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        draft = ScenarioVersion(workspace_id=scenario.workspace_id, scenario=scenario, number=number)
    draft.definition = dict(definition)
    draft.save()
    scenario.updated_at = timezone.now()
    scenario.save(update_fields=["updated_at"])
    return draft


def version_publish(*, actor: Actor, version: ScenarioVersion) -> ScenarioVersion:
    """Validate and publish; the previous published version retires (its runs finish on it)."""
    if version.status != VersionStatus.DRAFT:
        raise Conflict("Only a draft can be published.", field="version_id")
    problems = defs.validate(version.definition)
    if problems:
        raise InvalidScenario(
            f"The scenario cannot be published: {problems[0].step or 'scenario'}: {problems[0].message}",
            details={"problems": [p.as_dict() for p in problems]},
        )
    scenario = Scenario.objects.select_for_update().get(pk=version.scenario_id)
    now = timezone.now()
    scenario.versions.filter(status=VersionStatus.PUBLISHED).update(status=VersionStatus.RETIRED)
    version.status, version.published_at = VersionStatus.PUBLISHED, now
    version.save(update_fields=["status", "published_at"])
    scenario.published = version
    scenario.trigger_type = version.definition["trigger"]["event"]
    scenario.updated_at = now
    scenario.save(update_fields=["published", "trigger_type", "updated_at"])
    _emit(scenario, actor, "version.published", version=version.number)
    transaction.on_commit(lambda: runtime.invalidate(scenario.workspace_id))
    runtime.invalidate(scenario.workspace_id)
    return version


def scenario_update(
    *,
    actor: Actor,
    scenario: Scenario,
    name: str | None = None,
    description: str | None = None,
    rate_limit_per_hour: int | None = None,
    clear_rate_limit: bool = False,
) -> Scenario:
    if name is not None:
        if not name.strip():
            raise InvalidScenario("A scenario needs a name.", field="name")
        scenario.name = name.strip()[:200]
    if description is not None:
        scenario.description = description
    if rate_limit_per_hour is not None:
        scenario.rate_limit_per_hour = rate_limit_per_hour
    if clear_rate_limit:
        scenario.rate_limit_per_hour = None
    scenario.updated_at = timezone.now()
    scenario.save(update_fields=["name", "description", "rate_limit_per_hour", "updated_at"])
    transaction.on_commit(lambda: runtime.invalidate(scenario.workspace_id))
    return scenario


def scenario_kill(*, actor: Actor, scenario: Scenario, at: datetime | None = None) -> int:
    """The kill switch: no new runs, and every active run stops now. Returns how many runs stopped."""
    at = at or timezone.now()
    scenario.killed = True
    scenario.save(update_fields=["killed"])
    stopped = Run.objects.filter(scenario=scenario, status__in=ACTIVE_RUN_STATUSES).update(
        status=RunStatus.KILLED, finished_at=at, wait_until=None
    )
    _emit(scenario, actor, "scenario.killed", runs_stopped=stopped)
    transaction.on_commit(lambda: runtime.invalidate(scenario.workspace_id))
    runtime.invalidate(scenario.workspace_id)
    return stopped


def scenario_revive(*, actor: Actor, scenario: Scenario) -> Scenario:
    """Undo the kill switch for new entries (stopped runs stay stopped)."""
    scenario.killed = False
    scenario.save(update_fields=["killed"])
    _emit(scenario, actor, "scenario.revived")
    transaction.on_commit(lambda: runtime.invalidate(scenario.workspace_id))
    runtime.invalidate(scenario.workspace_id)
    return scenario


def scenario_import(*, actor: Actor, workspace: Workspace, text: str, fmt: str) -> Scenario:
    if fmt not in defs.FORMATS:
        raise InvalidScenario("The format must be json or yaml.", field="format")
    try:
        doc = defs.import_document(text, fmt)
    except defs.InvalidDefinition as exc:
        raise InvalidScenario(str(exc), details={"problems": [p.as_dict() for p in exc.problems]}) from None
    return scenario_create(
        actor=actor,
        workspace=workspace,
        name=str(doc["name"]),
        description=str(doc.get("description") or ""),
        definition=doc["definition"],
    )


def experiment_start(
    *,
    actor: Actor,
    scenario: Scenario,
    arms: list[dict[str, Any]],
    goal: Mapping[str, Any],
    horizon_at: datetime,
    min_sample_per_arm: int = 100,
) -> Experiment:
    """Hash customers into arms; at least one holdout arm (gets nothing) and one that runs the scenario."""
    if scenario.published is None:
        raise Conflict("Publish the scenario before testing it.", field="scenario_id")
    steps = scenario.published.definition.get("steps", {})
    names = [str(a.get("name") or "") for a in arms]
    if len(arms) < 2 or len(set(names)) != len(names) or not all(names):
        raise InvalidScenario("An experiment needs at least two arms with distinct names.", field="arms")
    if any(not isinstance(a.get("weight"), int) or a["weight"] <= 0 for a in arms):
        raise InvalidScenario("Every arm needs a positive integer weight.", field="arms")
    if not any(a.get("holdout") for a in arms) or all(a.get("holdout") for a in arms):
        raise InvalidScenario("An experiment needs a holdout (control) arm and a treated arm.", field="arms")
    bad = [a["start"] for a in arms if a.get("start") and a["start"] not in steps]
    if bad:
        raise InvalidScenario(
            f"Arm start step {bad[0]!r} is not a step of the published version.", field="arms"
        )
    if not isinstance(goal.get("event"), str) or int(goal.get("window_hours") or 0) <= 0:
        raise InvalidScenario("The goal needs an event type and a window in hours.", field="goal")
    try:
        exp = Experiment.objects.create(
            workspace_id=scenario.workspace_id,
            scenario=scenario,
            arms=arms,
            goal=dict(goal),
            horizon_at=horizon_at,
            min_sample_per_arm=min_sample_per_arm,
        )
    except IntegrityError:
        raise Conflict("This scenario already has a running experiment.", field="scenario_id") from None
    _emit(scenario, actor, "experiment.started", experiment_id=exp.public_id)
    transaction.on_commit(lambda: runtime.invalidate(scenario.workspace_id))
    runtime.invalidate(scenario.workspace_id)
    return exp


def experiment_stop(*, actor: Actor, experiment: Experiment) -> Experiment:
    experiment.status = ExperimentStatus.STOPPED
    experiment.save(update_fields=["status"])
    transaction.on_commit(lambda: runtime.invalidate(experiment.workspace_id))
    runtime.invalidate(experiment.workspace_id)
    return experiment


def task_record(*, request: InboxRequest) -> tuple[ScenarioTask, bool]:
    """The local stand-in for the inbox: one task row per idempotency key."""
    run = Run.objects.get(public_id=request.run_id)
    due = None
    if request.params.get("due_in"):
        due = request.at + defs.parse_duration(request.params["due_in"])
    return ScenarioTask.objects.get_or_create(
        idempotency_key=request.idempotency_key,
        defaults={
            "workspace_id": request.workspace_id,
            "run": run,
            "customer_id": request.customer_id,
            "kind": "notification" if request.action == "team.notify" else "task",
            "team": str(request.params.get("team", "")),
            "title": str(request.params.get("title", ""))[:300],
            "due_at": due,
        },
    )
