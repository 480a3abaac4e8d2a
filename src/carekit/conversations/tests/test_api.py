"""The generic API channel end to end (without a browser): inbound with external ids, bad input answered
with the error envelope, and a canned reply delivered to the channel's webhook receiver, signed."""

from __future__ import annotations

import base64
import json

import pytest

from carekit.conversations.models import Conversation, Message
from carekit.core.webhooks import signing
from carekit.core.webhooks.testing import webhook_receiver

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _channel(api, url="http://127.0.0.1:9/hook"):
    resp = api.post("/inbox/api-channels", {"name": "Shop backend", "webhook_url": url})
    assert resp.status_code == 201, resp.content
    return resp.json()


def _post(api, channel_id, **body):
    payload = {"thread_id": "order-1001", "message_id": "m-1", "customer_ref": "u-42", "text": "Hi", **body}
    return api.post(f"/inbox/api-channels/{channel_id}/messages", payload)


def test_inbound_is_idempotent_by_message_id(api):
    ch = _channel(api)
    first = _post(api, ch["id"])
    assert first.status_code == 201, first.content
    again = _post(api, ch["id"], text="retry")
    assert again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True, "conversation_created": False}
    assert Message.objects.filter(workspace=api.workspace).count() == 1
    listed = api.get("/inbox/conversations").json()["items"]
    assert [c["id"] for c in listed] == [first.json()["conversation_id"]]


def test_bad_input_is_refused_with_the_envelope(api):
    ch = _channel(api)
    big = base64.b64encode(b"x" * (10 * 1024 * 1024 + 1)).decode()
    # the body limit of the API stops a very large body before the inbox sees it
    resp = _post(
        api, ch["id"], attachments=[{"filename": "a.png", "content_type": "image/png", "content_base64": big}]
    )
    assert resp.status_code == 413
    exe = base64.b64encode(b"MZ").decode()
    resp = _post(
        api,
        ch["id"],
        attachments=[
            {"filename": "a.exe", "content_type": "application/x-msdownload", "content_base64": exe}
        ],
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "attachment_type_not_allowed"
    resp = _post(api, ch["id"], message_id="m-2", text="", html="<p>ok<script>alert(1)</script></p>")
    assert resp.status_code == 201
    msgs = api.get(f"/inbox/conversations/{resp.json()['conversation_id']}/messages").json()["items"]
    assert msgs[0]["html"] == "<p>ok</p>"
    assert Message.objects.filter(workspace=api.workspace).count() == 1


def test_an_attachment_over_the_workspace_limit_is_refused(api):
    from django.db import transaction

    from carekit.conversations import services
    from carekit.testing.tenants import SYSTEM

    with transaction.atomic():
        services.inbox_settings_update(
            actor=SYSTEM, workspace=api.workspace, changes={"attachment_max_bytes": 10}
        )
    ch = _channel(api)
    data = base64.b64encode(b"x" * 11).decode()
    resp = _post(
        api,
        ch["id"],
        attachments=[{"filename": "a.png", "content_type": "image/png", "content_base64": data}],
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "attachment_too_large"


def test_a_reply_to_a_closed_conversation_is_refused(api):
    ch = _channel(api)
    cid = _post(api, ch["id"]).json()["conversation_id"]
    assert api.post(f"/inbox/conversations/{cid}/actions", {"action": "close"}).status_code == 200
    resp = api.post(f"/inbox/conversations/{cid}/messages", {"text": "hello?"})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "conversation_closed"
    # and the customer's next message starts a new conversation
    again = _post(api, ch["id"], message_id="m-2")
    assert again.json()["conversation_created"] is True
    assert again.json()["conversation_id"] != cid


def test_a_canned_reply_reaches_the_webhook_receiver_signed(api, django_capture_on_commit_callbacks):
    customer = api.post("/customers", {"first_name": "Olga"}).json()
    from django.db import transaction

    from carekit.conversations import services
    from carekit.testing.tenants import SYSTEM

    with transaction.atomic():
        services.inbox_settings_update(
            actor=SYSTEM,
            workspace=api.workspace,
            changes={"tracking_url_template": "https://track.example/{tracking_number}"},
        )
    order = api.post(
        "/orders",
        {
            "external_id": "A-1001",
            "status": "shipped",
            "currency": "RUB",
            "total": "10.00",
            "customer_id": customer["id"],
            "tracking_number": "TRK1",
        },
    )
    assert order.status_code == 201, order.content
    canned = api.post(
        "/inbox/canned-responses",
        {"shortcut": "where", "body": "Hello {customer.first_name}, track it here: {order.tracking_url}"},
    ).json()
    with webhook_receiver([200]) as receiver:
        ch = _channel(api, receiver.url)
        cid = _post(api, ch["id"], customer_id=customer["id"], customer_ref=None).json()["conversation_id"]
        with django_capture_on_commit_callbacks(execute=True):
            sent = api.post(f"/inbox/conversations/{cid}/messages", {"canned_response_id": canned["id"]})
        assert sent.status_code == 201, sent.content
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    assert signing.verify(ch["secret"], req.body, req.headers[signing.SIGNATURE_HEADER])
    body = json.loads(req.body)
    assert body["text"] == "Hello Olga, track it here: https://track.example/TRK1"
    assert (body["thread_id"], body["conversation_id"], body["message_id"]) == (
        "order-1001",
        cid,
        sent.json()["id"],
    )
    assert Message.objects.get(public_id=sent.json()["id"]).state == "sent"
    assert Conversation.objects.get(public_id=cid).first_response_at is not None


def test_the_external_system_confirms_delivery_sent_to_delivered(api, django_capture_on_commit_callbacks):
    from carekit.core.models import Event

    with webhook_receiver([200]) as receiver:
        ch = _channel(api, receiver.url)
        cid = _post(api, ch["id"]).json()["conversation_id"]
        queued = api.post(f"/inbox/conversations/{cid}/messages", {"text": "Not sent yet"}).json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            sent = api.post(f"/inbox/conversations/{cid}/messages", {"text": "On its way"}).json()["id"]
    Message.objects.filter(public_id=queued).update(state="queued")  # its job has not run
    url = f"/inbox/api-channels/{ch['id']}/messages/{{}}/delivered"

    early = api.post(url.format(queued))
    assert (early.status_code, early.json()["error"]["code"]) == (409, "not_sent")
    assert Message.objects.get(public_id=queued).state == "queued"

    first = api.post(url.format(sent))
    assert (first.status_code, first.json()) == (
        200,
        {"message_id": sent, "state": "delivered", "changed": True},
    )
    again = api.post(url.format(sent))
    assert (again.status_code, again.json()["changed"]) == (200, False)
    assert Message.objects.get(public_id=sent).state == "delivered"
    changes = Event.objects.filter(type="conversations.message.delivery_changed", subject_id=sent)
    assert [e.payload["state"] for e in changes.order_by("id")] == ["sent", "delivered"]

    inbound_id = Message.objects.get(conversation__public_id=cid, direction="inbound").public_id
    other = api.post(url.format(inbound_id))
    assert (other.status_code, other.json()["error"]["code"]) == (409, "not_outbound")
    assert Message.objects.get(public_id=inbound_id).state == "received"
    assert api.post(url.format("msg_unknown")).status_code == 404
