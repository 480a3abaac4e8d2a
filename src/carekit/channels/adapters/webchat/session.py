"""What a widget visitor can do, shared by both transports (the websocket and the HTTP fallback).

These functions are the widget's entry points: each opens the durable transaction (ADR 0001) and calls
the conversations and customers public modules. A visitor is an anonymous id kept in a cookie on the
host site; they become a known customer only through the host site's signed token or a verified claim
(a one-time code). Until then the session's customer is the visitor's own empty profile, so nothing of
any other customer (history, orders, what a bot could answer about them) is reachable from it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.channels import selectors, services
from carekit.channels.adapters.webchat import ratelimit, tokens
from carekit.channels.enums import ChannelKind
from carekit.channels.models import Channel
from carekit.conversations import public as conversations
from carekit.core.errors import DomainError
from carekit.core.events import Actor
from carekit.customers import public as customers

KIND = ChannelKind.WEBCHAT.value
VISITOR_RE = re.compile(r"^v_[A-Za-z0-9_-]{16,40}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
DEFAULT_PER_VISITOR = 20  # messages per minute
DEFAULT_PER_IP = 120
HISTORY = 200
ACTOR = Actor.system("channels.webchat")


class WidgetError(DomainError):
    """A refusal the widget shows to the visitor; `code` is machine-readable."""

    def __init__(self, message: str, *, code: str, status: int = 400, retry_after: int = 0) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.retry_after = retry_after


@dataclass
class Session:
    channel: Channel
    visitor: str
    ip: str = ""
    customer_id: str | None = None  # None until an anonymous visitor first writes
    identified: bool = False  # a valid host token, or a verified claim
    name: str = ""
    language: str = ""
    claim_id: str = ""
    notice: str = ""  # why a presented token was refused
    token_identity: tuple[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def workspace_id(self) -> int:
        return self.channel.workspace_id


def new_visitor_id() -> str:
    return "v_" + secrets.token_urlsafe(18)


def channel_for(public_key: str) -> Channel:
    channel = selectors.channel_by_public_key(public_key)
    if channel is None or channel.kind != KIND:
        raise WidgetError(_("This chat is not available."), code="unknown_channel", status=404)
    return channel


def origin_allowed(channel: Channel, origin: str) -> bool:
    """The host sites allowed to embed the widget (`allowed_origins`); none configured allows any."""
    allowed = [o.rstrip("/") for o in channel.config.get("allowed_origins", []) if o]
    return not allowed or origin.rstrip("/") in allowed


def open_session(
    *,
    public_key: str,
    visitor: str = "",
    token: str = "",
    ip: str = "",
    language: str = "",
    at: datetime | None = None,
) -> Session:
    """Identify the visitor. A refused token is quarantined with its reason and the session goes on
    anonymously (the channel keeps working); `session.notice` carries the reason for the widget."""
    channel = channel_for(public_key)
    if not VISITOR_RE.match(visitor or ""):
        visitor = new_visitor_id()
    session = Session(channel=channel, visitor=visitor, ip=ip, language=language[:8])
    if token:
        try:
            asserted = tokens.verify(channel, token, at=at)
        except tokens.TokenRefused as refused:
            session.notice = refused.reason
            with transaction.atomic(durable=True):
                services.quarantine(
                    channel=channel,
                    reason=refused.reason,
                    detail=f"widget token refused for visitor {visitor} from {ip or 'unknown address'}",
                )
        else:
            with transaction.atomic(durable=True):
                try:
                    ref = customers.resolve(
                        actor=ACTOR,
                        workspace_id=channel.workspace_id,
                        kind=asserted.kind,
                        value=asserted.value,
                    )
                except DomainError:
                    ref = None
                if ref is not None:
                    # The host site signed this identity with the channel's secret: it is proven, so
                    # the bot may show this customer's orders (as with a workspace host token).
                    customers.identity_attach_verified(
                        actor=ACTOR,
                        workspace_id=channel.workspace_id,
                        customer_id=ref.customer_id,
                        kind=asserted.kind,
                        value=asserted.value,
                    )
                if ref is not None and asserted.name:
                    customers.visitor_name_set(
                        actor=ACTOR,
                        workspace_id=channel.workspace_id,
                        customer_id=ref.customer_id,
                        name=asserted.name,
                    )
            if ref is None:
                session.notice = "malformed_token"
            else:
                session.customer_id = ref.customer_id
                session.identified = True
                session.token_identity = (asserted.kind, asserted.value)
    if session.customer_id is None:
        session.customer_id = customers.identity_owner(channel.workspace_id, "visitor", visitor)
        if session.customer_id:
            session.identified = customers.has_verified_identity(channel.workspace_id, session.customer_id)
    return session


# --- reads ---------------------------------------------------------------------------------------


def message_dict(m: conversations.MessageView) -> dict[str, Any]:
    return {
        "id": m.message_id,
        "conversation_id": m.conversation_id,
        "direction": m.direction,
        "author": m.author_kind,
        "text": m.text,
        "created_at": m.created_at.isoformat(),
        "attachments": [{"name": n, "size": s} for n, s in m.attachments],
    }


def history(session: Session) -> list[dict[str, Any]]:
    if not session.customer_id:
        return []
    return [
        message_dict(m)
        for m in conversations.customer_messages(
            session.workspace_id,
            channel=KIND,
            channel_ref=session.channel.public_id,
            customer_id=session.customer_id,
            limit=HISTORY,
        )
    ]


def orders(session: Session) -> list[dict[str, Any]]:
    """The customer's orders, only for an identified session (an anonymous profile has none anyway)."""
    if not session.customer_id or not session.identified:
        return []
    view = customers.cabinet_view(session.workspace_id, session.customer_id)
    if view is None:
        return []
    return [
        {
            "number": o.number,
            "status": o.status,
            "status_label": o.status_label,
            "tracking": o.tracking_number,
        }
        for o in view.orders[:10]
    ]


def availability(channel: Channel, *, at: datetime | None = None) -> tuple[bool, datetime | None]:
    """(online now, next opening) by the channel's business calendar; no calendar means always online."""
    calendar_id = channel.config.get("calendar_id", "")
    if not calendar_id:
        return True, None
    at = at or timezone.now()
    opening = conversations.calendar_opening(channel.workspace_id, calendar_id, at=at)
    if opening is None:
        return True, None
    return opening <= at, (None if opening <= at else opening)


def state(session: Session, *, at: datetime | None = None) -> dict[str, Any]:
    """What the widget loads on (re)connect; events then keep it current."""
    online, opens_at = availability(session.channel, at=at)
    limits = conversations.attachment_limits(session.workspace_id)
    return {
        "visitor": session.visitor,
        "identified": session.identified,
        "claim_pending": bool(session.claim_id),
        "notice": session.notice,
        "online": online,
        "opens_at": opens_at.isoformat() if opens_at else None,
        "history": history(session),
        "orders": orders(session),
        "max_upload_bytes": limits.max_bytes,
        "upload_types": list(limits.allowed_types),
    }


# --- writes --------------------------------------------------------------------------------------


def _limits(channel: Channel) -> tuple[int, int]:
    return (
        int(channel.config.get("visitor_messages_per_minute", DEFAULT_PER_VISITOR)),
        int(channel.config.get("ip_messages_per_minute", DEFAULT_PER_IP)),
    )


def check_rate(session: Session, *, now: float | None = None) -> None:
    per_visitor, per_ip = _limits(session.channel)
    verdict = ratelimit.hit(
        channel_pk=session.channel.pk,
        visitor=session.visitor,
        ip=session.ip or "unknown",
        per_visitor=per_visitor,
        per_ip=per_ip,
        now=now,
    )
    if not verdict.allowed:
        raise WidgetError(
            _("Too many messages; please wait %(s)s seconds.") % {"s": verdict.retry_after},
            code="rate_limited",
            status=429,
            retry_after=verdict.retry_after,
        )


def _ensure_customer(session: Session) -> str:
    if not session.customer_id:
        session.customer_id = customers.resolve(
            actor=ACTOR, workspace_id=session.workspace_id, kind="visitor", value=session.visitor
        ).customer_id
    return session.customer_id


def _thread_key(session: Session, customer_id: str) -> str:
    """One thread per visitor; if the browser's thread belongs to another customer (a shared computer,
    another sign-in), this customer gets a thread of their own so no message lands in a stranger's
    conversation."""
    key = session.visitor
    owner = conversations.thread_customer(
        session.workspace_id, channel=KIND, channel_ref=session.channel.public_id, thread_key=key
    )
    return key if owner in (None, customer_id) else f"{key}~{customer_id}"


def send_message(
    session: Session,
    *,
    client_id: str,
    text: str = "",
    attachments: tuple[conversations.NewAttachment, ...] = (),
    subject: str = "",
    now: float | None = None,
) -> tuple[dict[str, Any], bool]:
    """Store the visitor's message once per client id (a resend after a reconnect is a duplicate and is
    acknowledged again). Returns (message, duplicate)."""
    if not CLIENT_ID_RE.match(client_id or ""):
        raise WidgetError(_("The message has no valid client id."), code="bad_client_id")
    check_rate(session, now=now)
    try:
        with transaction.atomic(durable=True):
            customer_id = _ensure_customer(session)
            ref = conversations.receive_message(
                actor=Actor("customer", customer_id),
                workspace_id=session.workspace_id,
                inbound=conversations.Inbound(
                    channel=KIND,
                    channel_ref=session.channel.public_id,
                    thread_key=_thread_key(session, customer_id),
                    external_id=f"{session.visitor}:{client_id}",
                    customer_id=customer_id,
                    text=text,
                    subject=subject,
                    language=session.language,
                    attachments=attachments,
                ),
            )
            view = conversations.message_view(session.workspace_id, ref.message_id)
            assert view is not None
            if not ref.duplicate:
                from carekit.channels.adapters.webchat import push

                push.on_commit(session.channel, customer_id, ref.message_id)
    except WidgetError:
        raise
    except DomainError as err:
        raise WidgetError(
            err.message, code=err.code, status=413 if "too_large" in err.code else 400
        ) from None
    services.note_inbound(session.channel)
    return message_dict(view), ref.duplicate


def send_offline(
    session: Session, *, client_id: str, name: str, contact: str, text: str
) -> tuple[dict[str, Any], bool]:
    """A message left outside business hours; the contact is shown to agents, never linked as an
    identity (typed data proves nothing)."""
    body = text.strip()
    if not body:
        raise WidgetError(_("The message is empty."), code="empty_message")
    lines = [body, "", _("Left outside business hours.")]
    if name.strip() or contact.strip():
        lines.append(
            _("Contact given: %(name)s %(contact)s")
            % {"name": name.strip()[:120], "contact": contact.strip()[:200]}
        )
    return send_message(session, client_id=client_id, text="\n".join(lines), subject=_("Offline message"))


def prechat(session: Session, *, name: str, contact: str) -> None:
    """The pre-chat form: a name is kept on the visitor's own profile; a contact starts a claim (a one-time
    code is sent to it) and reveals nothing until the code is entered."""
    contact = contact.strip()
    if session.identified or (not name.strip() and not contact):
        return
    kind = "email" if "@" in contact else "phone"
    check_rate(session)
    try:
        with transaction.atomic(durable=True):
            if contact:
                claim = customers.visitor_claim_start(
                    actor=ACTOR,
                    workspace_id=session.workspace_id,
                    visitor_kind="visitor",
                    visitor_value=session.visitor,
                    kind=kind,
                    value=contact,
                )
                session.claim_id = claim.claim_id
                session.customer_id = claim.customer_id
            else:
                _ensure_customer(session)
            if name.strip() and session.customer_id:
                customers.visitor_name_set(
                    actor=ACTOR, workspace_id=session.workspace_id, customer_id=session.customer_id, name=name
                )
    except DomainError as err:
        raise WidgetError(err.message, code=err.code) from None
    session.name = name.strip()[:120]


def verify_code(session: Session, *, code: str, claim_id: str = "") -> None:
    """The one-time code of the visitor's pending claim; on success the session becomes that customer."""
    claim_id = claim_id or session.claim_id
    if not claim_id:
        raise WidgetError(_("No code was requested."), code="no_claim")
    with transaction.atomic(durable=True):
        result = customers.visitor_claim_verify(
            actor=ACTOR,
            workspace_id=session.workspace_id,
            visitor_kind="visitor",
            visitor_value=session.visitor,
            claim_id=claim_id,
            code=code,
        )
    if not result.ok:
        raise WidgetError(result.message, code=result.error)
    session.customer_id = result.customer_id
    session.identified = True
    session.claim_id = ""
