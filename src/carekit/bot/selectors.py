"""Reads for the bot. Every selector takes the workspace."""

from __future__ import annotations

from django.db.models import QuerySet

from carekit.bot.enums import ModelStatus
from carekit.bot.models import BotModel, TrainingExample


def examples(workspace_id: int, *, status: str | None = None) -> QuerySet[TrainingExample]:
    qs = TrainingExample.objects.filter(workspace_id=workspace_id)
    return qs.filter(status=status) if status else qs


def example(workspace_id: int, public_id: str) -> TrainingExample:
    return TrainingExample.objects.get(workspace_id=workspace_id, public_id=public_id)


def models(workspace_id: int) -> QuerySet[BotModel]:
    return BotModel.objects.filter(workspace_id=workspace_id).defer("artifact")


def model(workspace_id: int, public_id: str) -> BotModel:
    return BotModel.objects.get(workspace_id=workspace_id, public_id=public_id)


def active_model_key(workspace_id: int) -> tuple[int, int] | None:
    """(primary key, version) of the active model, without loading its artifact."""
    row = (
        BotModel.objects.filter(workspace_id=workspace_id, status=ModelStatus.ACTIVE)
        .values_list("pk", "version")
        .first()
    )
    return (row[0], row[1]) if row else None


def artifact(model_pk: int) -> bytes:
    data = BotModel.objects.values_list("artifact", flat=True).get(pk=model_pk)
    if data is None:
        raise BotModel.DoesNotExist("the model has no artifact")
    return bytes(data)
