"""Route cases for every scenarios API route (see carekit.testing.routes)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from carekit.core.models import Workspace
from carekit.scenarios import definition as defs
from carekit.scenarios import services
from carekit.scenarios.models import Run, Scenario
from carekit.scenarios.tests import factories
from carekit.scenarios.tests.factories import SYSTEM
from carekit.testing.routes import RouteCall, route_case


def _scn(ws: Workspace) -> Scenario:
    return factories.published(ws, factories.template("defective_item"))


def _draft_id(s: Scenario) -> str:
    return s.versions.get().public_id


def _run(ws: Workspace) -> Run:
    s = _scn(ws)
    assert s.published is not None
    return Run.objects.create(
        workspace=ws,
        scenario=s,
        version=s.published,
        customer_id="cus_x",
        trigger_event_id=1,
        trigger_at=timezone.now(),
    )


def _with_experiment(ws: Workspace) -> Scenario:
    s = _scn(ws)
    with transaction.atomic():
        services.experiment_start(
            actor=SYSTEM,
            scenario=s,
            arms=EXPERIMENT["arms"],
            goal=EXPERIMENT["goal"],
            horizon_at=timezone.now() + timedelta(days=7),
        )
    return s


EXPERIMENT = {
    "arms": [{"name": "control", "weight": 10, "holdout": True}, {"name": "treated", "weight": 90}],
    "goal": {"event": "customers.order.status_changed", "window_hours": 72},
    "horizon_at": "2030-01-01T00:00:00Z",
}


@route_case("GET", "/scenarios", scope="scenarios:read")
def _list(own, other):
    return RouteCall(
        "/scenarios", kind="list", own_ids={_scn(own).public_id}, foreign_ids={_scn(other).public_id}
    )


@route_case("POST", "/scenarios", scope="scenarios:write")
def _create(own, other):
    return RouteCall("/scenarios", {"name": "From template", "template": "defective_item"}, kind="plain")


@route_case("POST", "/scenarios/import", scope="scenarios:write")
def _import(own, other):
    text = defs.export_document(
        name="Imported", description="", definition=factories.template("win_back"), fmt="yaml"
    )
    return RouteCall("/scenarios/import", {"format": "yaml", "text": text}, kind="plain")


@route_case("GET", "/scenarios/{scenario_id}", scope="scenarios:read")
def _get(own, other):
    return RouteCall(f"/scenarios/{_scn(other).public_id}")


@route_case("PATCH", "/scenarios/{scenario_id}", scope="scenarios:write")
def _patch(own, other):
    return RouteCall(f"/scenarios/{_scn(other).public_id}", {"rate_limit_per_hour": 10})


@route_case("POST", "/scenarios/{scenario_id}/kill", scope="scenarios:publish")
def _kill(own, other):
    return RouteCall(f"/scenarios/{_scn(other).public_id}/kill")


@route_case("POST", "/scenarios/{scenario_id}/revive", scope="scenarios:publish")
def _revive(own, other):
    return RouteCall(f"/scenarios/{_scn(other).public_id}/revive")


@route_case("GET", "/scenarios/{scenario_id}/versions", scope="scenarios:read")
def _versions(own, other):
    return RouteCall(f"/scenarios/{_scn(other).public_id}/versions")


@route_case("PUT", "/scenarios/{scenario_id}/draft", scope="scenarios:write")
def _draft(own, other):
    return RouteCall(
        f"/scenarios/{_scn(other).public_id}/draft", {"definition": factories.template("win_back")}
    )


@route_case("POST", "/scenarios/{scenario_id}/versions/{version_id}/validate", scope="scenarios:read")
def _validate(own, other):
    return RouteCall(f"/scenarios/{_scn(own).public_id}/versions/{_draft_id(_scn(other))}/validate")


@route_case("POST", "/scenarios/{scenario_id}/versions/{version_id}/publish", scope="scenarios:publish")
def _publish(own, other):
    s = _scn(other)
    with transaction.atomic():
        v = services.draft_save(actor=SYSTEM, scenario=s, definition=factories.template("win_back"))
    return RouteCall(f"/scenarios/{s.public_id}/versions/{v.public_id}/publish")


@route_case("POST", "/scenarios/{scenario_id}/versions/{version_id}/dry-run", scope="scenarios:write")
def _dry_run(own, other):
    s = _scn(other)
    return RouteCall(f"/scenarios/{s.public_id}/versions/{_draft_id(s)}/dry-run", {"days": 7})


@route_case("GET", "/scenarios/{scenario_id}/versions/{version_id}/export", scope="scenarios:read")
def _export(own, other):
    s = _scn(other)
    return RouteCall(f"/scenarios/{s.public_id}/versions/{_draft_id(s)}/export")


@route_case("GET", "/scenarios/{scenario_id}/runs", scope="scenarios:read")
def _runs(own, other):
    return RouteCall(f"/scenarios/{_run(other).scenario.public_id}/runs")


@route_case("GET", "/scenario-runs/{run_id}", scope="scenarios:read")
def _get_run(own, other):
    return RouteCall(f"/scenario-runs/{_run(other).public_id}")


@route_case("POST", "/scenarios/{scenario_id}/experiments", scope="scenarios:publish")
def _start_experiment(own, other):
    return RouteCall(f"/scenarios/{_scn(other).public_id}/experiments", EXPERIMENT)


@route_case("GET", "/scenarios/{scenario_id}/experiment", scope="scenarios:read")
def _get_experiment(own, other):
    return RouteCall(f"/scenarios/{_with_experiment(other).public_id}/experiment")


@route_case("POST", "/scenarios/{scenario_id}/experiment/stop", scope="scenarios:publish")
def _stop_experiment(own, other):
    return RouteCall(f"/scenarios/{_with_experiment(other).public_id}/experiment/stop")


@route_case("GET", "/scenario-templates", scope="scenarios:read")
def _templates(own, other):
    return RouteCall("/scenario-templates", kind="plain")
