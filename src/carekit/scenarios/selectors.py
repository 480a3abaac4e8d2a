"""Reads, always scoped to the workspace: an id from another workspace is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from carekit.scenarios.models import Experiment, Run, Scenario, ScenarioVersion, StepRun


def scenarios(workspace_id: int) -> QuerySet[Scenario]:
    return Scenario.objects.filter(workspace_id=workspace_id).select_related("published")


def scenario(workspace_id: int, scenario_id: str) -> Scenario:
    return get_object_or_404(scenarios(workspace_id), public_id=scenario_id)


def versions(workspace_id: int, scenario_pk: int) -> QuerySet[ScenarioVersion]:
    return ScenarioVersion.objects.filter(workspace_id=workspace_id, scenario_id=scenario_pk)


def version(workspace_id: int, scenario_pk: int, version_id: str) -> ScenarioVersion:
    return get_object_or_404(
        versions(workspace_id, scenario_pk).select_related("scenario"), public_id=version_id
    )


def runs(workspace_id: int) -> QuerySet[Run]:
    return Run.objects.filter(workspace_id=workspace_id).select_related("scenario", "version")


def run(workspace_id: int, run_id: str) -> Run:
    return get_object_or_404(runs(workspace_id), public_id=run_id)


def trace(run: Run) -> QuerySet[StepRun]:
    return StepRun.objects.filter(workspace_id=run.workspace_id, run=run).order_by("seq")


def experiment(workspace_id: int, scenario_pk: int) -> Experiment:
    qs = Experiment.objects.filter(workspace_id=workspace_id, scenario_id=scenario_pk).order_by(
        "-started_at", "-pk"
    )
    found = qs.first()
    if found is None:
        from django.http import Http404

        raise Http404("no experiment")
    return found
