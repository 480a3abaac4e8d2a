"""What the bot does through other contexts: order status, returns, exchanges, bookings, size advice.

Each action returns the reply (text and quick replies) and leaves writes to the callers' services,
inside the handler's transaction. Order data is read only for a verified customer (`dialogues.py`
checks before calling); an order number never widens the search beyond the customer's own orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from carekit.bot.enums import SlotStatus
from carekit.bot.models import BotSettings, ConsultationSlot, Dialogue
from carekit.core.events import Actor, emit
from carekit.customers import public as customers

EXCHANGE_ACCEPTED = "bot.exchange.accepted"  # scenarios wait for it (scenarios/library.py)
EXCHANGE_WINDOW = timedelta(hours=48)
SLOTS_OFFERED = 3

# Used when a workspace has no size chart of its own: women's clothing, RU sizes.
DEFAULT_SIZE_CHART: list[dict] = [
    {"size": "42 (XS)", "height": [150, 170], "weight": [40, 50]},
    {"size": "44 (S)", "height": [155, 175], "weight": [50, 58]},
    {"size": "46 (M)", "height": [160, 180], "weight": [58, 66]},
    {"size": "48 (L)", "height": [163, 185], "weight": [66, 75]},
    {"size": "50 (XL)", "height": [165, 190], "weight": [75, 85]},
    {"size": "52 (XXL)", "height": [165, 195], "weight": [85, 100]},
]


@dataclass(frozen=True)
class QuickReply:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    quick: tuple[QuickReply, ...] = ()
    data: dict = field(default_factory=dict)

    def message_data(self) -> dict:
        out = dict(self.data)
        if self.quick:
            out["quick_replies"] = [{"title": q.title, "payload": q.payload} for q in self.quick]
        return out


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "SHORT_DATE_FORMAT")


def order_status(workspace_id: int, customer_id: str, number: str) -> Reply:
    view = customers.cabinet_view(workspace_id, customer_id)
    orders = list(view.orders) if view else []
    if number:
        orders = [o for o in orders if o.number == number]
        if not orders:
            # The same answer whether the number exists for someone else or not at all.
            return Reply(
                _("I cannot find order %(n)s in your account. Please check the number.") % {"n": number}
            )
    if not orders:
        return Reply(_("I cannot find any orders in your account."))
    o = orders[0]
    parts = [_("Order %(n)s: %(status)s.") % {"n": o.number, "status": o.status_label}]
    if o.status == "delivered" and o.delivered_at:
        parts.append(_("Delivered on %(d)s.") % {"d": _when(o.delivered_at)})
    elif o.promised_at:
        parts.append(_("Expected on %(d)s.") % {"d": _when(o.promised_at)})
    if o.tracking_number:
        parts.append(_("Tracking: %(carrier)s %(t)s.") % {"carrier": o.carrier or "", "t": o.tracking_number})
    return Reply(" ".join(p.replace("  ", " ") for p in parts))


def return_start(actor: Actor, d: Dialogue, number: str, words: tuple[str, ...]) -> Reply:
    started = customers.return_start(
        actor=actor,
        workspace_id=d.workspace_id,
        customer_id=d.customer_id,
        order_number=number,
        item_words=words,
    )
    if started is None:
        return Reply(
            _("I could not find that item in your orders. Which order is it? Send its number, please.")
        )
    d.collected["return_id"] = started.return_id
    d.collected["order_number"] = started.order_number
    return Reply(
        _(
            "I have started the return of “%(item)s” from order %(n)s (return %(r)s). "
            "We will send the return label and instructions in a service message."
        )
        % {"item": started.item_name, "n": started.order_number, "r": started.return_id}
    )


def exchange_accept(actor: Actor, d: Dialogue) -> Reply | None:
    """The customer said yes to an exchange offer: a named event scenarios can wait for. None when
    there is no recent return to exchange."""
    since = timezone.now() - EXCHANGE_WINDOW
    order_id = customers.recent_return_order(d.workspace_id, d.customer_id, since)
    if order_id is None:
        return None
    emit(
        workspace_id=d.workspace_id,
        type=EXCHANGE_ACCEPTED,
        subject_type="conversation",
        subject_id=d.conversation_id,
        actor=actor,
        payload={"customer_id": d.customer_id, "order_id": order_id, "conversation_id": d.conversation_id},
    )
    d.collected["exchange_order_id"] = order_id
    return Reply(_("Thank you! We will arrange the exchange and let you know when it ships."))


def free_slots(workspace_id: int, now: datetime | None = None) -> list[ConsultationSlot]:
    now = now or timezone.now()
    return list(
        ConsultationSlot.objects.filter(
            workspace_id=workspace_id, status=SlotStatus.FREE, starts_at__gt=now
        ).order_by("starts_at", "pk")[:SLOTS_OFFERED]
    )


def when(at: datetime) -> str:
    """One unambiguous format in both languages (and no trailing dot to clash with a sentence's)."""
    return formats.date_format(timezone.localtime(at), "d.m.Y H:i")


def slot_label(slot: ConsultationSlot) -> str:
    return when(slot.starts_at)


def booking_offer(workspace_id: int) -> Reply:
    slots = free_slots(workspace_id)
    if not slots:
        return Reply(_("There are no free consultation slots at the moment."))
    return Reply(
        _("Choose a time for the consultation:"),
        tuple(QuickReply(slot_label(s), f"/slot {s.public_id}") for s in slots),
    )


def booking_take(actor: Actor, d: Dialogue, choice: str) -> Reply | None:
    """Book the chosen slot (by id, or 1–3 from the offered list); None when the answer is no choice."""
    choice = choice.strip()
    slot = None
    if choice.startswith("/slot "):
        slot_id = choice.removeprefix("/slot ").strip()
        slot = ConsultationSlot.objects.filter(workspace_id=d.workspace_id, public_id=slot_id).first()
    elif choice.isdigit() and 1 <= int(choice) <= SLOTS_OFFERED:
        offered = free_slots(d.workspace_id)
        slot = offered[int(choice) - 1] if int(choice) <= len(offered) else None
    if slot is None:
        return None
    # The row lock and the status filter make a double booking impossible.
    taken = ConsultationSlot.objects.filter(pk=slot.pk, status=SlotStatus.FREE).update(
        status=SlotStatus.BOOKED,
        customer_id=d.customer_id,
        conversation_id=d.conversation_id,
        booked_at=timezone.now(),
    )
    if not taken:
        return Reply(_("Sorry, this time has just been taken.") + " " + booking_offer(d.workspace_id).text)
    emit(
        workspace_id=d.workspace_id,
        type="bot.slot.booked",
        subject_type="slot",
        subject_id=slot.public_id,
        actor=actor,
        payload={
            "slot_id": slot.public_id,
            "customer_id": d.customer_id,
            "conversation_id": d.conversation_id,
        },
    )
    d.collected["booking"] = slot_label(slot)
    return Reply(_("You are booked for %(when)s. See you!") % {"when": slot_label(slot)})


def size_for(workspace_id: int, height: int, weight: int) -> str | None:
    chart = BotSettings.objects.filter(workspace_id=workspace_id).values_list("size_chart", flat=True).first()
    rows = chart or DEFAULT_SIZE_CHART
    fitting = [
        r
        for r in rows
        if r["height"][0] <= height <= r["height"][1] and r["weight"][0] <= weight <= r["weight"][1]
    ]
    if fitting:
        return str(fitting[0]["size"])
    by_weight = [r for r in rows if r["weight"][0] <= weight <= r["weight"][1]]
    return str(by_weight[0]["size"]) if by_weight else None
