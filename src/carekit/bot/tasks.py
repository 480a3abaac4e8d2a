"""Bot jobs: retraining runs in the background; arguments are ids only."""

from __future__ import annotations

import logging

from django.db import transaction

from carekit.bot import services
from carekit.bot.enums import ModelStatus
from carekit.bot.models import BotModel
from carekit.core.events import Actor
from carekit.core.jobs import task

logger = logging.getLogger(__name__)
ACTOR = Actor.system("bot.retrain")


@task()
def train_model(model_id: int) -> None:
    model = BotModel.objects.filter(pk=model_id, status=ModelStatus.TRAINING).first()
    if model is None:  # already finished by an earlier delivery of this job
        return
    services.model_set_progress(model=model, percent=10)
    try:
        # Fitting takes seconds of CPU: it runs outside the transaction so no lock is held meanwhile.
        candidate, figures = services.model_fit(model)
    except (ValueError, MemoryError) as exc:
        logger.exception("bot model %s failed to train", model_id)
        with transaction.atomic(durable=True):
            services.model_fail(actor=ACTOR, model=model, error=str(exc))
        return
    with transaction.atomic(durable=True):
        services.model_finish(actor=ACTOR, model=model, candidate=candidate, figures=figures)
