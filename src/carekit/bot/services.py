"""Every write to the bot's state (keyword-only, with `actor=`), inside the caller's transaction."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.bot import training
from carekit.bot.enums import ExampleSource, ExampleStatus, ModelStatus
from carekit.bot.models import BotModel, BotSettings, ConsultationSlot, TrainingExample
from carekit.bot.nlu.intents import IntentModel
from carekit.bot.nlu.text import detect_language
from carekit.core.errors import Conflict, DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace


class BotError(DomainError):
    code = "invalid"


def _emit(model_or_example: BotModel | TrainingExample, type_: str, actor: Actor, **payload: object) -> None:
    subject = "model" if isinstance(model_or_example, BotModel) else "example"
    emit(
        workspace_id=model_or_example.workspace_id,
        type=type_,
        subject_type=subject,
        subject_id=model_or_example.public_id,
        actor=actor,
        payload=payload,
    )


def _held_out(text: str) -> bool:
    # Deterministic, so the same example is always on the same side of the split.
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % training.HELD_OUT_EVERY == 0


def example_add(
    *,
    actor: Actor,
    workspace: Workspace,
    text: str,
    intent: str,
    source: ExampleSource = ExampleSource.MANUAL,
) -> TrainingExample:
    """A labelled example; suggestions from conversations wait for review before training uses them."""
    text = " ".join(text.split())[:1000]
    intent = intent.strip()
    if not text:
        raise BotError(_("An example needs text."), field="text")
    if not intent or len(intent) > 80:
        raise BotError(_("An example needs an intent name of at most 80 characters."), field="intent")
    status = ExampleStatus.SUGGESTED if source == ExampleSource.SUGGESTED else ExampleStatus.ACTIVE
    try:
        with transaction.atomic():
            ex = TrainingExample.objects.create(
                workspace=workspace,
                text=text,
                intent=intent,
                language=detect_language(text, workspace.default_language),
                source=source,
                status=status,
                held_out=_held_out(text),
            )
    except IntegrityError:
        raise Conflict(_("This example exists already."), field="text") from None
    _emit(ex, "bot.example.added", actor, intent=intent, source=source)
    return ex


def example_review(
    *, actor: Actor, example: TrainingExample, accept: bool, intent: str | None = None
) -> TrainingExample:
    example.status = ExampleStatus.ACTIVE if accept else ExampleStatus.REJECTED
    if intent:
        example.intent = intent.strip()[:80]
    example.save(update_fields=["status", "intent"])
    _emit(example, "bot.example.reviewed", actor, accepted=accept, intent=example.intent)
    return example


def example_remove(*, actor: Actor, example: TrainingExample) -> None:
    _emit(example, "bot.example.removed", actor)
    example.delete()


def model_request(*, actor: Actor, workspace: Workspace) -> BotModel:
    """A new model version in `training`; the caller runs (or enqueues) `model_train` for it."""
    if BotModel.objects.filter(workspace=workspace, status=ModelStatus.TRAINING).exists():
        raise Conflict(_("A model is already training."), code="training_in_progress")
    last = BotModel.objects.filter(workspace=workspace).aggregate(v=Max("version"))["v"] or 0
    model = BotModel.objects.create(workspace=workspace, version=last + 1, status=ModelStatus.TRAINING)
    _emit(model, "bot.model.requested", actor, version=model.version)
    return model


def _examples(workspace_id: int) -> tuple[list[training.Example], list[training.Example]]:
    rows = TrainingExample.objects.filter(workspace_id=workspace_id, status=ExampleStatus.ACTIVE).values_list(
        "text", "intent", "held_out"
    )
    train = [training.Example(t, i) for t, i, held in rows if not held]
    held_out = [training.Example(t, i) for t, i, held in rows if held]
    return train, held_out


def _active(workspace_id: int) -> BotModel | None:
    return BotModel.objects.filter(workspace_id=workspace_id, status=ModelStatus.ACTIVE).first()


def model_fit(model: BotModel) -> tuple[IntentModel, dict[str, object]]:
    """The CPU-heavy part, run outside any transaction: fit a candidate and judge it.

    Reads only; `model_finish` writes the outcome."""
    own, held_out = _examples(model.workspace_id)
    candidate = training.fit_intents(list(training.default_examples()) + own)
    active_row = _active(model.workspace_id)
    active = (
        IntentModel.from_bytes(bytes(active_row.artifact)) if active_row and active_row.artifact else None
    )
    verdict = training.judge(candidate, active, held_out)
    return candidate, {**candidate.figures, **verdict, "own_examples": len(own)}


def model_finish(
    *, actor: Actor, model: BotModel, candidate: IntentModel, figures: dict[str, object]
) -> BotModel:
    """Store a trained candidate; activate it only if it is not worse than the active model."""
    model = BotModel.objects.select_for_update().get(pk=model.pk)
    model.artifact = candidate.to_bytes()
    model.figures = {**figures, "model_bytes": len(model.artifact)}
    model.trained_at = timezone.now()
    model.progress = 100
    if figures.get("accepted"):
        return _activate(actor=actor, model=model)
    model.status = ModelStatus.REJECTED
    model.save()
    _emit(model, "bot.model.rejected", actor, version=model.version)
    return model


def model_fail(*, actor: Actor, model: BotModel, error: str) -> BotModel:
    model.status = ModelStatus.FAILED
    model.error = error[:2000]
    model.save(update_fields=["status", "error"])
    _emit(model, "bot.model.failed", actor, version=model.version)
    return model


def model_set_progress(*, model: BotModel, percent: int) -> None:
    BotModel.objects.filter(pk=model.pk).update(progress=max(0, min(percent, 100)))


def _activate(*, actor: Actor, model: BotModel) -> BotModel:
    BotModel.objects.filter(workspace_id=model.workspace_id, status=ModelStatus.ACTIVE).exclude(
        pk=model.pk
    ).update(status=ModelStatus.RETIRED)
    model.status = ModelStatus.ACTIVE
    model.activated_at = timezone.now()
    model.save()
    _emit(model, "bot.model.activated", actor, version=model.version)
    return model


def model_activate(*, actor: Actor, model: BotModel) -> BotModel:
    """Roll back (or forward) to a trained version by hand."""
    if (
        model.status not in {ModelStatus.RETIRED, ModelStatus.REJECTED, ModelStatus.ACTIVE}
        or not model.artifact
    ):
        raise BotError(_("Only a trained model can be activated."), field="status")
    return _activate(actor=actor, model=model)


def model_train(*, actor: Actor, workspace: Workspace) -> BotModel:
    """Request, fit and finish in one go (the command line; the API uses the background job)."""
    model = model_request(actor=actor, workspace=workspace)
    candidate, figures = model_fit(model)
    return model_finish(actor=actor, model=model, candidate=candidate, figures=figures)


# --- where the bot answers; consultation slots ------------------------------------------------------


def bot_settings_update(
    *,
    actor: Actor,
    workspace: Workspace,
    enabled_channels: list[str],
    handoff_team_id: str = "",
    calendar_id: str = "",
) -> BotSettings:
    """Turn the bot on for channel kinds (api, webchat, email, telegram, ...): new conversations on
    them are held for the bot until it hands off."""
    channels = sorted({c.strip() for c in enabled_channels if c.strip()})
    if any(len(c) > 30 for c in channels):
        raise BotError(_("A channel kind has at most 30 characters."), field="enabled_channels")
    from carekit.bot import dialogues

    dialogues.forget(workspace.pk)
    row, _created = BotSettings.objects.update_or_create(
        workspace=workspace,
        defaults={
            "enabled_channels": channels,
            "handoff_team_id": handoff_team_id.strip()[:32],
            "calendar_id": calendar_id.strip()[:32],
            "updated_at": timezone.now(),
        },
    )
    emit(
        workspace_id=workspace.pk,
        type="bot.settings.updated",
        subject_type="workspace",
        subject_id=workspace.public_id,
        actor=actor,
        payload={"enabled_channels": channels},
    )
    return row


def slot_create(
    *, actor: Actor, workspace: Workspace, starts_at: datetime, minutes: int = 30
) -> ConsultationSlot:
    if timezone.is_naive(starts_at):
        raise BotError(_("The time needs a time zone."), field="starts_at")
    if not 5 <= minutes <= 480:
        raise BotError(_("A slot lasts 5 to 480 minutes."), field="minutes")
    slot = ConsultationSlot.objects.create(workspace=workspace, starts_at=starts_at, minutes=minutes)
    emit(
        workspace_id=workspace.pk,
        type="bot.slot.created",
        subject_type="slot",
        subject_id=slot.public_id,
        actor=actor,
        payload={"slot_id": slot.public_id, "starts_at": starts_at.isoformat()},
    )
    return slot
