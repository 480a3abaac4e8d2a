"""One raw mail in, from IMAP or the inbound webhook: a message in a conversation, a record of an
automatic mail that is never answered, or a quarantine row with the reason.

This is an entry point (called by the IMAP fetcher and the webhook view): it opens the durable
transactions. Refused input is quarantined in a transaction of its own, after the failed one rolled
back, so the channel keeps working and the admin sees why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction

from carekit.channels import services
from carekit.channels.adapters.email import threads
from carekit.channels.adapters.email.classify import Kind
from carekit.channels.adapters.email.config import Mailbox, mailbox
from carekit.channels.adapters.email.parse import ParsedMail, Refused, parse
from carekit.channels.enums import ChannelKind, EmailDisposition
from carekit.channels.models import Channel
from carekit.conversations import public as conversations
from carekit.core.errors import DomainError
from carekit.core.events import Actor

ACTOR = Actor.system("channels.email")
MAX_TEXT = 20_000  # the inbox's limit; longer mail is cut rather than lost


@dataclass(frozen=True)
class IntakeResult:
    disposition: str
    reason: str = ""
    conversation_id: str = ""
    message_id: str = ""
    quarantine_id: str = ""


def receive_raw(channel: Channel, raw: bytes) -> IntakeResult:
    """Turn one raw RFC 5322 mail into its outcome. Never raises for bad input."""
    box = mailbox(channel.config, channel.secrets)
    try:
        mail = parse(raw, max_bytes=box.max_bytes, max_recipients=box.max_recipients)
    except Refused as refused:
        return _quarantine(channel, refused.reason, refused.detail, raw)
    external_id = mail.message_id or f"sha256:{hashlib.sha256(raw).hexdigest()}"
    try:
        with transaction.atomic(durable=True):
            return _accept(channel, box, mail, external_id)
    except DomainError as exc:
        return _quarantine(channel, exc.code, exc.message, raw)


def _quarantine(channel: Channel, reason: str, detail: str, raw: bytes) -> IntakeResult:
    with transaction.atomic(durable=True):
        row = services.quarantine(channel=channel, reason=reason, detail=detail, raw=raw)
    return IntakeResult(EmailDisposition.QUARANTINED, reason=reason, quarantine_id=row.public_id)


def _accept(channel: Channel, box: Mailbox, mail: ParsedMail, external_id: str) -> IntakeResult:
    services.note_inbound(channel)
    if threads.seen_before(channel, external_id):
        return IntakeResult(EmailDisposition.DUPLICATE)
    if mail.from_address == box.address:
        threads.record_inbound(channel, mail, disposition=EmailDisposition.OWN, message_id=external_id)
        return IntakeResult(EmailDisposition.OWN, reason="from this mailbox")
    if mail.kind != Kind.PERSON:
        # Recorded on its thread (if any) for the agent to see, but never handed to the inbox, whose
        # bots and automations would answer it.
        disposition = EmailDisposition.BOUNCE if mail.kind == Kind.BOUNCE else EmailDisposition.AUTO_REPLY
        thread = threads.find_thread(channel, box, mail)
        threads.record_inbound(
            channel,
            mail,
            disposition=disposition,
            thread=thread,
            reason=mail.kind_reason,
            message_id=external_id,
        )
        return IntakeResult(disposition, reason=mail.kind_reason)
    thread = threads.thread_for(channel, box, mail)
    # A mail with only a subject (or only an attachment) still says something
    text = (mail.text or ("" if mail.attachments else mail.subject))[:MAX_TEXT]
    files = tuple(
        conversations.NewAttachment(a.filename, a.content_type, a.content) for a in mail.attachments
    )

    def inbound(text: str, files: tuple[conversations.NewAttachment, ...]) -> conversations.Inbound:
        return conversations.Inbound(
            channel=ChannelKind.EMAIL,
            channel_ref=channel.public_id,
            thread_key=thread.token,
            external_id=external_id[:200],
            identity_kind="email",
            identity_value=mail.from_address,
            text=text,
            subject=thread.subject,
            attachments=files,
        )

    try:
        with transaction.atomic():
            ref = conversations.receive_message(
                actor=ACTOR, workspace_id=channel.workspace_id, inbound=inbound(text, files)
            )
    except DomainError as exc:
        if not exc.code.startswith("attachment_") or not files:
            raise
        # The customer's words still arrive; the refused files are quarantined with the reason.
        services.quarantine(
            channel=channel,
            reason=exc.code,
            detail=f"{exc.message} ({', '.join(f.filename for f in files)})",
            raw=mail.full_text,
        )
        note = "[" + ", ".join(f.filename for f in files) + f": {exc.message}]"
        ref = conversations.receive_message(
            actor=ACTOR, workspace_id=channel.workspace_id, inbound=inbound(f"{text}\n\n{note}".strip(), ())
        )
    threads.record_inbound(
        channel,
        mail,
        disposition=EmailDisposition.DUPLICATE if ref.duplicate else EmailDisposition.RECEIVED,
        thread=thread,
        conversation_id=ref.conversation_id,
        carekit_message_id=ref.message_id,
        message_id=external_id,
    )
    return IntakeResult(
        EmailDisposition.DUPLICATE if ref.duplicate else EmailDisposition.RECEIVED,
        conversation_id=ref.conversation_id,
        message_id=ref.message_id,
    )


def refuse(channel: Channel, reason: str, detail: str, raw: bytes) -> IntakeResult:
    """Quarantine a mail the fetcher will not even download (e.g. over the size limit)."""
    return _quarantine(channel, reason, detail, raw)
