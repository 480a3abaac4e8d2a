"""Channel settings pages (admins), the failed-delivery retry in the thread, and the agents' call form."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from carekit.accounts.enums import Role
from carekit.channels import services
from carekit.channels.models import Channel, QuarantinedInput
from carekit.conversations.models import Message, Task
from carekit.conversations.tests.factories import conversation
from carekit.testing.outbound import recording
from carekit.testing.tenants import SYSTEM, add_member

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

TOKEN = "123456789:AAE-test-token-for-the-local-double_x1"


def _client(member, workspace) -> Client:
    c = Client()
    c.force_login(member.user)
    s = c.session
    s["carekit_workspace"] = workspace.public_id
    s.save()
    return c


@pytest.fixture
def admin(workspace):
    return _client(add_member(workspace, Role.ADMIN), workspace)


def test_an_admin_creates_a_channel_sees_the_secret_once_and_its_health(admin, workspace):
    assert "/settings/channels/" in admin.get("/").content.decode()
    resp = admin.post(
        "/settings/channels/new/telegram/",
        {
            "name": "Shop bot",
            "config.mode": "polling",
            "config.bot_username": "shop_bot",
            "secrets.bot_token": TOKEN,
        },
    )
    ch = Channel.objects.get(workspace=workspace)
    assert (resp.status_code, resp["Location"]) == (302, f"/settings/channels/{ch.public_id}/")
    secret = ch.secrets[services.SIGNING]
    assert secret in admin.get(resp["Location"]).content.decode()
    page = admin.get(f"/settings/channels/{ch.public_id}/").content.decode()
    assert secret not in page
    assert TOKEN not in page
    assert 'id="undelivered">0<' in page
    listing = admin.get("/settings/channels/").content.decode()
    assert "Shop bot" in listing


def test_bad_settings_show_the_reason_and_create_nothing(admin, workspace):
    resp = admin.post("/settings/channels/new/telegram/", {"name": "Bot", "secrets.bot_token": "nope"})
    assert resp.status_code == 422
    assert "BotFather" in resp.content.decode()
    assert Channel.objects.filter(workspace=workspace).count() == 0


def test_rotate_deactivate_and_dismiss_quarantine(admin, workspace):
    with transaction.atomic():
        ch = services.channel_create(actor=SYSTEM, workspace=workspace, kind="phone", name="Line")
        item = services.quarantine(channel=ch, reason="bad_outcome", detail="exploded", raw=b"{}")
    old = ch.secrets[services.SIGNING]
    resp = admin.post(f"/settings/channels/{ch.public_id}/rotate/", follow=True)
    ch.refresh_from_db()
    new = ch.secrets[services.SIGNING]
    assert new != old
    assert new in resp.content.decode()
    assert "bad_outcome" in resp.content.decode()
    admin.post(f"/settings/channels/{ch.public_id}/quarantine/{item.public_id}/")
    assert QuarantinedInput.objects.get(pk=item.pk).status == "dismissed"
    admin.post(f"/settings/channels/{ch.public_id}/active/", {"active": "0"})
    ch.refresh_from_db()
    assert ch.is_active is False


def test_agents_cannot_open_channel_settings_and_other_workspaces_are_404(workspace, other_workspace, admin):
    agent = _client(add_member(workspace, Role.AGENT), workspace)
    assert agent.get("/settings/channels/").status_code == 403
    with transaction.atomic():
        theirs = services.channel_create(actor=SYSTEM, workspace=other_workspace, kind="phone", name="Theirs")
    assert admin.get(f"/settings/channels/{theirs.public_id}/").status_code == 404
    assert admin.post(f"/settings/channels/{theirs.public_id}/rotate/").status_code == 404


def test_a_failed_message_shows_its_error_and_the_retry_sends_it_again(
    workspace, django_capture_on_commit_callbacks
):
    from carekit.conversations import delivery
    from carekit.conversations import services as conv_services

    agent = _client(add_member(workspace, Role.AGENT), workspace)
    conv = conversation(workspace)
    with transaction.atomic():
        msg = conv_services.message_send(actor=SYSTEM, conversation=conv, text="Hello")
    Message.objects.filter(pk=msg.pk).update(
        state="failed", attempts=5, last_error="telegram 403: bot was blocked"
    )
    page = agent.get(f"/inbox/c/{conv.public_id}/").content.decode()
    assert "bot was blocked" in page
    assert f"/inbox/c/{conv.public_id}/m/{msg.public_id}/retry/" in page
    with recording("api") as api_sender, django_capture_on_commit_callbacks(execute=True):
        agent.post(f"/inbox/c/{conv.public_id}/m/{msg.public_id}/retry/")
    msg.refresh_from_db()
    assert [m.body for m in api_sender.sent] == ["Hello"]
    assert (msg.state, msg.attempts, msg.last_error) == ("sent", 1, "")
    # a message that is not failed is left alone
    with transaction.atomic():
        assert delivery.message_retry(actor=SYSTEM, message=msg) is False


def test_an_agent_logs_a_call_back_from_the_conversation_and_the_callback_task_is_done(workspace):
    from carekit.channels.adapters.phone.calls import CallIn, call_record

    with transaction.atomic():
        ch = services.channel_create(actor=SYSTEM, workspace=workspace, kind="phone", name="Line")
        missed = call_record(actor=SYSTEM, channel=ch, call=CallIn("inbound", "+79161234567", "missed"))
    agent = _client(add_member(workspace, Role.AGENT), workspace)
    page = agent.get(f"/inbox/c/{missed.conversation_id}/").content.decode()
    assert "/calls/log/" in page
    resp = agent.post(
        "/calls/log/",
        {
            "number": "+79161234567",
            "direction": "outbound",
            "outcome": "answered",
            "minutes": "2.5",
            "note": "Agreed on a refund",
            "next": f"/inbox/c/{missed.conversation_id}/",
        },
    )
    assert resp.status_code == 302
    assert Task.objects.get(public_id=missed.task_id).status == "done"
    bad = agent.post("/calls/log/", {"number": "12", "direction": "outbound", "outcome": "answered"})
    assert bad.status_code == 422
