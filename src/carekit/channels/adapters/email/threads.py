"""Which thread a mail belongs to, and the records of every mail seen or sent (writes, inside the
caller's transaction).

A thread is found, in this order, by the reply token in a recipient address (`support+<token>@`), by
the token in the subject (`[#<token>]`), by our own Message-IDs in In-Reply-To/References (they carry
the token too), and by any Message-ID of the thread we have recorded; otherwise a new thread starts.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence

from carekit.channels.adapters.email.config import Mailbox
from carekit.channels.adapters.email.parse import ParsedMail
from carekit.channels.enums import EmailDirection
from carekit.channels.models import Channel, EmailRecord, EmailThread

ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
TOKEN_LEN = 12
_TOKEN = rf"[a-z2-7]{{{TOKEN_LEN}}}"
SUBJECT_TOKEN_RE = re.compile(rf"\[#({_TOKEN})\]")
OUR_MESSAGE_ID_RE = re.compile(rf"^<[A-Za-z0-9_-]+\.({_TOKEN})@")
MAX_REFERENCES = 20


def new_token() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LEN))


def reply_address(box: Mailbox, token: str) -> str:
    return f"{box.local_part}+{token}@{box.domain}" if box.plus_addressing else box.address


def message_id_for(box: Mailbox, key: str, token: str) -> str:
    """Deterministic per outbound message: a resend after a crash carries the same Message-ID."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "", key) or secrets.token_hex(8)
    return f"<{safe}.{token}@{box.domain}>"


def _tokens_in(box: Mailbox, mail: ParsedMail) -> Iterable[str]:
    prefix, suffix = f"{box.local_part}+", f"@{box.domain}"
    for addr in mail.to + mail.cc + mail.delivered_to:
        if addr.startswith(prefix) and addr.endswith(suffix):
            yield addr[len(prefix) : -len(suffix)]
    yield from SUBJECT_TOKEN_RE.findall(mail.subject)
    for mid in (mail.in_reply_to, *reversed(mail.references)):
        m = OUR_MESSAGE_ID_RE.match(mid)
        if m:
            yield m.group(1)


def find_thread(channel: Channel, box: Mailbox, mail: ParsedMail) -> EmailThread | None:
    tokens = list(dict.fromkeys(_tokens_in(box, mail)))
    if tokens:
        found = {t.token: t for t in EmailThread.objects.filter(channel=channel, token__in=tokens)}
        for token in tokens:
            if token in found:
                return found[token]
    ids = [i for i in (mail.in_reply_to, *mail.references) if i]
    if ids:
        record = (
            EmailRecord.objects.filter(channel=channel, message_id__in=ids, thread__isnull=False)
            .select_related("thread")
            .order_by("-id")
            .first()
        )
        if record is not None:
            return record.thread
    return None


def thread_for(channel: Channel, box: Mailbox, mail: ParsedMail) -> EmailThread:
    """The mail's thread, created when it starts one; replies go to everyone the customer wrote to,
    except this mailbox."""
    reply_to = mail.reply_to or mail.from_address
    others = [a for a in mail.to + mail.cc if a != reply_to and not _is_ours(box, a)]
    thread = find_thread(channel, box, mail)
    if thread is None:
        return EmailThread.objects.create(
            workspace_id=channel.workspace_id,
            channel=channel,
            token=new_token(),
            address=reply_to,
            cc=others,
            subject=SUBJECT_TOKEN_RE.sub("", mail.subject).strip()[:300],
        )
    if thread.cc != others and mail.from_address == thread.address:
        thread.cc = others
        thread.save(update_fields=["cc"])
    return thread


def _is_ours(box: Mailbox, address: str) -> bool:
    local, _at, domain = address.partition("@")
    return domain == box.domain and (local == box.local_part or local.startswith(f"{box.local_part}+"))


def seen_before(channel: Channel, message_id: str) -> bool:
    return EmailRecord.objects.filter(
        channel=channel, message_id=message_id, direction=EmailDirection.INBOUND
    ).exists()


def record_inbound(
    channel: Channel,
    mail: ParsedMail,
    *,
    disposition: str,
    thread: EmailThread | None = None,
    reason: str = "",
    conversation_id: str = "",
    carekit_message_id: str = "",
    message_id: str = "",
) -> EmailRecord:
    return EmailRecord.objects.create(
        workspace_id=channel.workspace_id,
        channel=channel,
        thread=thread,
        direction=EmailDirection.INBOUND,
        disposition=disposition,
        message_id=(message_id or mail.message_id)[:300],
        in_reply_to=mail.in_reply_to[:300],
        references=list(mail.references[-MAX_REFERENCES:]),
        from_address=mail.from_address[:320],
        to=list(mail.to),
        cc=list(mail.cc),
        bcc=list(mail.bcc),
        subject=mail.subject[:300],
        reason=reason[:200],
        conversation_id=conversation_id,
        carekit_message_id=carekit_message_id,
    )


def thread_references(thread: EmailThread) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for the next mail of the thread: the latest mail answers, the chain
    keeps the first and the most recent ids (RFC 5322 §3.6.4 allows trimming the middle)."""
    rows = list(EmailRecord.objects.filter(thread=thread, message_id__startswith="<").order_by("id"))
    # The first mail's own References come first: the customer's thread may be older than ours.
    earlier = rows[0].references if rows else []
    ids = list(dict.fromkeys([*earlier, *(r.message_id for r in rows)]))
    if not ids:
        return "", []
    chain = ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return ids[-1], chain


def record_outbound(
    channel: Channel,
    thread: EmailThread,
    *,
    message_id: str,
    in_reply_to: str,
    references: Sequence[str],
    to: Sequence[str],
    cc: Sequence[str],
    subject: str,
    carekit_message_id: str,
    conversation_id: str,
) -> None:
    EmailRecord.objects.update_or_create(
        channel=channel,
        direction=EmailDirection.OUTBOUND,
        message_id=message_id,
        defaults={
            "workspace_id": channel.workspace_id,
            "thread": thread,
            "disposition": "sent",
            "in_reply_to": in_reply_to,
            "references": list(references),
            "from_address": "",
            "to": list(to),
            "cc": list(cc),
            "subject": subject[:300],
            "carekit_message_id": carekit_message_id,
            "conversation_id": conversation_id,
        },
    )
