"""The channels API: secrets are shown once and never read back, health and quarantine are visible,
calls are recorded idempotently."""

from __future__ import annotations

import pytest
from django.db import transaction

from carekit.channels import services
from carekit.channels.models import Channel
from carekit.conversations.models import Task
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

TOKEN = "123456789:AAE-test-token-for-the-local-double_x1"


def test_create_shows_the_secret_once_and_never_reads_secrets_back(api):
    resp = api.post(
        "/channels",
        {
            "kind": "telegram",
            "name": "Bot",
            "config": {"bot_username": "@shop_bot"},
            "secrets": {"bot_token": TOKEN},
        },
    )
    assert resp.status_code == 201, resp.content
    created = resp.json()
    ch = Channel.objects.get(public_id=created["id"])
    assert created["secret"] == ch.secrets[services.SIGNING]
    assert created["config"] == {"mode": "webhook", "bot_username": "shop_bot"}
    assert created["secrets_set"] == ["bot_token", "signing"]
    got = api.get(f"/channels/{ch.public_id}").json()
    assert "secret" not in got
    assert TOKEN not in str(got)
    assert created["secret"] not in str(got)
    assert got["health"] == {
        "last_inbound_at": None,
        "last_outbound_at": None,
        "last_error": "",
        "last_error_at": None,
        "undelivered": 0,
        "quarantined": 0,
    }


def test_bad_settings_answer_with_a_code_and_store_nothing(api):
    resp = api.post("/channels", {"kind": "telegram", "name": "Bot", "secrets": {"bot_token": "nope"}})
    assert (resp.status_code, resp.json()["error"]["code"]) == (400, "bad_setting")
    assert Channel.objects.count() == 0


def test_update_rotate_deactivate_and_quarantine(api):
    ch = api.post("/channels", {"kind": "phone", "name": "Line"}).json()
    resp = api.patch(f"/channels/{ch['id']}", {"config": {"callback_sla_minutes": 15}, "is_active": False})
    assert resp.status_code == 200, resp.content
    assert (resp.json()["config"]["callback_sla_minutes"], resp.json()["is_active"]) == (15, False)
    rotated = api.post(f"/channels/{ch['id']}/rotate").json()
    assert rotated["secret"] != ch["secret"]
    row = Channel.objects.get(public_id=ch["id"])
    assert services.secret_matches(row, ch["secret"])
    assert services.secret_matches(row, rotated["secret"])
    with transaction.atomic():
        services.quarantine(channel=row, reason="malformed_call", detail="not JSON", raw=b"{")
    items = api.get(f"/channels/{ch['id']}/quarantine").json()["items"]
    assert [(q["reason"], q["detail"], q["status"]) for q in items] == [
        ("malformed_call", "not JSON", "held")
    ]


def test_calls_through_the_api_open_and_close_a_callback(api):
    ch = api.post("/channels", {"kind": "phone", "name": "Line"}).json()
    body = {"direction": "inbound", "number": "+79161234567", "outcome": "missed", "call_id": "pbx-1"}
    first = api.post(f"/channels/{ch['id']}/calls", body)
    assert first.status_code == 201, first.content
    assert api.post(f"/channels/{ch['id']}/calls", body).status_code == 200
    task_id = first.json()["task_id"]
    back = api.post(
        f"/channels/{ch['id']}/calls",
        {
            "direction": "outbound",
            "number": "+7 916 123-45-67",
            "outcome": "answered",
            "duration_seconds": 90,
        },
    ).json()
    assert back["tasks_completed"] == [task_id]
    assert Task.objects.get(public_id=task_id).status == "done"


def test_another_workspace_sees_nothing(api, other_workspace):
    with transaction.atomic():
        theirs = services.channel_create(actor=SYSTEM, workspace=other_workspace, kind="phone", name="Theirs")
    assert api.get(f"/channels/{theirs.public_id}").status_code == 404
    assert api.get("/channels").json()["items"] == []
