"""The bot's screens: measures (figures and charts), the learning loop (review, retrain with progress,
versions and rollback) and the settings, with their permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from carekit.accounts.enums import Role
from carekit.bot import measures, services
from carekit.bot.models import BotModel, BotSettings, Dialogue, TrainingExample, Turn
from carekit.bot.tests import flows
from carekit.testing.tenants import SYSTEM, add_member

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _dialogues(workspace):
    now = timezone.now()
    rows = [
        # contained, settled (older than 72 h)
        {"state": "resolved", "resolved_by_bot": True, "resolved_at": now - timedelta(days=4)},
        # contained, still inside the window
        {"state": "resolved", "resolved_by_bot": True, "resolved_at": now - timedelta(hours=1)},
        # the customer came back within 72 h: not contained
        {
            "state": "active",
            "resolved_by_bot": True,
            "reopened": True,
            "resolved_at": now - timedelta(days=2),
        },
        {"state": "handed_off", "handoff_reason": "requested", "handed_off_at": now},
    ]
    for i, r in enumerate(rows):
        d = Dialogue.objects.create(
            workspace=workspace,
            conversation_id=f"cnv_{i}",
            customer_id=f"cus_{i}",
            channel="api",
            created_at=now - timedelta(days=5),
            **r,
        )
        Turn.objects.create(workspace=workspace, dialogue=d, message_id=f"m{i}", decision="answer")
    Turn.objects.create(workspace=workspace, dialogue=d, message_id="m9", decision="clarify")


def test_measures(workspace):
    _dialogues(workspace)
    m = measures.measures(workspace.pk)
    assert (m["dialogues"], m["contained"], m["pending_window"]) == (4, 2, 1)
    assert (m["containment"], m["handoff_rate"], m["fallback_rate"], m["operator_load_saved"]) == (
        0.5,
        0.25,
        0.2,
        0.75,
    )
    assert m["handoff_reasons"] == {"requested": 1}
    assert [d.dialogues for d in m["series"]][-6] == 4
    assert len(m["series"]) == 14


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Bot measures, last 14 days"), ("ru", "Показатели бота за 14 дней")]
)
def test_measures_page(workspace, language, title):
    _dialogues(workspace)
    page = flows.signed_in(add_member(workspace, Role.AGENT), workspace, language).get("/bot/")
    html = page.content.decode()
    assert page.status_code == 200
    assert title in html
    assert '<td id="containment">50% (2)' in html
    assert html.count('class="bar ok"') == 14


def test_review_suggestions(workspace):
    with transaction.atomic():
        a = services.example_add(
            actor=SYSTEM, workspace=workspace, text="где посылка", intent="out_of_scope", source="suggested"
        )
        b = services.example_add(
            actor=SYSTEM, workspace=workspace, text="фывапролдж", intent="out_of_scope", source="suggested"
        )
    boss = flows.signed_in(add_member(workspace, Role.SUPERVISOR), workspace)
    page = boss.get("/bot/learning/").content.decode()
    assert page.count("data-example=") == 2
    assert (
        boss.post(
            f"/bot/learning/examples/{a.public_id}/review/", {"decision": "accept", "intent": "order_status"}
        ).status_code
        == 302
    )
    assert (
        boss.post(f"/bot/learning/examples/{b.public_id}/review/", {"decision": "reject"}).status_code == 302
    )
    assert list(TrainingExample.objects.order_by("pk").values_list("intent", "status")) == [
        ("order_status", "active"),
        ("out_of_scope", "rejected"),
    ]
    # an agent reads but may not review
    agent = flows.signed_in(add_member(workspace, Role.AGENT), workspace)
    assert (
        agent.post(f"/bot/learning/examples/{b.public_id}/review/", {"decision": "accept"}).status_code == 403
    )


def test_retrain_in_the_background_then_roll_back(workspace, django_capture_on_commit_callbacks):
    boss = flows.signed_in(add_member(workspace, Role.SUPERVISOR), workspace)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert boss.post("/bot/learning/retrain/").status_code == 302
    assert list(BotModel.objects.order_by("version").values_list("version", "status", "progress")) == [
        (1, "retired", 100),
        (2, "active", 100),
    ]
    html = boss.get("/bot/learning/models/").content.decode()
    assert html.count("data-model=") == 2
    assert 'hx-trigger="every 2s"' not in html  # nothing training: no polling
    v1 = BotModel.objects.get(version=1)
    assert boss.post(f"/bot/learning/models/{v1.public_id}/activate/").status_code == 302
    assert list(BotModel.objects.order_by("version").values_list("status", flat=True)) == [
        "active",
        "retired",
    ]


def test_progress_is_polled_while_training(workspace):
    with transaction.atomic():
        m = services.model_request(actor=SYSTEM, workspace=workspace)
        services.model_set_progress(model=m, percent=10)
    html = (
        flows.signed_in(add_member(workspace, Role.AGENT), workspace)
        .get("/bot/learning/models/")
        .content.decode()
    )
    assert 'hx-trigger="every 2s"' in html
    assert '<progress max="100" value="10">' in html


def test_settings_turn_the_bot_on_for_channels(workspace):
    boss = flows.signed_in(add_member(workspace, Role.SUPERVISOR), workspace)
    assert (
        boss.post("/bot/settings/", {"form": "settings", "channels": ["api", "webchat"]}).status_code == 302
    )
    assert BotSettings.objects.get(workspace=workspace).enabled_channels == ["api", "webchat"]
    assert (
        boss.post(
            "/bot/settings/", {"form": "slot", "starts_at": "2030-01-02T10:00", "minutes": "45"}
        ).status_code
        == 302
    )
    assert "02.01.2030 10:00" in boss.get("/bot/settings/").content.decode()
    agent = flows.signed_in(add_member(workspace, Role.AGENT), workspace)
    assert agent.get("/bot/settings/").status_code == 403
