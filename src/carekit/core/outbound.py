"""The outbound sender registry (ARCHITECTURE.md rule 10).

Channel adapters register a sender per channel kind; conversations, customers (one-time codes) and
scenarios send through `send()` without importing channels. Core registers a plain email sender so
that password resets work before any channel exists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

logger = logging.getLogger(__name__)


class MessageClass(StrEnum):
    REPLY = "reply"  # answers a customer's message; never held by quiet hours
    SERVICE = "service"  # about the customer's order, case or account
    MARKETING = "marketing"


@dataclass(frozen=True)
class OutboundMessage:
    workspace_id: int | None
    channel: str
    to: str
    body: str
    message_class: MessageClass
    subject: str = ""
    idempotency_key: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # Channel-neutral extras a sender may render: {"quick_replies": [{"title": str, "payload": str}]}.
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_id: str = ""
    error: str = ""
    retryable: bool = False
    retry_after: int = 0  # seconds the provider asked us to wait (e.g. Telegram's 429)


class OutboundSender(Protocol):
    channel: str

    def send(self, message: OutboundMessage) -> SendResult: ...


class UnknownChannel(LookupError):
    pass


_SENDERS: dict[str, OutboundSender] = {}


def register_sender(sender: OutboundSender, *, replace: bool = False) -> None:
    if sender.channel in _SENDERS and not replace:
        raise ValueError(f"a sender for channel {sender.channel!r} is already registered")
    _SENDERS[sender.channel] = sender


def get_sender(channel: str) -> OutboundSender:
    try:
        return _SENDERS[channel]
    except KeyError:
        raise UnknownChannel(channel) from None


def registered_channels() -> list[str]:
    return sorted(_SENDERS)


def typing(*, workspace_id: int, channel: str, channel_ref: str, customer_id: str) -> bool:
    """Tell the customer an agent is typing, where the channel's sender can (a sender may define
    `typing(workspace_id, channel_ref, customer_id)`); best effort, nothing is stored. False when the
    channel has no such capability."""
    sender = _SENDERS.get(channel)
    notify = getattr(sender, "typing", None)
    if notify is None:
        return False
    notify(workspace_id, channel_ref, customer_id)
    return True


def send(message: OutboundMessage) -> SendResult:
    """Send through the registered sender. Call after commit (from a job or an on_commit hook)."""
    return get_sender(message.channel).send(message)


class PlainEmailSender:
    """Email through Django's mail backends: SMTP in production, .eml files under var/mail embedded."""

    channel = "email"

    def _connection(self):
        if settings.EMAIL_TRANSPORT == "smtp":
            return get_connection("django.core.mail.backends.smtp.EmailBackend", timeout=10)
        settings.EMAIL_FILE_PATH.mkdir(parents=True, exist_ok=True)
        return get_connection(
            "django.core.mail.backends.filebased.EmailBackend", file_path=settings.EMAIL_FILE_PATH
        )

    def send(self, message: OutboundMessage) -> SendResult:
        mail = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers=message.headers,
            connection=self._connection(),
        )
        try:
            mail.send()
        except OSError as exc:  # SMTP and socket errors: the caller may retry
            return SendResult(ok=False, error=str(exc), retryable=True)
        return SendResult(ok=True, provider_id=mail.extra_headers.get("Message-ID", ""))


def register_default_senders() -> None:
    if "email" not in _SENDERS:
        register_sender(PlainEmailSender())
