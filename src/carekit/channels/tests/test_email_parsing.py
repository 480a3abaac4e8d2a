"""Reading mail: Russian charsets in bodies and headers, quotes and signatures, HTML, automatic mail,
refusals, and the mailbox settings check."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from carekit.channels.adapters.email.classify import Kind
from carekit.channels.adapters.email.config import validate
from carekit.channels.adapters.email.oauth import xoauth2
from carekit.channels.adapters.email.parse import Refused, parse
from carekit.channels.adapters.email.quotes import strip_quoted
from carekit.channels.tests import email_mail as mails
from carekit.core.errors import DomainError

pytestmark = [pytest.mark.sqlite]
LIMITS = {"max_bytes": 25 * 1024 * 1024, "max_recipients": 100}


def _parse(raw: bytes):
    return parse(raw, **LIMITS)


def test_windows_1251_body_koi8_r_subject_and_an_attachment_named_in_rfc_2231():
    mail = _parse(mails.cp1251_with_attachment())
    assert (mail.subject, mail.from_name, mail.from_address) == (
        "Где мой заказ?",
        "Иван Петров",
        "ivan@customer.test",
    )
    assert mail.text == "Здравствуйте! Заказ 42 не пришёл.\nСчёт во вложении."
    assert [(a.filename, a.content_type, a.content) for a in mail.attachments] == [
        ("счёт.pdf", "application/pdf", mails.PDF)
    ]
    assert (mail.to, mail.cc, mail.message_id, mail.kind) == (
        ("support@example.test",),
        ("boss@customer.test",),
        "<c1@customer.test>",
        Kind.PERSON,
    )


@pytest.mark.parametrize("charset", ["koi8-r", "windows-1251", "utf-8"])
def test_bodies_in_each_russian_charset(charset):
    raw = mails.reply(
        to="support@example.test", in_reply_to="", references="", body="Привет, мир", charset=charset
    )
    assert _parse(raw).text == "Привет, мир"


def test_wrong_or_unknown_charsets_and_raw_8bit_headers_are_read_leniently():
    raw = (
        b"From: =?x-unknown?B?SXZhbg==?= <ivan@customer.test>\r\nTo: support@example.test\r\n"
        + "Subject: Заказ\r\n".encode("cp1251")
        + b"Content-Type: text/plain; charset=x-mac-nonsense\r\n\r\n"
        + "Текст письма".encode("cp1251")
    )
    mail = _parse(raw)
    assert (mail.subject, mail.text) == ("Заказ", "Текст письма")
    assert mail.from_address == "ivan@customer.test"


def test_html_only_mail_becomes_safe_text_and_its_quote_is_stripped():
    msg = EmailMessage()
    msg["From"] = "ann@customer.test"
    msg["To"] = "support@example.test"
    msg.set_content(
        "<div>Thanks, <b>it works</b><script>alert(1)</script></div>"
        "<div>On Sun, 22 Nov 2026 at 10:00, Support &lt;support@example.test&gt; wrote:</div>"
        "<blockquote>old text</blockquote>",
        subtype="html",
    )
    assert _parse(msg.as_bytes()).text == "Thanks, it works"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks!\n\nOn Sun, 22 Nov 2026 at 10:00, Support <s@x> wrote:\n> old", "Thanks!"),
        ("Thanks!\n\nOn Sun, 22 Nov 2026 at 10:00, Support\n<s@x> wrote:\n> old", "Thanks!"),
        ("Thanks!\n-----Original Message-----\nFrom: Support\nold", "Thanks!"),
        ("Спасибо!\n\n22.11.2026 10:05, Поддержка пишет:\n> старое", "Спасибо!"),
        ("Спасибо!\n\nПоддержка писал(а):\n> старое", "Спасибо!"),
        ("Спасибо!\n-----Исходное сообщение-----\nстарое", "Спасибо!"),
        ("Yes.\n> quoted line\nAnd more.", "Yes.\nAnd more."),
        ("Best answer.\n-- \nIvan Petrov\n+7 900 000-00-00", "Best answer."),
        ("Ok\n\nОтправлено с iPhone", "Ok"),
        ("Ok\n\nFrom: Support <s@x>\nSent: Sunday\nTo: Ivan\nSubject: Re\n\nold", "Ok"),
        ("From: my colleague I heard about you.", "From: my colleague I heard about you."),
        ("> only a quote", "> only a quote"),  # nothing else: keep it rather than lose the message
    ],
)
def test_quotes_and_signatures_are_stripped(text, expected):
    assert strip_quoted(text) == expected


@pytest.mark.parametrize(
    ("headers", "kind", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, Kind.AUTO_REPLY, "Auto-Submitted: auto-replied"),
        ({"Auto-Submitted": "no"}, Kind.PERSON, ""),
        ({"X-Autoreply": "yes"}, Kind.AUTO_REPLY, "X-Autoreply"),
        ({"Precedence": "bulk"}, Kind.AUTO_REPLY, "Precedence: bulk"),
        ({"Precedence": "auto_reply"}, Kind.AUTO_REPLY, "Precedence: auto_reply"),
        ({"Return-Path": "<>"}, Kind.BOUNCE, "Return-Path: <>"),
        ({"X-Failed-Recipients": "ivan@customer.test"}, Kind.BOUNCE, "X-Failed-Recipients"),
        ({"Subject": "Автоответ: Re: заказ"}, Kind.AUTO_REPLY, "Subject"),
        ({"Subject": "Out of Office: Re: order"}, Kind.AUTO_REPLY, "Subject"),
        ({}, Kind.PERSON, ""),
    ],
)
def test_automatic_mail_is_recognised(headers, kind, reason):
    msg = EmailMessage()
    msg["From"] = "ivan@customer.test"
    msg["To"] = "support@example.test"
    for k, v in headers.items():
        msg[k] = v
    msg.set_content("text")
    mail = _parse(msg.as_bytes())
    assert (mail.kind, mail.kind_reason) == (kind, reason)


def test_bounces_by_report_and_by_mailer_daemon():
    mail = _parse(mails.bounce(original_id="<o@example.test>"))
    assert mail.kind == Kind.BOUNCE
    plain = mails.plain(sender="MAILER-DAEMON@mx.customer.test")
    assert (_parse(plain).kind, _parse(plain).kind_reason) == (
        Kind.BOUNCE,
        "From: mailer-daemon@mx.customer.test",
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (mails.malformed(), "malformed_mime"),
        (b"\x00\xff garbage without headers", "malformed_mime"),
        (mails.many_recipients(5000), "too_many_recipients"),
        (mails.huge_attachment(30), "message_too_large"),
    ],
)
def test_bad_input_is_refused_with_a_reason(raw, reason):
    with pytest.raises(Refused) as refused:
        _parse(raw)
    assert refused.value.reason == reason


def test_settings_are_checked_and_normalised():
    config, _secrets = validate(
        {"address": "Support <Support@Example.test>", "imap_host": "imap.example.test"}, {}
    )
    assert (config["address"], config["imap_port"], config["imap_security"], config["imap_user"]) == (
        "support@example.test",
        993,
        "ssl",
        "support@example.test",
    )
    for bad in (
        {"address": "nobody"},
        {"address": "a@b.c", "smtp_host": "x", "smtp_port": 70000},
        {"address": "a@b.c", "imap_host": "x", "imap_security": "tls1"},
        {"address": "a@b.c", "imap_host": "x", "imap_auth": "xoauth2"},  # no token, no refresh flow
        {"address": "a@b.c", "oauth_token_url": "ftp://x"},
    ):
        with pytest.raises(DomainError):
            validate(dict(bad), {})


def test_xoauth2_sasl_string():
    assert xoauth2("me@example.test", "tok") == "user=me@example.test\x01auth=Bearer tok\x01\x01"
