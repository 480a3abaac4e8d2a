"""Route cases for the bot API (see carekit.testing.routes)."""

from __future__ import annotations

from django.db import transaction

from carekit.bot import services
from carekit.bot.enums import ModelStatus
from carekit.bot.models import BotModel
from carekit.core.models import Workspace
from carekit.testing.routes import RouteCall, route_case
from carekit.testing.tenants import SYSTEM


def _example(ws: Workspace, text: str = "где посылка"):
    with transaction.atomic():
        return services.example_add(actor=SYSTEM, workspace=ws, text=f"{text} {ws.pk}", intent="order_status")


def _model(ws: Workspace) -> BotModel:
    # A finished row without fitting anything: route checks need the row, not a trained model.
    with transaction.atomic():
        m = services.model_request(actor=SYSTEM, workspace=ws)
        BotModel.objects.filter(pk=m.pk).update(status=ModelStatus.RETIRED, artifact=b"x")
    return m


@route_case("POST", "/bot/understand", scope="bot:read")
def _understand(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/bot/understand", body={"text": "где мой заказ 10234"}, kind="plain")


@route_case("GET", "/bot/examples", scope="bot:read")
def _examples(own: Workspace, other: Workspace) -> RouteCall:
    mine, theirs = _example(own), _example(other)
    return RouteCall("/bot/examples", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("POST", "/bot/examples", scope="bot:manage")
def _example_add(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(
        "/bot/examples", body={"text": "куда пропал мой заказ", "intent": "order_status"}, kind="plain"
    )


@route_case("POST", "/bot/examples/{example_id}/review", scope="bot:manage")
def _example_review(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/bot/examples/{_example(other).public_id}/review", body={"accept": True})


@route_case("DELETE", "/bot/examples/{example_id}", scope="bot:manage")
def _example_remove(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/bot/examples/{_example(other).public_id}")


@route_case("GET", "/bot/models", scope="bot:read")
def _models(own: Workspace, other: Workspace) -> RouteCall:
    mine, theirs = _model(own), _model(other)
    return RouteCall("/bot/models", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("POST", "/bot/models", scope="bot:manage")
def _retrain(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/bot/models", body={}, kind="plain")


@route_case("GET", "/bot/models/{model_id}", scope="bot:read")
def _model_get(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/bot/models/{_model(other).public_id}")


@route_case("POST", "/bot/models/{model_id}/activate", scope="bot:manage")
def _model_activate(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/bot/models/{_model(other).public_id}/activate", body={})
