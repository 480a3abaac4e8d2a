"""Is a mail from a person, or an automatic answer or a bounce? Automatic mail is recorded and never
answered: replying to an out-of-office or a bounce is how mail loops start."""

from __future__ import annotations

import re
from email.message import Message
from enum import StrEnum

from carekit.channels.adapters.email.headers import decode_words


class Kind(StrEnum):
    PERSON = "person"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"


_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)@", re.I)
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?reply|auto:|out of (the )?office|autoresponse|"
    r"автоответ|автоматический ответ|нет на месте|вне офиса)",
    re.I,
)


def classify(msg: Message, from_address: str) -> tuple[Kind, str]:
    """(kind, the header that decided it)."""
    ctype = msg.get_content_type()
    if ctype == "multipart/report":
        return Kind.BOUNCE, f"Content-Type: {ctype}; report-type={msg.get_param('report-type') or ''}"
    if _BOUNCE_SENDERS.match(from_address):
        return Kind.BOUNCE, f"From: {from_address}"
    if msg.get("X-Failed-Recipients"):
        return Kind.BOUNCE, "X-Failed-Recipients"
    return_path = msg.get("Return-Path")
    if return_path is not None and str(return_path).strip() in ("<>", ""):
        return Kind.BOUNCE, "Return-Path: <>"
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return Kind.AUTO_REPLY, f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if msg.get(name) is not None:
            return Kind.AUTO_REPLY, name
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "auto_reply", "junk", "list"):
        return Kind.AUTO_REPLY, f"Precedence: {precedence}"
    if str(msg.get("X-Auto-Response-Suppress", "")).strip().lower() in ("all", "oof"):
        return Kind.AUTO_REPLY, "X-Auto-Response-Suppress"
    subject = str(msg.get("Subject", ""))
    if _AUTO_SUBJECT.search(decode_words(subject)):
        return Kind.AUTO_REPLY, "Subject"
    return Kind.PERSON, ""
