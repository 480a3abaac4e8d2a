"""The email channel against real local servers (issue 7's email acceptance): dovecot for IMAP and
aiosmtpd for SMTP on 127.0.0.1:18200-18299, started here. Mail from the customer goes in by SMTP,
lands in the dovecot maildir and is read by IMAP; the agent's reply goes out by SMTP."""

from __future__ import annotations

import email
import shutil
import smtplib
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from carekit.channels import services
from carekit.channels.adapters.email import imap, oauth
from carekit.channels.models import Channel, EmailRecord, EmailThread, ImapCursor, QuarantinedInput
from carekit.channels.tests import email_mail as mails
from carekit.channels.tests.email_servers import Dovecot, OAuthServer, SmtpServer, free_port
from carekit.conversations import public as conversations
from carekit.conversations.models import Conversation, Message
from carekit.conversations.services import message_send
from carekit.testing.tenants import SYSTEM, make_workspace

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    # the test SMTP server takes passwords without TLS on 127.0.0.1, which aiosmtpd warns about
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]

SUPPORT = "support@example.test"
IMAP_PASSWORD = "imap-secret-1"
SMTP_PASSWORD = "smtp-secret-1"
REFRESH = "refresh-token-1"


@dataclass
class Servers:
    dovecot: Dovecot
    smtp: SmtpServer
    oauth: OAuthServer

    def customer_sends(self, raw: bytes, *, sender: str = "ivan@customer.test", to: str = SUPPORT) -> None:
        """A customer's mail server relays the mail to ours (SMTP), which delivers it into the maildir."""
        with smtplib.SMTP("127.0.0.1", self.smtp.port, timeout=30) as conn:
            conn.login("relay@customer.test", "relay-secret")
            conn.sendmail(sender, [to], raw)


@pytest.fixture
def servers() -> Iterator[Servers]:
    oauth.forget_cached_tokens()
    used: set[int] = set()
    o = OAuthServer(free_port(used), refresh_token=REFRESH, user=SUPPORT).start()
    used.add(o.port)
    # Not pytest's tmp_path: its parents are private to the test user, and dovecot's unprivileged login
    # processes must reach the sockets under the root.
    root = Path(tempfile.mkdtemp(prefix="carekit-dovecot-"))
    d = Dovecot(root, free_port(used), {SUPPORT: IMAP_PASSWORD}, introspection_url=f"{o.url}/introspect")
    d.start()
    used.add(d.port)
    s = SmtpServer(
        free_port(used),
        passwords={SUPPORT: SMTP_PASSWORD, "relay@customer.test": "relay-secret"},
        oauth=o,
        dovecot=d,
    ).start()
    yield Servers(d, s, o)
    s.stop()
    d.stop()
    o.stop()
    shutil.rmtree(root, ignore_errors=True)


def _channel(servers: Servers, **overrides) -> Channel:
    config = {
        "address": SUPPORT,
        "from_name": "Support",
        "imap_host": "127.0.0.1",
        "imap_port": servers.dovecot.port,
        "imap_security": "none",
        "smtp_host": "127.0.0.1",
        "smtp_port": servers.smtp.port,
        "smtp_security": "none",
        "timeout_seconds": 20,
        **overrides.pop("config", {}),
    }
    secrets = {"imap_password": IMAP_PASSWORD, "smtp_password": SMTP_PASSWORD, **overrides.pop("secrets", {})}
    ws = make_workspace()
    with transaction.atomic():
        return services.channel_create(
            actor=SYSTEM, workspace=ws, kind="email", name="Support mailbox", config=config, secrets=secrets
        )


def _fetch(channel: Channel) -> imap.FetchReport:
    return imap.fetch_new(Channel.objects.get(pk=channel.pk))


def _reply(conv: Conversation, text: str) -> Message:
    with transaction.atomic():
        return message_send(actor=SYSTEM, conversation=conv, text=text, author_id="mem_agent")


def _sent(servers: Servers, index: int = -1) -> email.message.EmailMessage:
    return email.message_from_bytes(servers.smtp.envelopes[index].original_content, policy=policy.default)


def test_mail_in_reply_out_threaded_reply_back_and_automatic_mail_never_answered(servers):
    channel = _channel(servers)

    # 1. windows-1251 mail with an attachment and a Cc creates a conversation
    servers.customer_sends(mails.cp1251_with_attachment())
    call_command("email_fetch", "--once")
    conv = Conversation.objects.get(channel="email", channel_ref=channel.public_id)
    first = conv.messages.get()
    assert first.text == "Здравствуйте! Заказ 42 не пришёл.\nСчёт во вложении."
    assert conv.subject == "Где мой заказ?"
    assert [(a.filename, a.content_type, a.size) for a in first.attachments.all()] == [
        ("счёт.pdf", "application/pdf", len(mails.PDF))
    ]
    thread = EmailThread.objects.get(channel=channel)
    assert (conv.thread_key, thread.address, thread.cc) == (
        thread.token,
        "ivan@customer.test",
        ["boss@customer.test"],
    )
    shown = conversations.message_details(channel.workspace_id, [first.public_id])[first.public_id]
    assert ("Cc", "boss@customer.test") in shown
    assert ("From", "ivan@customer.test") in shown

    # 2. the agent's reply goes out by SMTP, threaded
    reply = _reply(conv, "Ваш заказ в пути, трек-номер RR123.")
    reply.refresh_from_db()
    assert reply.state == "sent", reply.last_error
    assert len(servers.smtp.envelopes) == 2  # the customer's relay + our reply
    out = _sent(servers)
    our_id = f"<{reply.public_id}.{thread.token}@example.test>"
    assert out["Message-ID"] == our_id == reply.provider_id
    assert out["In-Reply-To"] == "<c1@customer.test>"
    assert out["References"] == "<c1@customer.test>"
    assert out["To"] == "ivan@customer.test"
    assert out["Cc"] == "boss@customer.test"
    assert out["Reply-To"] == f"support+{thread.token}@example.test"
    assert out["Subject"] == "Re: Где мой заказ?"
    assert out.get_content().strip() == "Ваш заказ в пути, трек-номер RR123."
    assert sorted(servers.smtp.envelopes[-1].rcpt_tos) == ["boss@customer.test", "ivan@customer.test"]
    assert servers.smtp.logins[-1] == ("PLAIN", SUPPORT) or servers.smtp.logins[-1][1] == SUPPORT

    # 3. the customer's answer (koi8-r, quoting ours) lands in the same conversation without the quote
    answer = mails.reply(
        to=f"support+{thread.token}@example.test",
        in_reply_to=our_id,
        references=f"<c1@customer.test> {our_id}",
        body=(
            "Спасибо, получил.\n\n-- \nИван\n\n"
            "22.11.2026 10:05, Support пишет:\n> Ваш заказ в пути, трек-номер RR123.\n"
        ),
    )
    servers.customer_sends(answer, to=f"support+{thread.token}@example.test")
    assert _fetch(channel).dispositions == {"received": 1}
    conv.refresh_from_db()
    texts = list(conv.messages.order_by("pk").values_list("direction", "text"))
    assert texts == [
        ("inbound", "Здравствуйте! Заказ 42 не пришёл.\nСчёт во вложении."),
        ("outbound", "Ваш заказ в пути, трек-номер RR123."),
        ("inbound", "Спасибо, получил."),
    ]
    assert Conversation.objects.filter(channel="email").count() == 1

    # 4. an out-of-office answer and a bounce are recorded on the thread and never answered
    ooo = mails.reply(
        to=SUPPORT,
        in_reply_to=our_id,
        references=our_id,
        body="Я в отпуске до 1 декабря.",
        subject="Автоответ: Re: Где мой заказ?",
        message_id="<ooo1@customer.test>",
        extra={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )
    servers.customer_sends(ooo)
    servers.customer_sends(mails.bounce(original_id=our_id), sender="")
    report = _fetch(channel)
    assert report.dispositions == {"auto_reply": 1, "bounce": 1}
    assert conv.messages.count() == 3
    assert Message.objects.filter(direction="outbound").count() == 1
    assert len(servers.smtp.envelopes) == 5  # 4 relayed in, 1 reply out: nothing answered the automatic mail
    auto = EmailRecord.objects.filter(channel=channel, disposition__in=["auto_reply", "bounce"]).order_by(
        "id"
    )
    assert [(r.disposition, r.thread_id, r.reason) for r in auto] == [
        ("auto_reply", thread.pk, "Auto-Submitted: auto-replied"),
        ("bounce", None, "Content-Type: multipart/report; report-type=delivery-status"),
    ]

    # 5. nothing is read twice
    assert _fetch(channel).seen == 0
    cursor = ImapCursor.objects.get(channel=channel)
    assert (cursor.last_uid, cursor.uidvalidity > 0) == (4, True)


def test_bad_mail_is_quarantined_with_its_reason_and_the_next_good_mail_arrives(servers):
    channel = _channel(servers)
    servers.dovecot.deliver(SUPPORT, mails.malformed())
    servers.dovecot.deliver(SUPPORT, mails.huge_attachment(30))
    servers.dovecot.deliver(SUPPORT, mails.many_recipients(5000))
    servers.dovecot.deliver(SUPPORT, mails.plain())
    report = _fetch(channel)
    assert report.seen == 4
    assert report.dispositions == {"quarantined": 3, "received": 1}
    rows = {r.reason: r for r in QuarantinedInput.objects.filter(channel=channel)}
    assert sorted(rows) == ["malformed_mime", "message_too_large", "too_many_recipients"]
    assert rows["message_too_large"].detail.endswith("bytes; the limit is 26214400")
    assert rows["message_too_large"].size < 64 * 1024  # only the headers were downloaded
    assert rows["too_many_recipients"].detail == "5001 recipients; the limit is 100"
    assert "StartBoundaryNotFoundDefect" in rows["malformed_mime"].detail
    assert Conversation.objects.filter(channel_ref=channel.public_id).count() == 1
    assert Message.objects.get().text == "Hello, a question."
    channel.refresh_from_db()
    assert channel.last_error.split(":")[0] in rows


def test_xoauth2_with_a_refresh_token_for_imap_and_smtp(servers):
    channel = _channel(
        servers,
        config={
            "imap_auth": "xoauth2",
            "smtp_auth": "xoauth2",
            "oauth_token_url": f"{servers.oauth.url}/token",
            "oauth_client_id": "carekit",
        },
        secrets={"imap_password": "", "smtp_password": "", "oauth_refresh_token": REFRESH},
    )
    servers.dovecot.deliver(SUPPORT, mails.plain())
    assert _fetch(channel).dispositions == {"received": 1}
    conv = Conversation.objects.get()
    reply = _reply(conv, "Answer over OAuth2.")
    reply.refresh_from_db()
    assert reply.state == "sent", reply.last_error
    assert servers.smtp.logins == [("XOAUTH2", SUPPORT)]
    assert servers.oauth.token_requests == 1  # cached for IMAP and SMTP
    assert servers.oauth.introspections == 1  # dovecot checked the bearer token


def test_a_wrong_refresh_token_fails_the_fetch_and_nothing_is_read(servers):
    channel = _channel(
        servers,
        config={
            "imap_auth": "xoauth2",
            "oauth_token_url": f"{servers.oauth.url}/token",
            "oauth_client_id": "c",
        },
        secrets={"oauth_refresh_token": "stolen"},
    )
    servers.dovecot.deliver(SUPPORT, mails.plain())
    with pytest.raises(oauth.OAuthError):
        _fetch(channel)
    assert Message.objects.count() == 0
    assert ImapCursor.objects.filter(channel=channel).count() == 0


@pytest.mark.parametrize(
    "config",
    [
        # an hour between polls: only IDLE can bring the mail in within the wait below
        {"poll_seconds": 3600},
        # a server without IDLE (or IDLE turned off) is polled
        {"poll_seconds": 5, "imap_idle": False},
    ],
    ids=["idle", "polling"],
)
def test_watcher_picks_up_new_mail_by_idle_or_by_polling(servers, config):
    channel = _channel(servers, config=config)
    stop = threading.Event()
    reports: list[imap.FetchReport] = []
    watcher = threading.Thread(
        target=imap.watch, args=(channel.pk, stop), kwargs={"on_report": reports.append}
    )
    watcher.start()
    try:
        _wait(lambda: len(reports) >= 1)  # the first pass found the empty mailbox and went into IDLE
        servers.dovecot.deliver(SUPPORT, mails.plain())
        _wait(lambda: Message.objects.count() == 1)
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert not watcher.is_alive()
    assert [r.seen for r in reports][:2] == [0, 1]
    assert Message.objects.get().text == "Hello, a question."


def _wait(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
