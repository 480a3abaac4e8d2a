"""Recording a phone call (a service: runs inside the caller's transaction).

Inbound calls go through `conversations.public.receive_message` as the customer's message in the
thread of their number (idempotent by the telephony system's call id); outbound calls are logged as a
note in that thread's latest conversation. A missed inbound call (or voicemail) opens a callback task due
`callback_sla_minutes` after the call; an answered outbound call to the customer completes their open
callback tasks. The event carries ids and facts, never the number or the recording address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.channels.adapters.phone import DEFAULT_CALLBACK_MINUTES
from carekit.channels.models import Channel
from carekit.conversations import public as conversations
from carekit.core.errors import DomainError
from carekit.core.events import Actor, emit
from carekit.customers import public as customers

KIND = "phone"
SOURCE = "channels.phone"
DIRECTIONS = ("inbound", "outbound")
OUTCOMES = ("answered", "missed", "voicemail", "busy", "failed")
UNANSWERED = ("missed", "voicemail")


@dataclass(frozen=True)
class CallIn:
    direction: str
    number: str  # the customer's number: the caller of an inbound call, the callee of an outbound one
    outcome: str
    duration_seconds: int = 0
    call_id: str = ""  # the telephony system's id: repeats are recognised
    recording_url: str = ""
    note: str = ""
    customer_id: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class CallLogged:
    conversation_id: str
    message_id: str
    task_id: str
    tasks_completed: tuple[str, ...]
    duplicate: bool


def normalize_number(number: str) -> str:
    digits = re.sub(r"[^\d]", "", number or "")
    if not 5 <= len(digits) <= 15:
        raise DomainError(_("The phone number is not valid."), field="number", code="bad_number")
    return ("+" if number.strip().startswith("+") else "") + digits


def _duration(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def summary(call: CallIn, number: str) -> str:
    labels = {
        ("inbound", "answered"): _("Incoming call from %(number)s, answered, %(duration)s."),
        ("inbound", "missed"): _("Missed call from %(number)s."),
        ("inbound", "voicemail"): _("Incoming call from %(number)s went to voicemail (%(duration)s)."),
        ("inbound", "busy"): _("Incoming call from %(number)s: the line was busy."),
        ("inbound", "failed"): _("Incoming call from %(number)s failed."),
        ("outbound", "answered"): _("Outgoing call to %(number)s, answered, %(duration)s."),
        ("outbound", "missed"): _("Outgoing call to %(number)s: no answer."),
        ("outbound", "voicemail"): _("Outgoing call to %(number)s: left a voicemail (%(duration)s)."),
        ("outbound", "busy"): _("Outgoing call to %(number)s: the line was busy."),
        ("outbound", "failed"): _("Outgoing call to %(number)s failed."),
    }
    text = labels[(call.direction, call.outcome)] % {
        "number": number,
        "duration": _duration(call.duration_seconds),
    }
    if call.recording_url:
        text += "\n" + _("Recording: %(url)s") % {"url": call.recording_url}
    if call.note.strip():
        text += "\n" + call.note.strip()
    return text


def _check(call: CallIn) -> None:
    if call.direction not in DIRECTIONS:
        raise DomainError(_("The direction is inbound or outbound."), field="direction", code="bad_direction")
    if call.outcome not in OUTCOMES:
        raise DomainError(
            _("The outcome is one of: %(list)s.") % {"list": ", ".join(OUTCOMES)},
            field="outcome",
            code="bad_outcome",
        )
    if not 0 <= call.duration_seconds <= 24 * 3600:
        raise DomainError(_("The duration is not valid."), field="duration_seconds", code="bad_duration")
    if call.recording_url and not re.match(r"^https?://", call.recording_url):
        raise DomainError(_("The recording address must be an http(s) URL."), field="recording_url")


def call_record(*, actor: Actor, channel: Channel, call: CallIn, author_id: str = "") -> CallLogged:
    if channel.kind != KIND:
        raise DomainError(_("This is not a phone channel."), field="channel_id", code="wrong_kind")
    _check(call)
    number = normalize_number(call.number)
    at = call.at or timezone.now()
    ws = channel.workspace_id
    conversation_id = message_id = task_id = ""
    completed: tuple[str, ...] = ()
    duplicate = False
    if call.direction == "inbound":
        ref = conversations.receive_message(
            actor=actor,
            workspace_id=ws,
            inbound=conversations.Inbound(
                channel=KIND,
                channel_ref=channel.public_id,
                thread_key=number,
                external_id=f"call:{call.call_id}" if call.call_id else "",
                customer_id=call.customer_id,
                identity_kind="" if call.customer_id else "phone",
                identity_value="" if call.customer_id else number,
                text=summary(call, number),
            ),
            at=at,
        )
        conversation_id, message_id, duplicate = ref.conversation_id, ref.message_id, ref.duplicate
        if call.outcome in UNANSWERED and not duplicate:
            minutes = int(channel.config.get("callback_sla_minutes") or DEFAULT_CALLBACK_MINUTES)
            task_id = conversations.task_create(
                actor=actor,
                workspace_id=ws,
                title=_("Call back %(number)s") % {"number": number},
                kind="callback",
                conversation_id=conversation_id,
                due_at=at + timedelta(minutes=minutes),
                source=SOURCE,
            )
    else:
        customer_id = (
            call.customer_id
            or customers.resolve(actor=actor, workspace_id=ws, kind="phone", value=number).customer_id
        )
        conversation_id = conversations.latest_conversation(
            ws, channel=KIND, channel_ref=channel.public_id, thread_key=number
        )
        if conversation_id:
            conversations.note_add(
                actor=actor,
                workspace_id=ws,
                conversation_id=conversation_id,
                text=summary(call, number),
                author_id=author_id,
            )
        if call.outcome == "answered":
            done = [
                t
                for t in conversations.open_tasks(ws, customer_id=customer_id, kind="callback")
                if conversations.task_done(actor=actor, workspace_id=ws, task_id=t)
            ]
            completed = tuple(done)
    if not duplicate:
        emit(
            workspace_id=ws,
            type="channels.call.logged",
            subject_type="channel",
            subject_id=channel.public_id,
            actor=actor,
            payload={
                "channel_id": channel.public_id,
                "direction": call.direction,
                "outcome": call.outcome,
                "duration_seconds": call.duration_seconds,
                "conversation_id": conversation_id,
                "message_id": message_id,
                "task_id": task_id,
                "tasks_completed": list(completed),
            },
            occurred_at=at,
        )
    return CallLogged(conversation_id, message_id, task_id, completed, duplicate)
