"""Telegram against the local Bot API double (carekit.testing.telegram): webhook and getUpdates modes,
text/photo/document, deep links, the sender and its errors, refused and quarantined input."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.test import Client

from carekit.channels import services
from carekit.channels.adapters.telegram import deeplink, polling
from carekit.channels.adapters.telegram.intake import process_update
from carekit.channels.models import Channel, QuarantinedInput
from carekit.conversations import services as conv_services
from carekit.conversations.models import Attachment, Conversation, Message
from carekit.customers.models import Identity
from carekit.testing.telegram import TOKEN, UpdateBuilder, bot_api_double
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.fixture
def double():
    with bot_api_double() as d:
        yield d


def _channel(ws, double, **config) -> Channel:
    with transaction.atomic():
        return services.channel_create(
            actor=SYSTEM,
            workspace=ws,
            kind="telegram",
            name="Shop bot",
            config={"api_base_url": double.base_url, "bot_username": "shop_bot", **config},
            secrets={"bot_token": TOKEN},
        )


def _post(ch: Channel, update, *, secret: str | None = None):
    secret = ch.secrets[services.SIGNING] if secret is None else secret
    return Client().post(
        f"/hooks/telegram/{ch.public_key}/",
        json.dumps(update),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )


def test_text_and_photo_land_in_one_conversation_and_the_reply_goes_out_by_send_message(workspace, double):
    ch = _channel(workspace, double)
    b = UpdateBuilder()
    photo_id = double.add_file(PNG, suffix="png")
    assert _post(ch, b.text(4242, "Где мой заказ?")).status_code == 200
    resp = _post(ch, b.photo(4242, photo_id, caption="вот чек"))
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "received"
    conv = Conversation.objects.get(workspace=workspace)
    assert (conv.channel, conv.channel_ref, conv.thread_key) == ("telegram", ch.public_id, "4242")
    msgs = list(conv.messages.order_by("pk"))
    assert [m.text for m in msgs] == ["Где мой заказ?", "вот чек"]
    att = Attachment.objects.get(message=msgs[1])
    assert (att.content_type, att.size, att.filename) == (
        "image/jpeg",
        len(PNG),
        f"photo-{msgs[1].external_id.split(':')[1]}.png",
    )
    assert len(double.calls_of("getFile")) == 1
    assert Identity.objects.filter(workspace=workspace, kind="telegram", value="4242").count() == 1

    with transaction.atomic():
        reply = conv_services.message_send(actor=SYSTEM, conversation=conv, text="Заказ в пути")
    sent = double.calls_of("sendMessage")
    assert [(c.params["chat_id"], c.params["text"]) for c in sent] == [("4242", "Заказ в пути")]
    reply.refresh_from_db()
    assert reply.state == "sent"
    assert reply.provider_id.startswith("4242:")


def test_a_repeated_update_is_stored_once(workspace, double):
    ch = _channel(workspace, double)
    update = UpdateBuilder().text(7, "hello")
    assert _post(ch, update).json()["status"] == "received"
    assert _post(ch, update).json()["status"] == "duplicate"
    assert Message.objects.filter(workspace=workspace).count() == 1


@pytest.mark.parametrize("secret", ["", "forged-secret"])
def test_a_webhook_call_with_a_wrong_secret_is_refused_and_nothing_is_stored(workspace, double, secret):
    ch = _channel(workspace, double)
    resp = _post(ch, UpdateBuilder().text(7, "hello"), secret=secret)
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "bad_secret"
    assert Message.objects.count() == 0
    assert QuarantinedInput.objects.count() == 0


def test_the_old_secret_works_during_the_grace_period_after_rotation(workspace, double):
    ch = _channel(workspace, double)
    old = ch.secrets[services.SIGNING]
    with transaction.atomic():
        services.channel_rotate_secret(actor=SYSTEM, channel=ch)
    ch.refresh_from_db()
    assert _post(ch, UpdateBuilder().text(7, "hi"), secret=old).status_code == 200


def test_unknown_update_types_are_quarantined_with_a_reason_and_the_channel_keeps_working(workspace, double):
    ch = _channel(workspace, double)
    b = UpdateBuilder()
    assert _post(ch, b.unknown("message_reaction")).json() == {
        "ok": True,
        "status": "quarantined",
        "reason": "unsupported_update",
    }
    assert _post(ch, b.sticker(9)).json()["reason"] == "unsupported_message"
    bad = Client().post(
        f"/hooks/telegram/{ch.public_key}/",
        b"{not json",
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": ch.secrets[services.SIGNING]},
    )
    assert bad.status_code == 200
    rows = list(QuarantinedInput.objects.filter(channel=ch).order_by("pk"))
    assert [r.reason for r in rows] == ["unsupported_update", "unsupported_message", "malformed_update"]
    assert "message_reaction" in rows[0].detail
    assert _post(ch, b.text(9, "still here")).json()["status"] == "received"
    assert Message.objects.filter(workspace=workspace).count() == 1


def test_a_document_is_stored_and_a_refused_type_is_quarantined(workspace, double):
    ch = _channel(workspace, double)
    b = UpdateBuilder()
    pdf = double.add_file(b"%PDF-1.4 test", suffix="pdf", folder="documents")
    exe = double.add_file(b"MZ", suffix="exe", folder="documents")
    assert (
        _post(ch, b.document(5, pdf, file_name="invoice.pdf", mime_type="application/pdf")).json()["status"]
        == "received"
    )
    out = _post(ch, b.document(5, exe, file_name="x.exe", mime_type="application/x-msdownload")).json()
    assert (out["status"], out["reason"]) == ("quarantined", "attachment_type_not_allowed")
    assert list(Attachment.objects.values_list("filename", "content_type")) == [
        ("invoice.pdf", "application/pdf")
    ]


def test_a_file_the_api_cannot_serve_now_is_retried_by_telegram(workspace, double):
    ch = _channel(workspace, double)
    file_id = double.add_file(PNG)
    double.fail_next("getFile", 502, "Bad Gateway")
    resp = _post(ch, UpdateBuilder().photo(3, file_id))
    assert resp.status_code == 503
    assert Message.objects.count() == 0


def test_polling_stores_each_update_once_and_moves_the_offset(workspace, double):
    ch = _channel(workspace, double, mode="polling")
    b = UpdateBuilder(first_update_id=10)
    first = b.text(1, "one")
    double.queue(first, b.text(1, "two"))
    assert polling.poll_once(ch).handled == 2
    assert services.cursor_get(ch, polling.CURSOR) == 11
    double.queue(b.text(2, "three"))
    assert polling.poll_once(ch).handled == 1
    assert double.calls_of("getUpdates")[-1].params["offset"] == 12
    assert services.cursor_get(ch, polling.CURSOR) == 12
    # a poller that crashed before moving the cursor reads an update again: it is a duplicate
    assert process_update(ch, first).status == "duplicate"
    assert list(Message.objects.order_by("pk").values_list("text", flat=True)) == ["one", "two", "three"]
    assert Conversation.objects.filter(workspace=workspace).count() == 2


def test_webhook_registration_sends_the_secret_token(workspace, double):
    ch = _channel(workspace, double, webhook_base_url="https://care.example")
    assert polling.webhook_register(ch) == ""
    assert double.webhook == {
        "url": f"https://care.example/hooks/telegram/{ch.public_key}/",
        "secret_token": ch.secrets[services.SIGNING],
    }


def test_a_deep_link_links_the_telegram_account_to_the_customer(workspace, double):
    from carekit.customers import public as customers

    ch = _channel(workspace, double)
    with transaction.atomic():
        known = customers.resolve(
            actor=SYSTEM, workspace_id=workspace.pk, kind="email", value="anna@example.test"
        )
    b = UpdateBuilder()
    # the user wrote before linking: a profile was made for the Telegram id alone
    _post(ch, b.text(77, "hi"))
    link = deeplink.start_link(ch, known.customer_id)
    assert link.startswith("https://t.me/shop_bot?start=")
    assert len(link.split("=", 1)[1]) <= 64
    assert _post(ch, b.start(77, link.split("=", 1)[1])).json()["status"] == "linked"
    ident = Identity.objects.get(workspace=workspace, kind="telegram", value="77")
    assert (ident.customer.public_id, ident.verified) == (known.customer_id, True)
    assert _post(ch, b.text(77, "again")).json()["status"] == "received"
    assert Conversation.objects.get(workspace=workspace).customer_id == known.customer_id


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("/start", ""),
        ("/start abc-1-x", "abc-1-x"),
        ("/start@shop_bot abc-1-x", "abc-1-x"),
        ("/started", None),
    ],
)
def test_start_commands_are_recognised(text, payload):
    from carekit.channels.adapters.telegram.intake import parse

    parsed = parse(UpdateBuilder().text(1, text))
    assert parsed.start_payload == payload


def test_a_forged_deep_link_is_quarantined_and_links_nothing(workspace, double):
    ch = _channel(workspace, double)
    forged = "cus_aaaaaaaaaaaaaaaa-zzzzzz-AAAAAAAAAAAAAAAAAAAAAA"
    out = _post(ch, UpdateBuilder().start(5, forged)).json()
    assert (out["status"], out["reason"]) == ("quarantined", "bad_start_payload")
    assert Identity.objects.filter(workspace=workspace, kind="telegram").count() == 0


def test_sender_errors_blocked_is_final_flood_control_is_retried_later(workspace, double):
    ch = _channel(workspace, double)
    _post(ch, UpdateBuilder().text(11, "hi"))
    conv = Conversation.objects.get(workspace=workspace)
    double.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with transaction.atomic():
        m1 = conv_services.message_send(actor=SYSTEM, conversation=conv, text="one")
    m1.refresh_from_db()
    assert (m1.state, m1.last_error) == ("failed", "telegram 403: Forbidden: bot was blocked by the user")
    double.fail_next("sendMessage", 429, "Too Many Requests: retry after 600", retry_after=600)
    with transaction.atomic():
        m2 = conv_services.message_send(actor=SYSTEM, conversation=conv, text="two")
    m2.refresh_from_db()
    assert m2.state == "queued"
    assert (m2.next_attempt_at - m2.created_at).total_seconds() >= 600
    ch.refresh_from_db()
    assert ch.last_error.startswith("telegram 429")


def test_quick_replies_become_a_reply_keyboard_and_attachments_go_by_send_photo(workspace, double):
    from carekit.core import outbound

    ch = _channel(workspace, double)
    _post(ch, UpdateBuilder().text(12, "hi"))
    conv = Conversation.objects.get(workspace=workspace)
    with transaction.atomic():
        msg = conv_services.message_send(
            actor=SYSTEM,
            conversation=conv,
            text="Фото товара",
            attachments=[conv_services.NewAttachment("item.png", "image/png", PNG)],
        )
    photo = double.calls_of("sendPhoto")
    assert [c.params["chat_id"] for c in photo] == ["12"]
    assert photo[0].files["photo"] == ("item.png", "image/png", PNG)
    msg.refresh_from_db()
    assert msg.state == "sent"
    result = outbound.send(
        outbound.OutboundMessage(
            workspace_id=workspace.pk,
            channel="telegram",
            to="12",
            body="Оцените нас",
            message_class=outbound.MessageClass.SERVICE,
            headers={"X-Carekit-Quick-Replies": json.dumps(["👍", "👎"])},
        )
    )
    assert result.ok
    assert double.calls_of("sendMessage")[-1].params["reply_markup"] == {
        "keyboard": [[{"text": "👍"}], [{"text": "👎"}]],
        "one_time_keyboard": True,
        "resize_keyboard": True,
    }
    # the bot's channel-neutral quick replies (OutboundMessage.data) become the same keyboard
    result = outbound.send(
        outbound.OutboundMessage(
            workspace_id=workspace.pk,
            channel="telegram",
            to="12",
            body="Чем помочь?",
            message_class=outbound.MessageClass.REPLY,
            data={
                "quick_replies": [
                    {"title": "Где мой заказ?", "payload": "x"},
                    {"title": "Оператор", "payload": "/op"},
                ]
            },
        )
    )
    assert result.ok
    assert double.calls_of("sendMessage")[-1].params["reply_markup"]["keyboard"] == [
        [{"text": "Где мой заказ?"}],
        [{"text": "Оператор"}],
    ]


def test_the_poll_command_fetches_once(workspace, double):
    from io import StringIO

    from django.core.management import call_command

    ch = _channel(workspace, double, mode="polling")
    double.queue(UpdateBuilder().text(3, "from the command"))
    out = StringIO()
    call_command("telegram", "poll", "--once", stdout=out)
    assert out.getvalue().strip() == f"{ch.public_id}: 1/1"
    assert Message.objects.get().text == "from the command"


def test_the_benchmark_driver_posts_distinct_updates_from_concurrent_clients():
    """`drive_webhook` against a stand-in receiver: every update arrives once, with the secret."""
    import threading as th
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from carekit.testing.telegram import drive_webhook, free_port

    seen: list[tuple[str, str, int, int]] = []
    lock = th.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            update = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                seen.append(
                    (
                        self.path,
                        self.headers["X-Telegram-Bot-Api-Secret-Token"],
                        update["update_id"],
                        update["message"]["chat"]["id"],
                    )
                )
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format, *args):
            return

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    th.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = drive_webhook(f"http://127.0.0.1:{port}", "te_key", "s3cret", clients=4, per_client=5)
    finally:
        server.shutdown()
        server.server_close()
    assert result.statuses == {200: 20}
    assert len(result.latencies) == 20
    assert {(p, s) for p, s, _u, _c in seen} == {("/hooks/telegram/te_key/", "s3cret")}
    assert len({u for _p, _s, u, _c in seen}) == 20
    assert sorted({c for _p, _s, _u, c in seen}) == [10_000, 10_001, 10_002, 10_003]


def test_rotating_the_secret_through_the_api_registers_the_new_one_with_telegram(api, double):
    ch = _channel(api.workspace, double, webhook_base_url="https://care.example")
    rotated = api.post(f"/channels/{ch.public_id}/rotate").json()
    assert double.webhook["secret_token"] == rotated["secret"]
