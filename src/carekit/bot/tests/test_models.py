"""Training examples and model versions: held-out split, retraining, activation if not worse, rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

from carekit.bot import services, training
from carekit.bot.enums import ModelStatus
from carekit.bot.models import BotModel
from carekit.core.errors import Conflict
from carekit.core.models import Event
from carekit.testing.tenants import SYSTEM
from carekit.testing.transactions import call_inside_transaction

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _add(ws, text, intent):
    return call_inside_transaction(services.example_add, actor=SYSTEM, workspace=ws, text=text, intent=intent)


def test_examples_are_split_deterministically_and_duplicates_refused(workspace):
    texts = [f"где посылка номер {i}" for i in range(40)]
    held = [_add(workspace, t, "order_status").held_out for t in texts]
    assert 0 < sum(held) < 40
    assert held == [services._held_out(" ".join(t.split())) for t in texts]
    with pytest.raises(Conflict):
        _add(workspace, "где посылка номер 1", "order_status")


def test_first_model_is_activated_and_a_new_one_replaces_it_when_not_worse(workspace):
    _add(workspace, "а где тапки которые я заказала", "order_status")
    first = call_inside_transaction(services.model_train, actor=SYSTEM, workspace=workspace)
    assert (first.status, first.version) == (ModelStatus.ACTIVE, 1)
    assert first.figures["accepted"] is True
    assert first.figures["own_examples"] + first.figures["held_out_examples"] == 1
    second = call_inside_transaction(services.model_train, actor=SYSTEM, workspace=workspace)
    first.refresh_from_db()
    assert (first.status, second.status, second.version) == (ModelStatus.RETIRED, ModelStatus.ACTIVE, 2)
    types = list(Event.objects.filter(subject_type="model").order_by("id").values_list("type", flat=True))
    assert types == ["bot.model.requested", "bot.model.activated"] * 2


def test_rollback_activates_an_older_version(workspace):
    first = call_inside_transaction(services.model_train, actor=SYSTEM, workspace=workspace)
    call_inside_transaction(services.model_train, actor=SYSTEM, workspace=workspace)
    call_inside_transaction(services.model_activate, actor=SYSTEM, model=first)
    assert list(
        BotModel.objects.filter(workspace=workspace).order_by("version").values_list("status", flat=True)
    ) == [
        ModelStatus.ACTIVE,
        ModelStatus.RETIRED,
    ]


def test_a_candidate_worse_on_held_out_examples_is_rejected(workspace, monkeypatch):
    call_inside_transaction(services.model_train, actor=SYSTEM, workspace=workspace)
    monkeypatch.setattr(
        training,
        "held_out_accuracy",
        lambda model, examples: 0.5 if model.figures.get("examples", 0) > 1 else 0.9,
    )
    verdict = training.judge(
        training.default_intent_model(), training.default_intent_model(), [training.Example("x", "y")]
    )
    assert verdict["accepted"] is True  # equal is not worse
    with transaction.atomic():
        m = services.model_request(actor=SYSTEM, workspace=workspace)
        candidate = training.default_intent_model()
        figures = {**candidate.figures, "accepted": False, "held_out_accuracy": 0.5}
        services.model_finish(actor=SYSTEM, model=m, candidate=candidate, figures=figures)
    m.refresh_from_db()
    assert m.status == ModelStatus.REJECTED
    assert BotModel.objects.get(workspace=workspace, status=ModelStatus.ACTIVE).version == 1


def test_judge_compares_on_the_same_held_out_examples():
    model = training.default_intent_model()
    held = [training.Example("где мой заказ 10234", "order_status"), training.Example("привет", "greeting")]
    verdict = training.judge(model, model, held)
    assert verdict == {
        "held_out_examples": 2,
        "held_out_accuracy": 1.0,
        "active_held_out_accuracy": 1.0,
        "accepted": True,
    }


def test_only_one_training_at_a_time(workspace):
    call_inside_transaction(services.model_request, actor=SYSTEM, workspace=workspace)
    with pytest.raises(Conflict):
        call_inside_transaction(services.model_request, actor=SYSTEM, workspace=workspace)


def test_suggestions_wait_for_review_and_train_only_once_accepted(workspace):
    from carekit.bot import public
    from carekit.bot.enums import ExampleStatus
    from carekit.bot.models import TrainingExample

    ex_id = call_inside_transaction(
        public.suggest_example,
        actor=SYSTEM,
        workspace_id=workspace.pk,
        text="где моя шуба",
        intent="order_status",
    )
    again = call_inside_transaction(
        public.suggest_example,
        actor=SYSTEM,
        workspace_id=workspace.pk,
        text="где моя шуба",
        intent="order_status",
    )
    assert again is None
    ex = TrainingExample.objects.get(public_id=ex_id)
    assert ex.status == ExampleStatus.SUGGESTED
    assert services._examples(workspace.pk) == ([], [])
    call_inside_transaction(services.example_review, actor=SYSTEM, example=ex, accept=True)
    own, held = services._examples(workspace.pk)
    assert [e.text for e in own + held] == ["где моя шуба"]
