"""The inbound webhook for raw MIME (signed with the channel's secret), threading without IMAP, the
refusals with their reasons, and the sender's fallback for mail that belongs to no mailbox."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from carekit.channels import services
from carekit.channels.adapters.email.smtp import ChannelEmailSender
from carekit.channels.models import Channel, EmailRecord, QuarantinedInput
from carekit.channels.tests import email_mail as mails
from carekit.conversations.models import Conversation, Message
from carekit.core import outbound
from carekit.core.webhooks import signing
from carekit.testing.tenants import SYSTEM, make_workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]


@pytest.fixture
def channel() -> Channel:
    ws = make_workspace()
    with transaction.atomic():
        return services.channel_create(
            actor=SYSTEM,
            workspace=ws,
            kind="email",
            name="Support",
            config={"address": "support@example.test"},
        )


def _post(client, channel: Channel, raw: bytes, *, secret: str | None = None, at: int | None = None):
    header = signing.sign(secret or channel.secrets[services.SIGNING], raw, at or int(time.time()))
    return client.post(
        f"/channels/email/{channel.public_key}/inbound",
        data=raw,
        content_type="message/rfc822",
        headers={"X-Carekit-Signature": header},
    )


def test_a_signed_mail_creates_a_conversation_and_a_resend_is_a_duplicate(client, channel):
    resp = _post(client, channel, mails.cp1251_with_attachment())
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["disposition"] == "received"
    conv = Conversation.objects.get(public_id=body["conversation_id"])
    assert (conv.channel, conv.channel_ref, conv.subject) == ("email", channel.public_id, "Где мой заказ?")
    again = _post(client, channel, mails.cp1251_with_attachment())
    assert (again.status_code, again.json()["disposition"]) == (200, "duplicate")
    assert Message.objects.count() == 1


def test_a_reply_by_message_id_alone_joins_the_thread(client, channel):
    first = _post(client, channel, mails.plain(message_id="<root@customer.test>")).json()
    second = _post(
        client,
        channel,
        mails.reply(
            to="support@example.test",
            in_reply_to="<root@customer.test>",
            references="<root@customer.test>",
            body="One more thing.\n\nOn Mon, 23 Nov 2026, Ann wrote:\n> Hello, a question.",
            sender="ann@customer.test",
        ),
    ).json()
    assert second["conversation_id"] == first["conversation_id"]
    assert Message.objects.get(public_id=second["message_id"]).text == "One more thing."
    third = _post(
        client, channel, mails.plain(message_id="<other@customer.test>", body="A new matter.")
    ).json()
    assert third["conversation_id"] != first["conversation_id"]


@pytest.mark.parametrize(
    ("secret", "skew"),
    [("forged-secret", 0), (None, -3600)],  # a wrong secret; the right one, but an hour-old signature
)
def test_unsigned_or_stale_posts_are_refused_and_nothing_is_stored(client, channel, secret, skew):
    resp = _post(client, channel, mails.plain(), secret=secret, at=int(time.time()) + skew)
    assert (resp.status_code, resp.json()["error"]["code"]) == (401, "bad_signature")
    assert (Message.objects.count(), EmailRecord.objects.count(), QuarantinedInput.objects.count()) == (
        0,
        0,
        0,
    )


def test_unknown_channel_is_404(client, channel):
    resp = client.post("/channels/email/em_nope/inbound", data=b"x", content_type="message/rfc822")
    assert resp.status_code == 404


def test_bad_mail_is_quarantined_with_reasons_and_the_channel_keeps_working(client, channel):
    statuses = [
        _post(client, channel, raw).status_code
        for raw in (mails.malformed(), mails.huge_attachment(30), mails.many_recipients(5000))
    ]
    assert statuses == [422, 413, 422]
    rows = list(QuarantinedInput.objects.filter(channel=channel).order_by("pk").values_list("reason", "size"))
    assert [r for r, _size in rows] == ["malformed_mime", "message_too_large", "too_many_recipients"]
    assert rows[1][1] == 26214401  # only the start of the 30 MB mail was kept
    good = _post(client, channel, mails.plain())
    assert (good.status_code, good.json()["disposition"]) == (200, "received")
    assert (Conversation.objects.count(), Message.objects.count()) == (1, 1)


def test_an_attachment_of_a_refused_type_is_quarantined_but_the_words_arrive(client, channel):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "ann@customer.test"
    msg["To"] = "support@example.test"
    msg["Message-ID"] = "<exe@customer.test>"
    msg.set_content("My invoice attached.")
    msg.add_attachment(b"MZ....", maintype="application", subtype="x-msdownload", filename="invoice.exe")
    resp = _post(client, channel, msg.as_bytes())
    assert resp.json()["disposition"] == "received"
    text = Message.objects.get().text
    assert text.startswith("My invoice attached.\n\n[invoice.exe: ")
    assert list(QuarantinedInput.objects.values_list("reason", flat=True)) == ["attachment_type_not_allowed"]


def test_own_mail_is_ignored_so_a_mailbox_never_answers_itself(client, channel):
    resp = _post(client, channel, mails.plain(sender="support@example.test"))
    assert resp.json()["disposition"] == "own"
    assert Message.objects.count() == 0


def test_the_channel_sender_replaces_core_s_and_falls_back_for_mail_without_a_channel(channel):
    assert isinstance(outbound.get_sender("email"), ChannelEmailSender)
    sent: list[outbound.OutboundMessage] = []

    class Plain:
        channel = "email"

        def send(self, message):
            sent.append(message)
            return outbound.SendResult(ok=True, provider_id="plain")

    reset = outbound.OutboundMessage(
        workspace_id=None,
        channel="email",
        to="user@example.test",
        body="code 123",
        message_class=outbound.MessageClass.SERVICE,
    )
    assert ChannelEmailSender(Plain()).send(reset).provider_id == "plain"
    unknown_thread = outbound.OutboundMessage(
        workspace_id=channel.workspace_id,
        channel="email",
        to="nosuchtoken0",
        body="x",
        message_class=outbound.MessageClass.REPLY,
        headers={"X-Carekit-Channel": channel.public_id},
    )
    result = ChannelEmailSender(Plain()).send(unknown_thread)
    assert (result.ok, len(sent)) == (False, 1)


def test_erasing_the_customer_blanks_the_addresses_kept_for_their_mail(client, channel):
    from carekit.channels.adapters.email import erasure
    from carekit.channels.models import EmailThread
    from carekit.customers.registry import ERASURE_PROVIDERS

    assert ERASURE_PROVIDERS[erasure.PROVIDER] is erasure.erase
    conv = Conversation.objects.get(
        public_id=_post(client, channel, mails.cp1251_with_attachment()).json()["conversation_id"]
    )
    other = _post(client, channel, mails.plain()).json()["conversation_id"]
    with transaction.atomic():
        erasure.erase(channel.workspace_id, conv.customer_id)
    thread = EmailThread.objects.get(token=conv.thread_key)
    assert (thread.address, thread.cc, thread.subject) == ("", [], "")
    record = EmailRecord.objects.get(conversation_id=conv.public_id)
    assert (record.from_address, record.to, record.cc, record.subject) == ("", [], [], "")
    kept = EmailRecord.objects.get(conversation_id=other)
    assert kept.from_address == "ann@customer.test"


def test_without_plus_addressing_the_token_rides_in_the_subject_and_threads_the_answer(client):
    from carekit.channels.adapters.email import smtp
    from carekit.channels.adapters.email.config import mailbox
    from carekit.channels.models import EmailThread

    ws = make_workspace()
    with transaction.atomic():
        channel = services.channel_create(
            actor=SYSTEM,
            workspace=ws,
            kind="email",
            name="Support",
            config={"address": "support@example.test", "plus_addressing": False},
        )
    first = _post(client, channel, mails.plain(message_id="<s1@customer.test>")).json()
    thread = EmailThread.objects.get(channel=channel)
    message = outbound.OutboundMessage(
        workspace_id=ws.pk,
        channel="email",
        to=thread.token,
        body="Answer",
        message_class=outbound.MessageClass.REPLY,
        subject="Question",
        idempotency_key="msg_abc",
        headers={"X-Carekit-Channel": channel.public_id},
    )
    mail, in_reply_to, references = smtp.compose(mailbox(channel.config, channel.secrets), thread, message)
    assert mail["Subject"] == f"Re: Question [#{thread.token}]"
    assert mail["Reply-To"] == "support@example.test"
    assert (in_reply_to, references) == ("<s1@customer.test>", ["<s1@customer.test>"])
    answer = mails.reply(
        to="support@example.test",
        in_reply_to="",
        references="",
        subject=f"RE: Question [#{thread.token}]",
        body="Thanks",
        sender="ann@customer.test",
        message_id="<s2@customer.test>",
    )
    second = _post(client, channel, answer).json()
    assert second["conversation_id"] == first["conversation_id"]


def test_a_mail_with_only_a_subject_arrives_with_the_subject_as_text(client, channel):
    raw = b"From: ann@customer.test\r\nTo: support@example.test\r\nSubject: Call me back\r\n\r\n"
    body = _post(client, channel, raw).json()
    assert body["disposition"] == "received"
    assert Message.objects.get().text == "Call me back"
