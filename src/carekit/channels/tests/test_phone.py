"""Phone calls: the signed telephony webhook, the API and the agents' form record calls; a missed call
opens a callback task due within the channel's callback time; logging the call back completes it."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from carekit.channels import public as channels
from carekit.channels import services
from carekit.channels.adapters.phone.calls import CallIn, call_record
from carekit.channels.models import Channel, QuarantinedInput
from carekit.conversations.models import Conversation, Message, Note, Task
from carekit.core.models import Event
from carekit.core.webhooks import signing
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

NUMBER = "+79161234567"


def _channel(ws, minutes=30) -> Channel:
    with transaction.atomic():
        return services.channel_create(
            actor=SYSTEM,
            workspace=ws,
            kind="phone",
            name="Office line",
            config={"callback_sla_minutes": minutes},
        )


def _hook(ch: Channel, body: dict, *, secret: str | None = None):
    raw = json.dumps(body).encode()
    header = signing.sign(secret or ch.secrets[services.SIGNING], raw, int(time.time()))
    return Client().post(
        f"/hooks/phone/{ch.public_key}/",
        raw,
        content_type="application/json",
        headers={"X-Carekit-Signature": header},
    )


def test_a_missed_call_creates_a_callback_task_with_its_sla_and_logging_the_callback_resolves_it(workspace):
    ch = _channel(workspace, minutes=30)
    started = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    resp = _hook(
        ch,
        {"call_id": "c-1", "direction": "inbound", "from": NUMBER, "to": "+74950000000", "outcome": "missed",
         "duration_seconds": 0, "started_at": started.isoformat()},
    )  # fmt: skip
    assert resp.status_code == 201, resp.content
    out = resp.json()
    task = Task.objects.get(workspace=workspace)
    assert (task.public_id, task.kind, task.status, task.source) == (
        out["task_id"],
        "callback",
        "open",
        "channels.phone",
    )
    assert task.due_at == started + timedelta(minutes=30)
    conv = Conversation.objects.get(workspace=workspace)
    assert (conv.channel, conv.thread_key, task.conversation_id) == ("phone", NUMBER, conv.pk)
    assert conv.messages.get().text == f"Missed call from {NUMBER}."
    # the telephony system repeats its call: nothing new
    again = _hook(ch, {"call_id": "c-1", "direction": "inbound", "from": NUMBER, "outcome": "missed"})
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert Task.objects.filter(workspace=workspace).count() == 1

    # the agent calls back: no answer first (the task stays open), then answered (it is done)
    with transaction.atomic():
        call_record(actor=SYSTEM, channel=ch, call=CallIn("outbound", NUMBER, "missed"))
    task.refresh_from_db()
    assert task.status == "open"
    with transaction.atomic():
        logged = call_record(
            actor=SYSTEM, channel=ch, call=CallIn("outbound", NUMBER, "answered", duration_seconds=125)
        )
    task.refresh_from_db()
    assert (task.status, logged.tasks_completed) == ("done", (task.public_id,))
    assert list(Note.objects.filter(conversation=conv).values_list("text", flat=True)) == [
        f"Outgoing call to {NUMBER}: no answer.",
        f"Outgoing call to {NUMBER}, answered, 2:05.",
    ]
    events = Event.objects.filter(type="channels.call.logged").order_by("pk")
    assert [e.payload["outcome"] for e in events] == ["missed", "missed", "answered"]
    assert all(NUMBER not in json.dumps(e.payload) for e in events)


def test_an_answered_call_with_a_recording_is_a_message_and_opens_no_task(workspace):
    ch = _channel(workspace)
    resp = _hook(
        ch,
        {
            "call_id": "c-2",
            "direction": "inbound",
            "from": NUMBER,
            "outcome": "answered",
            "duration_seconds": 61,
            "recording_url": "https://pbx.example/rec/2.mp3",
        },
    )
    assert resp.status_code == 201
    assert Message.objects.get().text == (
        f"Incoming call from {NUMBER}, answered, 1:01.\nRecording: https://pbx.example/rec/2.mp3"
    )
    assert Task.objects.count() == 0


@pytest.mark.parametrize("forged", ["", "t=1,v1=00", "other-secret"])
def test_an_unsigned_or_forged_call_is_refused_and_nothing_changes(workspace, forged):
    ch = _channel(workspace)
    raw = json.dumps({"direction": "inbound", "from": NUMBER, "outcome": "missed"}).encode()
    header = signing.sign("other-secret", raw, int(time.time())) if forged == "other-secret" else forged
    resp = Client().post(
        f"/hooks/phone/{ch.public_key}/",
        raw,
        content_type="application/json",
        headers={"X-Carekit-Signature": header},
    )
    assert (resp.status_code, resp.json()["error"]["code"]) == (401, "bad_signature")
    assert (Message.objects.count(), Task.objects.count(), QuarantinedInput.objects.count()) == (0, 0, 0)


def test_a_bad_call_record_is_quarantined_with_its_reason(workspace):
    ch = _channel(workspace)
    resp = _hook(ch, {"direction": "inbound", "from": NUMBER, "outcome": "exploded"})
    assert (resp.status_code, resp.json()["error"]["code"]) == (422, "bad_outcome")
    assert list(QuarantinedInput.objects.values_list("reason", flat=True)) == ["bad_outcome"]
    assert Task.objects.count() == 0


def test_a_phone_customer_gets_a_callback_offer_instead_of_a_chat_link(
    workspace, django_capture_on_commit_callbacks
):
    from carekit.customers import services as customer_services
    from carekit.customers.models import Customer
    from carekit.customers.public import resolve
    from carekit.testing.outbound import recording

    _channel(workspace, minutes=45)
    with transaction.atomic():
        cid = resolve(actor=SYSTEM, workspace_id=workspace.pk, kind="phone", value=NUMBER).customer_id
        customer_services.customer_update(
            actor=SYSTEM,
            customer=Customer.objects.get(public_id=cid),
            data=customer_services.ProfileInput(preferred_channel="phone"),
        )
    offer = channels.contact_offer(workspace.pk, cid)
    assert (offer.kind, offer.callback_minutes, offer.url) == ("callback", 45, "")
    with recording("sms") as sms:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            offered = channels.callback_offer(
                actor=SYSTEM, workspace_id=workspace.pk, customer_id=cid, reason="late order"
            )
        assert [(m.to, m.body) for m in sms.sent] == [(NUMBER, "We will call you back within 45 minutes.")]
    task = Task.objects.get(public_id=offered.task_id)
    assert (task.kind, task.title, task.customer_id) == ("callback", "Call back: late order", cid)
