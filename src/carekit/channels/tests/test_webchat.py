"""The web chat widget's service layer: host tokens, idempotent sends, claims that reveal nothing before
the code, rate limits with exact counts, uploads over the limit, offline hours and the outbound push."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from carekit.channels import services
from carekit.channels.adapters.webchat import push, ratelimit, tokens
from carekit.channels.adapters.webchat import session as sessions
from carekit.channels.models import QuarantinedInput
from carekit.channels.tests.webchat_helpers import SYSTEM, make_channel, make_customer_with_history
from carekit.conversations.models import BusinessCalendar, Conversation, InboxSettings, Message
from carekit.customers import public as customers
from carekit.testing.outbound import recording
from carekit.testing.tenants import make_workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]


@pytest.fixture(autouse=True)
def fresh_counters():
    ratelimit.reset_memory()
    yield
    ratelimit.reset_memory()


def _secret(channel) -> str:
    return channel.secrets[services.SIGNING]


# --- host tokens ------------------------------------------------------------------------------------


def test_a_valid_token_identifies_the_customer_and_shows_their_history_and_orders():
    ws = make_workspace()
    ch = make_channel(ws)
    olga = make_customer_with_history(ws, ch)
    token = tokens.sign(_secret(ch), kind="email", value="olga@example.test")
    s = sessions.open_session(public_key=ch.public_key, token=token, ip="10.0.0.1")
    state = sessions.state(s)
    assert (s.customer_id, s.identified, state["notice"]) == (olga, True, "")
    assert [m["text"] for m in state["history"]] == ["My secret earlier question about order 10234"]
    assert [(o["number"], o["tracking"]) for o in state["orders"]] == [("10234", "RA123456789RU")]


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (
            lambda secret: tokens.sign("not-the-secret", kind="email", value="olga@example.test"),
            "bad_signature",
        ),
        (
            lambda secret: tokens.sign(secret, kind="email", value="olga@example.test", ttl_seconds=-5),
            "expired_token",
        ),
        (
            lambda secret: tokens.sign(secret, kind="email", value="olga@example.test")[:-4] + "beef",
            "bad_signature",
        ),
        (lambda secret: "garbage-without-a-dot", "malformed_token"),
    ],
    ids=["forged", "expired", "tampered", "malformed"],
)
def test_a_refused_token_is_quarantined_with_its_reason_and_the_chat_goes_on_as_a_guest(make_token, reason):
    ws = make_workspace()
    ch = make_channel(ws)
    make_customer_with_history(ws, ch)
    s = sessions.open_session(public_key=ch.public_key, token=make_token(_secret(ch)), ip="10.0.0.1")
    state = sessions.state(s)
    assert (s.identified, s.customer_id, state["notice"]) == (False, None, reason)
    assert (state["history"], state["orders"]) == ([], [])
    held = list(QuarantinedInput.objects.filter(channel=ch).values_list("reason", flat=True))
    assert held == [reason]
    ch.refresh_from_db()
    assert ch.last_error.startswith(reason)
    # the channel keeps working: the guest's message is stored in a conversation of their own
    message, duplicate = sessions.send_message(s, client_id="c-after-refusal", text="Hello?")
    assert duplicate is False
    conv = Conversation.objects.get(public_id=message["conversation_id"])
    assert conv.customer_id == customers.identity_owner(ws.pk, "visitor", s.visitor)


def test_the_previous_secret_is_accepted_only_during_the_grace_period():
    ws = make_workspace()
    ch = make_channel(ws)
    old = _secret(ch)
    now = timezone.now()
    with transaction.atomic():
        new = services.channel_rotate_secret(actor=SYSTEM, channel=ch, at=now)
    ch.refresh_from_db()
    old_token = tokens.sign(
        old, kind="email", value="a@example.test", ttl_seconds=10 * 86400, now=now.timestamp()
    )
    new_token = tokens.sign(
        new, kind="email", value="a@example.test", ttl_seconds=10 * 86400, now=now.timestamp()
    )
    assert tokens.verify(ch, old_token, at=now + timedelta(hours=23)).value == "a@example.test"
    assert tokens.verify(ch, new_token, at=now + timedelta(hours=23)).value == "a@example.test"
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.verify(ch, old_token, at=now + services.ROTATION_GRACE + timedelta(seconds=1))
    assert refused.value.reason == "bad_signature"
    assert (
        tokens.verify(ch, new_token, at=now + services.ROTATION_GRACE + timedelta(seconds=1)).kind == "email"
    )


# --- sending ------------------------------------------------------------------------------------------


def test_the_same_client_id_is_stored_once_and_acknowledged_again():
    ws = make_workspace()
    ch = make_channel(ws)
    s = sessions.open_session(public_key=ch.public_key, ip="10.0.0.1")
    first, dup1 = sessions.send_message(s, client_id="c-one-000", text="Where is my parcel?")
    again, dup2 = sessions.send_message(s, client_id="c-one-000", text="Where is my parcel?")
    other, dup3 = sessions.send_message(s, client_id="c-two-000", text="Second")
    assert (dup1, dup2, dup3) == (False, True, False)
    assert first["id"] == again["id"] != other["id"]
    assert Message.objects.filter(conversation__channel="webchat").count() == 2
    assert Conversation.objects.filter(channel="webchat").count() == 1
    # a returning visitor (same cookie) finds the history
    back = sessions.open_session(public_key=ch.public_key, visitor=s.visitor, ip="10.0.0.1")
    assert [m["text"] for m in sessions.state(back)["history"]] == ["Where is my parcel?", "Second"]


def test_a_message_without_a_valid_client_id_is_refused_and_nothing_is_stored():
    ws = make_workspace()
    ch = make_channel(ws)
    s = sessions.open_session(public_key=ch.public_key, ip="10.0.0.1")
    with pytest.raises(sessions.WidgetError) as err:
        sessions.send_message(s, client_id="x", text="hi")
    assert err.value.code == "bad_client_id"
    assert Message.objects.count() == 0


# --- claims: a typed email reveals nothing until the code ----------------------------------------------


def test_a_typed_email_of_another_customer_reveals_nothing_until_the_code_is_entered():
    ws = make_workspace()
    ch = make_channel(ws)
    olga = make_customer_with_history(ws, ch)
    s = sessions.open_session(public_key=ch.public_key, ip="10.0.0.9")
    with recording("email") as mail:
        sessions.prechat(s, name="Mallory", contact="olga@example.test")
    assert len(mail.sent) == 1
    assert mail.sent[0].to == "olga@example.test"
    code = mail.sent[0].body.split(": ")[1][:6]
    state = sessions.state(s)
    assert (state["identified"], state["claim_pending"], state["history"], state["orders"]) == (
        False,
        True,
        [],
        [],
    )
    assert s.customer_id != olga

    msg, _dup = sessions.send_message(s, client_id="c-attack-1", text="где мой заказ 10234")
    conv = Conversation.objects.get(public_id=msg["conversation_id"])
    # the conversation (and whatever answers in it, a bot included) belongs to the visitor's empty profile
    assert conv.customer_id == s.customer_id != olga
    assert customers.cabinet_view(ws.pk, conv.customer_id).orders == ()
    assert [m["text"] for m in sessions.state(s)["history"]] == ["где мой заказ 10234"]

    with pytest.raises(sessions.WidgetError) as wrong:
        sessions.verify_code(s, code="000000" if code != "000000" else "111111")
    assert wrong.value.code == "wrong_code"
    assert sessions.state(s)["orders"] == []
    assert s.customer_id != olga

    sessions.verify_code(s, code=code)
    state = sessions.state(s)
    assert (s.customer_id, state["identified"], state["claim_pending"]) == (olga, True, False)
    assert [o["number"] for o in state["orders"]] == ["10234"]
    assert [m["text"] for m in state["history"]] == [
        "My secret earlier question about order 10234",
        "где мой заказ 10234",
    ]
    conv.refresh_from_db()
    assert conv.customer_id == olga


def test_another_visitor_cannot_use_someone_elses_claim():
    ws = make_workspace()
    ch = make_channel(ws)
    make_customer_with_history(ws, ch)
    victim_side = sessions.open_session(public_key=ch.public_key, ip="10.0.0.9")
    with recording("email") as mail:
        sessions.prechat(victim_side, name="", contact="olga@example.test")
    code = mail.sent[0].body.split(": ")[1][:6]
    stranger = sessions.open_session(public_key=ch.public_key, ip="10.0.0.10")
    with pytest.raises(sessions.WidgetError) as err:
        sessions.verify_code(stranger, code=code, claim_id=victim_side.claim_id)
    assert err.value.code == "not_found"
    assert (stranger.identified, sessions.state(stranger)["orders"]) == (False, [])


# --- rate limits --------------------------------------------------------------------------------------


def test_rate_limit_per_visitor_refuses_the_fourth_message_of_the_minute_and_stores_nothing():
    ws = make_workspace()
    ch = make_channel(ws, visitor_messages_per_minute=3, ip_messages_per_minute=100)
    s = sessions.open_session(public_key=ch.public_key, ip="10.0.0.1")
    t0 = (int(time.time()) // 60) * 60 + 1.0
    for i in range(3):
        sessions.send_message(s, client_id=f"c-rate-{i}", text=f"m{i}", now=t0)
    with pytest.raises(sessions.WidgetError) as err:
        sessions.send_message(s, client_id="c-rate-3", text="m3", now=t0 + 10)
    assert (err.value.code, err.value.status, err.value.retry_after) == ("rate_limited", 429, 50)
    assert Message.objects.count() == 3
    sessions.send_message(s, client_id="c-rate-4", text="next minute", now=t0 + 60)
    assert Message.objects.count() == 4


def test_rate_limit_per_ip_counts_all_visitors_behind_one_address():
    ws = make_workspace()
    ch = make_channel(ws, visitor_messages_per_minute=10, ip_messages_per_minute=5)
    t0 = (int(time.time()) // 60) * 60 + 1.0
    visitors = [sessions.open_session(public_key=ch.public_key, ip="192.0.2.7") for _ in range(3)]
    sent = 0
    for i in range(5):
        sessions.send_message(visitors[i % 3], client_id=f"c-ip-{i}", text="hi", now=t0)
        sent += 1
    with pytest.raises(sessions.WidgetError) as err:
        sessions.send_message(visitors[2], client_id="c-ip-5", text="hi", now=t0)
    assert err.value.code == "rate_limited"
    # another address is not affected
    elsewhere = sessions.open_session(public_key=ch.public_key, ip="198.51.100.1")
    sessions.send_message(elsewhere, client_id="c-ip-6", text="hi", now=t0)
    assert Message.objects.count() == sent + 1 == 6


@pytest.mark.redis
def test_rate_limit_counts_in_redis_when_redis_is_configured():
    url = os.environ["CAREKIT_TEST_REDIS_URL"]
    ratelimit._redis_client = None
    with override_settings(REDIS_URL=url):
        now = (int(time.time()) // 60) * 60 + 2.0
        visitor = f"v-redis-{time.time_ns()}"
        verdicts = [
            ratelimit.hit(channel_pk=1, visitor=visitor, ip="203.0.113.5", per_visitor=2, per_ip=50, now=now)
            for _ in range(3)
        ]
        assert [v.allowed for v in verdicts] == [True, True, False]
        assert verdicts[2].scope == "visitor"
        assert ratelimit._memory.counts == {}
    ratelimit._redis_client = None


# --- HTTP fallback and uploads ------------------------------------------------------------------------


def test_http_fallback_shares_the_idempotent_send_and_an_oversize_upload_is_refused(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)  # the stored attachment stays out of the working tree
    ws = make_workspace()
    ch = make_channel(ws)
    InboxSettings.objects.update_or_create(workspace=ws, defaults={"attachment_max_bytes": 1000})
    client = Client()
    url = f"/webchat/{ch.public_key}/messages"
    body = {"visitor": "", "client_id": "c-http-0001", "text": "via http"}
    first = client.post(url, body, content_type="application/json")
    assert first.status_code == 201
    visitor = first.json()["visitor"]
    again = client.post(url, {**body, "visitor": visitor}, content_type="application/json")
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert Message.objects.count() == 1

    from django.core.files.uploadedfile import SimpleUploadedFile

    small = SimpleUploadedFile("receipt.png", b"\x89PNG" + b"0" * 500, content_type="image/png")
    ok = client.post(
        f"/webchat/{ch.public_key}/upload", {"visitor": visitor, "client_id": "c-up-0001", "file": small}
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["message"]["attachments"] == [{"name": "receipt.png", "size": 504}]
    big = SimpleUploadedFile("huge.png", b"\x89PNG" + b"0" * 5000, content_type="image/png")
    refused = client.post(
        f"/webchat/{ch.public_key}/upload", {"visitor": visitor, "client_id": "c-up-0002", "file": big}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (413, "attachment_too_large")
    assert Message.objects.count() == 2
    unknown = client.post("/webchat/we_nope/messages", body, content_type="application/json")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_channel")


def test_origins_outside_the_allowed_list_are_refused():
    ws = make_workspace()
    ch = make_channel(ws, allowed_origins=["https://shop.example"])
    client = Client()
    url = f"/webchat/{ch.public_key}/messages"
    body = {"client_id": "c-origin-01", "text": "hi"}
    bad = client.post(url, body, content_type="application/json", HTTP_ORIGIN="https://evil.example")
    assert (bad.status_code, bad.json()["error"]["code"]) == (403, "origin_refused")
    good = client.post(url, body, content_type="application/json", HTTP_ORIGIN="https://shop.example")
    assert good.status_code == 201
    assert good["Access-Control-Allow-Origin"] == "https://shop.example"
    assert Message.objects.count() == 1


# --- business hours -----------------------------------------------------------------------------------


def test_outside_business_hours_the_widget_is_offline_and_the_offline_message_links_no_identity():
    ws = make_workspace()
    today = timezone.now().date()
    cal = BusinessCalendar.objects.create(
        workspace=ws,
        name="Shop",
        time_zone="UTC",
        hours={str(d): [["00:00", "24:00"]] for d in range(7)},
        holidays=[today.isoformat(), (today + timedelta(days=1)).isoformat()],
    )
    ch = make_channel(ws, calendar_id=cal.public_id)
    s = sessions.open_session(public_key=ch.public_key, ip="10.0.0.1")
    state = sessions.state(s)
    assert state["online"] is False
    assert state["opens_at"].startswith((today + timedelta(days=2)).isoformat())
    msg, _ = sessions.send_offline(
        s, client_id="c-offline-1", name="Ivan", contact="ivan@example.test", text="Call me"
    )
    assert msg["text"].startswith("Call me")
    assert "ivan@example.test" in msg["text"]
    assert customers.identity_owner(ws.pk, "email", "ivan@example.test") is None
    cal.holidays = []
    cal.save()
    assert sessions.state(s)["online"] is True


# --- outbound -----------------------------------------------------------------------------------------


def test_an_agent_reply_is_pushed_to_the_visitors_group(monkeypatch):
    from carekit.conversations.services import message_send

    ws = make_workspace()
    ch = make_channel(ws)
    s = sessions.open_session(public_key=ch.public_key, ip="10.0.0.1")
    msg, _ = sessions.send_message(s, client_id="c-out-0001", text="Hello")
    pushed: list[tuple[list[str], dict]] = []
    monkeypatch.setattr(push, "publish_now", lambda groups, message: pushed.append((groups, message)))
    conv = Conversation.objects.get(public_id=msg["conversation_id"])
    with transaction.atomic():  # delivery runs on commit (jobs are immediate in tests)
        reply = message_send(actor=SYSTEM, conversation=conv, text="Hi! How can I help?", author_id="")
    reply.refresh_from_db()
    assert (reply.state, reply.provider_id) == ("sent", f"wc:{reply.public_id}")
    assert pushed[-1] == (
        [push.group_for(ch.public_id, s.customer_id)],
        {"type": push.PUSH, "message_id": reply.public_id},
    )
    assert [m["text"] for m in sessions.state(s)["history"]] == ["Hello", "Hi! How can I help?"]


def test_the_agent_typing_is_shown_to_the_visitor_and_other_channels_answer_202(monkeypatch):
    from carekit.accounts.enums import Role
    from carekit.bot.tests.flows import signed_in
    from carekit.conversations.tests.factories import conversation
    from carekit.testing.tenants import add_member

    ws = make_workspace()
    ch = make_channel(ws)
    s = sessions.open_session(public_key=ch.public_key, ip="10.0.0.1")
    msg, _ = sessions.send_message(s, client_id="c-typ-0001", text="Hello")
    pushed: list[tuple[list[str], dict]] = []
    monkeypatch.setattr(push, "publish_now", lambda groups, message: pushed.append((groups, message)))
    agent = signed_in(add_member(ws, Role.AGENT), ws)

    resp = agent.post(f"/inbox/c/{msg['conversation_id']}/typing/")
    assert resp.status_code == 204
    assert pushed == [([push.group_for(ch.public_id, s.customer_id)], {"type": push.TYPING})]

    other = conversation(ws)  # the API channel cannot show typing: accepted, nothing sent
    assert agent.post(f"/inbox/c/{other.public_id}/typing/").status_code == 202
    assert len(pushed) == 1
    assert Client().post(f"/inbox/c/{other.public_id}/typing/").status_code in (302, 403)
