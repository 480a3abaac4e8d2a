"""Outbound email through the channel's own SMTP server, threaded into the customer's mail client.

Registered in core's sender registry for kind "email" in place of core's plain sender, which stays the
fallback for mail that belongs to no mailbox channel (password resets, one-time codes). The
conversation's channel is named by the `X-Carekit-Channel` header (its channel_ref) and the thread by
`to` (the conversation's thread key, our reply token).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from django.db import transaction

from carekit.channels import services
from carekit.channels.adapters.email import oauth, threads
from carekit.channels.adapters.email.config import Mailbox, Server, mailbox
from carekit.channels.enums import ChannelKind
from carekit.channels.models import Channel, EmailThread
from carekit.core import outbound

logger = logging.getLogger(__name__)
CHANNEL_HEADER = "X-Carekit-Channel"


def connect(server: Server, timeout: float) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if server.security == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    else:
        conn = smtplib.SMTP(server.host, server.port, timeout=timeout)
        if server.security == "starttls":
            conn.starttls(context=context)
    return conn


def login(conn: smtplib.SMTP, server: Server, channel: Channel) -> None:
    if server.auth == "xoauth2":
        token = oauth.provider_for(channel.config, channel.secrets).token()
        conn.ehlo_or_helo_if_needed()
        conn.auth(
            "XOAUTH2", lambda challenge=None: oauth.xoauth2(server.user, token), initial_response_ok=True
        )
    elif server.password:
        conn.login(server.user, server.password)


def _subject(box: Mailbox, thread: EmailThread, subject: str, replying: bool) -> str:
    subject = subject or thread.subject
    if replying and not subject.lower().startswith(("re:", "на:")):
        subject = f"Re: {subject}" if subject else "Re:"
    if not box.plus_addressing:
        subject = f"{subject} [#{thread.token}]".strip()
    return subject


def compose(
    box: Mailbox, thread: EmailThread, message: outbound.OutboundMessage
) -> tuple[EmailMessage, str, list[str]]:
    message_id = threads.message_id_for(box, message.idempotency_key, thread.token)
    in_reply_to, references = threads.thread_references(thread)
    mail = EmailMessage()
    mail["From"] = formataddr((box.from_name, box.address)) if box.from_name else box.address
    mail["To"] = thread.address
    if thread.cc:
        mail["Cc"] = ", ".join(thread.cc)
    mail["Reply-To"] = threads.reply_address(box, thread.token)
    mail["Subject"] = _subject(box, thread, message.subject, bool(in_reply_to))
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = " ".join(references)
    for name in ("X-Carekit-Conversation",):
        if message.headers.get(name):
            mail[name] = message.headers[name]
    mail.set_content(message.body)
    return mail, in_reply_to, references


class ChannelEmailSender:
    channel = ChannelKind.EMAIL.value

    def __init__(self, fallback: outbound.OutboundSender) -> None:
        self.fallback = fallback

    def send(self, message: outbound.OutboundMessage) -> outbound.SendResult:
        ref = message.headers.get(CHANNEL_HEADER, "")
        if not ref or message.workspace_id is None:
            return self.fallback.send(message)
        channel = Channel.objects.filter(
            public_id=ref, kind=ChannelKind.EMAIL, workspace_id=message.workspace_id
        ).first()
        if channel is None or not channel.is_active:
            return outbound.SendResult(ok=False, error=f"mailbox channel {ref} is missing or inactive")
        box = mailbox(channel.config, channel.secrets)
        thread = EmailThread.objects.filter(channel=channel, token=message.to).first()
        if box.smtp is None or thread is None:
            return outbound.SendResult(ok=False, error="no SMTP server configured or unknown email thread")
        mail, in_reply_to, references = compose(box, thread, message)
        recipients = [thread.address, *thread.cc]
        try:
            with connect(box.smtp, box.timeout) as conn:
                login(conn, box.smtp, channel)
                conn.send_message(mail, from_addr=box.address, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            return self._failed(channel, f"recipients refused: {exc.recipients}", retryable=False)
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            # 5xx is permanent (RFC 5321 §4.2.1) except for authentication, which a refreshed token may fix
            permanent = exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError)
            return self._failed(channel, f"SMTP {exc.smtp_code}: {text}", retryable=not permanent)
        except (smtplib.SMTPException, OSError, oauth.OAuthError) as exc:
            return self._failed(channel, f"{type(exc).__name__}: {exc}", retryable=True)
        with transaction.atomic():
            threads.record_outbound(
                channel,
                thread,
                message_id=mail["Message-ID"],
                in_reply_to=in_reply_to,
                references=references,
                to=[thread.address],
                cc=thread.cc,
                subject=str(mail["Subject"]),
                carekit_message_id=message.idempotency_key,
                conversation_id=message.headers.get("X-Carekit-Conversation", ""),
            )
            services.note_outbound(channel)
        return outbound.SendResult(ok=True, provider_id=str(mail["Message-ID"]))

    def _failed(self, channel: Channel, error: str, *, retryable: bool) -> outbound.SendResult:
        logger.warning("email channel %s: %s", channel.public_id, error)
        services.note_error(channel, error)
        return outbound.SendResult(ok=False, error=error, retryable=retryable)


def register() -> None:
    outbound.register_sender(ChannelEmailSender(outbound.PlainEmailSender()), replace=True)
