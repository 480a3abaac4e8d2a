"""Scenarios API: scenarios, versions (draft, validate, publish, dry-run, export/import), the kill
switch, runs with their trace, experiments and templates. Thin: scope, load, one service, serialize."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from carekit.core.api import need, paginate
from carekit.core.errors import DomainError
from carekit.core.models import Workspace
from carekit.scenarios import definition as defs
from carekit.scenarios import dryrun, experiments, selectors, services
from carekit.scenarios.library import TEMPLATES
from carekit.scenarios.models import Experiment, Run, Scenario, ScenarioVersion
from carekit.scenarios.schemas import (
    DraftIn,
    DryRunIn,
    DryRunOut,
    ExperimentIn,
    ExperimentOut,
    ExportOut,
    ImportIn,
    KillOut,
    RunDetail,
    RunPage,
    ScenarioIn,
    ScenarioOut,
    ScenarioPage,
    ScenarioPatch,
    TemplatePage,
    ValidationOut,
    VersionOut,
    VersionPage,
)

router = Router(tags=["scenarios"])


def _scenario(s: Scenario) -> dict[str, Any]:
    return {
        "id": s.public_id,
        "name": s.name,
        "description": s.description,
        "trigger_type": s.trigger_type,
        "published_version": s.published.number if s.published else None,
        "killed": s.killed,
        "rate_limit_per_hour": s.rate_limit_per_hour,
        "rate_limited": s.rate_limited,
        "created_at": s.created_at,
    }


def _version(v: ScenarioVersion) -> dict[str, Any]:
    return {
        "id": v.public_id,
        "number": v.number,
        "status": v.status,
        "definition": v.definition,
        "created_at": v.created_at,
        "published_at": v.published_at,
    }


def _run(r: Run) -> dict[str, Any]:
    return {
        "id": r.public_id,
        "scenario_id": r.scenario.public_id,
        "version": r.version.number,
        "customer_id": r.customer_id,
        "status": r.status,
        "arm": r.arm,
        "step": r.step,
        "wait_until": r.wait_until,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
    }


def _experiment(e: Experiment, results: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": e.public_id,
        "status": e.status,
        "arms": e.arms,
        "goal": e.goal,
        "horizon_at": e.horizon_at,
        "min_sample_per_arm": e.min_sample_per_arm,
        "results": results,
    }


@router.get("/scenarios", response=ScenarioPage, summary="Scenarios of the workspace")
def list_scenarios(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "scenarios:read")
    page = paginate(selectors.scenarios(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_scenario(s) for s in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/scenarios", response={201: ScenarioOut}, summary="Create a scenario (optionally from a template)"
)
def create_scenario(request: HttpRequest, body: ScenarioIn) -> Status:
    p = need(request, "scenarios:write")
    definition = body.definition
    if body.template is not None:
        if body.template not in TEMPLATES:
            raise DomainError("Unknown template.", field="template")
        definition = TEMPLATES[body.template]["definition"]
    with transaction.atomic(durable=True):
        s = services.scenario_create(
            actor=p.actor,
            workspace=Workspace.objects.get(pk=p.workspace_id),
            name=body.name,
            description=body.description,
            definition=definition,
        )
    return Status(201, _scenario(s))


@router.post(
    "/scenarios/import", response={201: ScenarioOut}, summary="Import an exported scenario as a draft"
)
def import_scenario(request: HttpRequest, body: ImportIn) -> Status:
    p = need(request, "scenarios:write")
    with transaction.atomic(durable=True):
        s = services.scenario_import(
            actor=p.actor, workspace=Workspace.objects.get(pk=p.workspace_id), text=body.text, fmt=body.format
        )
    return Status(201, _scenario(s))


@router.get("/scenarios/{scenario_id}", response=ScenarioOut, summary="One scenario")
def get_scenario(request: HttpRequest, scenario_id: str) -> dict[str, Any]:
    p = need(request, "scenarios:read")
    return _scenario(selectors.scenario(p.workspace_id, scenario_id))


@router.patch("/scenarios/{scenario_id}", response=ScenarioOut, summary="Rename or set the rate limit")
def patch_scenario(request: HttpRequest, scenario_id: str, body: ScenarioPatch) -> dict[str, Any]:
    p = need(request, "scenarios:write")
    with transaction.atomic(durable=True):
        s = services.scenario_update(
            actor=p.actor,
            scenario=selectors.scenario(p.workspace_id, scenario_id),
            **body.model_dump(exclude_unset=True),
        )
    return _scenario(s)


@router.post("/scenarios/{scenario_id}/kill", response=KillOut, summary="Kill switch: stop entries and runs")
def kill_scenario(request: HttpRequest, scenario_id: str) -> dict[str, Any]:
    p = need(request, "scenarios:publish")
    with transaction.atomic(durable=True):
        s = selectors.scenario(p.workspace_id, scenario_id)
        stopped = services.scenario_kill(actor=p.actor, scenario=s)
    return {"id": s.public_id, "killed": True, "runs_stopped": stopped}


@router.post("/scenarios/{scenario_id}/revive", response=ScenarioOut, summary="Allow new entries again")
def revive_scenario(request: HttpRequest, scenario_id: str) -> dict[str, Any]:
    p = need(request, "scenarios:publish")
    with transaction.atomic(durable=True):
        s = services.scenario_revive(actor=p.actor, scenario=selectors.scenario(p.workspace_id, scenario_id))
    return _scenario(s)


@router.get("/scenarios/{scenario_id}/versions", response=VersionPage, summary="Versions, newest first")
def list_versions(
    request: HttpRequest, scenario_id: str, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    p = need(request, "scenarios:read")
    s = selectors.scenario(p.workspace_id, scenario_id)
    page = paginate(selectors.versions(p.workspace_id, s.pk), cursor=cursor, limit=limit)
    return {"items": [_version(v) for v in page.items], "next_cursor": page.next_cursor}


@router.put("/scenarios/{scenario_id}/draft", response=VersionOut, summary="Save the draft's definition")
def save_draft(request: HttpRequest, scenario_id: str, body: DraftIn) -> dict[str, Any]:
    p = need(request, "scenarios:write")
    with transaction.atomic(durable=True):
        v = services.draft_save(
            actor=p.actor,
            scenario=selectors.scenario(p.workspace_id, scenario_id),
            definition=body.definition,
        )
    return _version(v)


@router.post(
    "/scenarios/{scenario_id}/versions/{version_id}/validate",
    response=ValidationOut,
    summary="Check a version: each problem names its step",
)
def validate_version(request: HttpRequest, scenario_id: str, version_id: str) -> dict[str, Any]:
    p = need(request, "scenarios:read")
    s = selectors.scenario(p.workspace_id, scenario_id)
    problems = defs.validate(selectors.version(p.workspace_id, s.pk, version_id).definition)
    return {"valid": not problems, "problems": [x.as_dict() for x in problems]}


@router.post(
    "/scenarios/{scenario_id}/versions/{version_id}/publish",
    response=VersionOut,
    summary="Publish a draft (422 with the problems if it is not valid)",
)
def publish_version(request: HttpRequest, scenario_id: str, version_id: str) -> dict[str, Any]:
    p = need(request, "scenarios:publish")
    with transaction.atomic(durable=True):
        s = selectors.scenario(p.workspace_id, scenario_id)
        v = services.version_publish(
            actor=p.actor, version=selectors.version(p.workspace_id, s.pk, version_id)
        )
    return _version(v)


@router.post(
    "/scenarios/{scenario_id}/versions/{version_id}/dry-run",
    response=DryRunOut,
    summary="Replay the last N days of events through a version, without side effects",
)
def dry_run_version(
    request: HttpRequest, scenario_id: str, version_id: str, body: DryRunIn
) -> dict[str, Any]:
    p = need(request, "scenarios:write")
    s = selectors.scenario(p.workspace_id, scenario_id)
    v = selectors.version(p.workspace_id, s.pk, version_id)
    try:
        report = dryrun.dry_run(
            workspace_id=p.workspace_id,
            definition=v.definition,
            days=body.days,
            now=timezone.now(),
            scenario_id=s.public_id,
            rate_limit_per_hour=s.rate_limit_per_hour,
        )
    except defs.InvalidDefinition as exc:
        raise services.InvalidScenario(
            str(exc), details={"problems": [x.as_dict() for x in exc.problems]}
        ) from None
    return report.as_dict()


@router.get(
    "/scenarios/{scenario_id}/versions/{version_id}/export",
    response=ExportOut,
    summary="Export a version as JSON or YAML (the import format)",
)
def export_version(
    request: HttpRequest, scenario_id: str, version_id: str, format: str = "json"
) -> dict[str, Any]:
    p = need(request, "scenarios:read")
    if format not in defs.FORMATS:
        raise DomainError("The format must be json or yaml.", field="format")
    s = selectors.scenario(p.workspace_id, scenario_id)
    v = selectors.version(p.workspace_id, s.pk, version_id)
    text = defs.export_document(name=s.name, description=s.description, definition=v.definition, fmt=format)
    return {"format": format, "text": text}


@router.get("/scenarios/{scenario_id}/runs", response=RunPage, summary="Runs of a scenario, newest first")
def list_runs(
    request: HttpRequest,
    scenario_id: str,
    status: str | None = None,
    customer_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    p = need(request, "scenarios:read")
    s = selectors.scenario(p.workspace_id, scenario_id)
    qs = selectors.runs(p.workspace_id).filter(scenario=s)
    if status:
        qs = qs.filter(status=status)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    page = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_run(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get("/scenario-runs/{run_id}", response=RunDetail, summary="A run with its step trace")
def get_run(request: HttpRequest, run_id: str) -> dict[str, Any]:
    p = need(request, "scenarios:read")
    r = selectors.run(p.workspace_id, run_id)
    trace = [
        {
            "seq": t.seq,
            "step": t.step,
            "kind": t.kind,
            "outcome": t.outcome,
            "branch": t.branch,
            "detail": t.detail,
            "at": t.at,
        }
        for t in selectors.trace(r)
    ]
    return {**_run(r), "trace": trace}


@router.post(
    "/scenarios/{scenario_id}/experiments",
    response={201: ExperimentOut},
    summary="Start a holdout experiment on the published version",
)
def start_experiment(request: HttpRequest, scenario_id: str, body: ExperimentIn) -> Status:
    p = need(request, "scenarios:publish")
    with transaction.atomic(durable=True):
        e = services.experiment_start(
            actor=p.actor,
            scenario=selectors.scenario(p.workspace_id, scenario_id),
            arms=[a.model_dump(exclude_none=True) for a in body.arms],
            goal=body.goal.model_dump(exclude_none=True),
            horizon_at=body.horizon_at,
            min_sample_per_arm=body.min_sample_per_arm,
        )
    return Status(201, _experiment(e))


@router.get(
    "/scenarios/{scenario_id}/experiment",
    response=ExperimentOut,
    summary="The latest experiment with results per arm",
)
def get_experiment(request: HttpRequest, scenario_id: str) -> dict[str, Any]:
    p = need(request, "scenarios:read")
    s = selectors.scenario(p.workspace_id, scenario_id)
    e = selectors.experiment(p.workspace_id, s.pk)
    return _experiment(e, experiments.results(e, now=timezone.now()))


@router.post(
    "/scenarios/{scenario_id}/experiment/stop", response=ExperimentOut, summary="Stop the experiment"
)
def stop_experiment(request: HttpRequest, scenario_id: str) -> dict[str, Any]:
    p = need(request, "scenarios:publish")
    with transaction.atomic(durable=True):
        s = selectors.scenario(p.workspace_id, scenario_id)
        e = services.experiment_stop(actor=p.actor, experiment=selectors.experiment(p.workspace_id, s.pk))
    return _experiment(e)


@router.get("/scenario-templates", response=TemplatePage, summary="Ready-made scenarios")
def list_templates(request: HttpRequest) -> dict[str, Any]:
    need(request, "scenarios:read")
    return {
        "items": [
            {"id": k, "name": t["name"], "description": t["description"], "definition": t["definition"]}
            for k, t in sorted(TEMPLATES.items())
        ]
    }
