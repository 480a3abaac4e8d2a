"""Bot API: understand a message, manage training examples, retrain and activate models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from carekit.bot import public, selectors, services, tasks
from carekit.bot.enums import ExampleStatus
from carekit.bot.models import BotModel, TrainingExample
from carekit.core.api import StrictSchema, need, paginate
from carekit.core.models import Workspace

router = Router(tags=["bot"])


class UnderstandIn(StrictSchema):
    # Longer messages are accepted and cut: the bot must answer a pasted wall of text, not refuse it.
    text: str = Field(max_length=20_000)


class EntityOut(Schema):
    kind: str
    value: str
    text: str


class UnderstandingOut(Schema):
    language: str
    intent: str
    confidence: float
    out_of_scope: bool
    entities: list[EntityOut]
    sentiment: str
    sentiment_score: float
    model_version: int | None


class ExampleIn(StrictSchema):
    text: str = Field(min_length=1, max_length=1000)
    intent: str = Field(min_length=1, max_length=80)


class ReviewIn(StrictSchema):
    accept: bool
    intent: str | None = Field(default=None, min_length=1, max_length=80)


class ExampleOut(Schema):
    id: str
    text: str
    intent: str
    language: str
    source: str
    status: str
    held_out: bool
    created_at: datetime


class ExamplePage(Schema):
    items: list[ExampleOut]
    next_cursor: str | None


class ModelOut(Schema):
    id: str
    version: int
    status: str
    progress: int
    figures: dict[str, Any]
    error: str
    created_at: datetime
    trained_at: datetime | None
    activated_at: datetime | None


class ModelPage(Schema):
    items: list[ModelOut]
    next_cursor: str | None


def _example(e: TrainingExample) -> dict[str, Any]:
    return {
        "id": e.public_id,
        "text": e.text,
        "intent": e.intent,
        "language": e.language,
        "source": e.source,
        "status": e.status,
        "held_out": e.held_out,
        "created_at": e.created_at,
    }


def _model(m: BotModel) -> dict[str, Any]:
    return {
        "id": m.public_id,
        "version": m.version,
        "status": m.status,
        "progress": m.progress,
        "figures": m.figures,
        "error": m.error,
        "created_at": m.created_at,
        "trained_at": m.trained_at,
        "activated_at": m.activated_at,
    }


@router.post("/bot/understand", response=UnderstandingOut, summary="Language, intent, entities, sentiment")
def understand(request: HttpRequest, body: UnderstandIn) -> dict[str, Any]:
    p = need(request, "bot:read")
    lang = Workspace.objects.values_list("default_language", flat=True).get(pk=p.workspace_id)
    u = public.understand(p.workspace_id, body.text, default_language=lang)
    return {
        "language": u.language,
        "intent": u.intent,
        "confidence": u.confidence,
        "out_of_scope": u.out_of_scope,
        "entities": [{"kind": e.kind, "value": e.value, "text": e.text} for e in u.entities],
        "sentiment": u.sentiment,
        "sentiment_score": u.sentiment_score,
        "model_version": u.model_version,
    }


@router.get("/bot/examples", response=ExamplePage)
def list_examples(
    request: HttpRequest, status: ExampleStatus | None = None, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    p = need(request, "bot:read")
    page = paginate(selectors.examples(p.workspace_id, status=status), cursor=cursor, limit=limit)
    return {"items": [_example(e) for e in page.items], "next_cursor": page.next_cursor}


@router.post("/bot/examples", response={201: ExampleOut})
def add_example(request: HttpRequest, body: ExampleIn) -> Status:
    p = need(request, "bot:manage")
    with transaction.atomic(durable=True):
        ws = Workspace.objects.get(pk=p.workspace_id)
        e = services.example_add(actor=p.actor, workspace=ws, text=body.text, intent=body.intent)
    return Status(201, _example(e))


@router.post(
    "/bot/examples/{example_id}/review", response=ExampleOut, summary="Accept or reject a suggestion"
)
def review_example(request: HttpRequest, example_id: str, body: ReviewIn) -> dict[str, Any]:
    p = need(request, "bot:manage")
    with transaction.atomic(durable=True):
        e = services.example_review(
            actor=p.actor,
            example=selectors.example(p.workspace_id, example_id),
            accept=body.accept,
            intent=body.intent,
        )
    return _example(e)


@router.delete("/bot/examples/{example_id}", response={204: None})
def remove_example(request: HttpRequest, example_id: str) -> Status:
    p = need(request, "bot:manage")
    with transaction.atomic(durable=True):
        services.example_remove(actor=p.actor, example=selectors.example(p.workspace_id, example_id))
    return Status(204, None)


@router.get("/bot/models", response=ModelPage)
def list_models(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "bot:read")
    page = paginate(selectors.models(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_model(m) for m in page.items], "next_cursor": page.next_cursor}


@router.post("/bot/models", response={202: ModelOut}, summary="Retrain in the background")
def retrain(request: HttpRequest) -> Status:
    p = need(request, "bot:manage")
    with transaction.atomic(durable=True):
        m = services.model_request(actor=p.actor, workspace=Workspace.objects.get(pk=p.workspace_id))
        model_id = m.pk
        transaction.on_commit(lambda: tasks.train_model(model_id))
    return Status(202, _model(m))


@router.get("/bot/models/{model_id}", response=ModelOut)
def get_model(request: HttpRequest, model_id: str) -> dict[str, Any]:
    p = need(request, "bot:read")
    return _model(selectors.model(p.workspace_id, model_id))


@router.post(
    "/bot/models/{model_id}/activate", response=ModelOut, summary="Activate a trained version (rollback)"
)
def activate_model(request: HttpRequest, model_id: str) -> dict[str, Any]:
    p = need(request, "bot:manage")
    with transaction.atomic(durable=True):
        m = services.model_activate(actor=p.actor, model=selectors.model(p.workspace_id, model_id))
    return _model(m)
