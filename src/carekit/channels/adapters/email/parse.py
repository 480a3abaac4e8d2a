"""Raw MIME → `ParsedMail`: addresses, threading headers, the reply text, attachments.

Russian mail still arrives in windows-1251 and koi8-r, in bodies and in RFC 2047 encoded headers;
charsets that Python does not know, or that are wrong, fall back to a lenient decode instead of failing
the whole mail. What cannot be read as a mail at all is refused with a reason (`Refused`), which the
intake turns into a quarantine row.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.errors import MessageDefect
from email.message import Message
from email.utils import getaddresses

from carekit.channels.adapters.email.classify import Kind, classify
from carekit.channels.adapters.email.headers import decode_bytes, decode_words
from carekit.channels.adapters.email.quotes import strip_quoted
from carekit.conversations import public as conversations

MSGID_RE = re.compile(r"<[^<>\s]+>")
# Structural defects after which the parts of a mail cannot be trusted.
FATAL_DEFECTS = (
    "StartBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "CloseBoundaryNotFoundDefect",
)


class Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    from_name: str
    from_address: str
    reply_to: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    delivered_to: tuple[str, ...]
    subject: str
    text: str  # the reply itself: quotes and signature stripped
    full_text: str
    kind: Kind
    kind_reason: str
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc + self.bcc


def _header(msg: Message, name: str) -> str:
    raw = msg.get(name)
    if raw is None:
        return ""
    return " ".join(decode_words(raw).split())


def _addresses(msg: Message, *names: str) -> tuple[str, ...]:
    values = [decode_words(v) for n in names for v in (msg.get_all(n) or [])]
    out: list[str] = []
    for _name, addr in getaddresses(values):
        addr = addr.strip().lower()
        if "@" in addr and addr not in out:
            out.append(addr)
    return tuple(out)


def _ids(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(MSGID_RE.findall(value)))


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, part.get_content_charset())


def _filename(part: Message) -> str:
    name = part.get_filename() or part.get_param("name") or ""
    if isinstance(name, tuple):  # RFC 2231 (charset, language, value)
        name = email.utils.collapse_rfc2231_value(name)
    return decode_words(str(name)).strip()


def _defects(msg: Message) -> list[MessageDefect]:
    found: list[MessageDefect] = []
    for part in msg.walk():
        found.extend(part.defects)
    return found


def _html_text(html: str) -> str:
    # Block ends become line breaks before the sanitizer's text extraction, so quote markers keep their lines.
    html = re.sub(r"(?i)</(div|tr|h[1-6]|blockquote)>", r"<br>", html)
    return conversations.html_to_text(html)


def parse(raw: bytes, *, max_bytes: int, max_recipients: int) -> ParsedMail:
    """The mail, or `Refused` with a reason. The stdlib parser is lenient, but odd input can still trip
    it deeper down; such a mail is refused as malformed rather than failing its mailbox over and over."""
    if len(raw) > max_bytes:
        raise Refused("message_too_large", f"{len(raw)} bytes; the limit is {max_bytes}")
    try:
        return _parse(raw, max_recipients)
    except (LookupError, ValueError, TypeError, AttributeError, IndexError, UnicodeError) as exc:
        raise Refused("malformed_mime", f"{type(exc).__name__}: {exc}") from exc


def _parse(raw: bytes, max_recipients: int) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    fatal = [type(d).__name__ for d in _defects(msg) if type(d).__name__ in FATAL_DEFECTS]
    if fatal:
        raise Refused("malformed_mime", ", ".join(sorted(set(fatal))))
    senders = getaddresses([decode_words(v) for v in (msg.get_all("From") or [])])
    from_name, from_address = next(((n, a) for n, a in senders if "@" in a), ("", ""))
    if not from_address:
        raise Refused("malformed_mime", "no sender address (From)")
    to, cc, bcc = _addresses(msg, "To"), _addresses(msg, "Cc"), _addresses(msg, "Bcc")
    count = len(to) + len(cc) + len(bcc)
    if count > max_recipients:
        raise Refused("too_many_recipients", f"{count} recipients; the limit is {max_recipients}")
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_type() in ("message/rfc822", "message/delivery-status"):
            continue
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        name = _filename(part)
        ctype = part.get_content_type()
        if disposition == "attachment" or (name and disposition != "inline") or not ctype.startswith("text/"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and data:
                attachments.append(Attachment(name or f"attachment-{len(attachments) + 1}", ctype, data))
        elif ctype == "text/plain":
            plain.append(_text_of(part))
        elif ctype == "text/html":
            html.append(_text_of(part))
    full = "\n\n".join(p.strip() for p in plain if p.strip()) or "\n\n".join(
        _html_text(h) for h in html if h.strip()
    )
    full = full.replace("\r\n", "\n").replace("\x00", "")
    kind, reason = classify(msg, from_address.strip().lower())
    return ParsedMail(
        message_id=(_ids(_header(msg, "Message-ID")) or ("",))[0],
        in_reply_to=(_ids(_header(msg, "In-Reply-To")) or ("",))[0],
        references=_ids(_header(msg, "References")),
        from_name=from_name,
        from_address=from_address.strip().lower(),
        reply_to=(_addresses(msg, "Reply-To") or ("",))[0],
        to=to,
        cc=cc,
        bcc=bcc,
        delivered_to=_addresses(msg, "Delivered-To", "X-Original-To", "Envelope-To"),
        subject=_header(msg, "Subject")[:300],
        text=strip_quoted(full),
        full_text=full,
        kind=kind,
        kind_reason=reason,
        attachments=tuple(attachments),
    )
