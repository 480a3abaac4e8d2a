"""What other contexts may use from channels. Functions run inside the caller's transaction.

- `contact_offer(workspace_id, customer_id)`: how to invite this customer to talk. A customer whose
  preferred channel is the phone gets a callback offer (never a chat link); a Telegram customer gets
  the bot's deep link (which also links their Telegram account); others get the web chat.
- `callback_offer(...)`: open the callback task (due within the phone channel's callback time) and
  text the customer when we will call.
- `telegram_start_link(workspace_id, customer_id)`: a deep link signed for this customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from carekit.channels import selectors
from carekit.channels.adapters.phone import offers
from carekit.channels.adapters.telegram import deeplink
from carekit.core.events import Actor
from carekit.customers import public as customers

__all__ = ["ContactOffer", "Offered", "callback_offer", "contact_offer", "telegram_start_link"]

Offered = offers.Offered


@dataclass(frozen=True)
class ContactOffer:
    kind: str  # "callback" | "telegram" | "chat"
    channel_id: str = ""
    url: str = ""  # the deep link for "telegram"
    callback_minutes: int = 0  # for "callback": we call back within this many minutes


def telegram_start_link(workspace_id: int, customer_id: str) -> str:
    """A `https://t.me/<bot>?start=...` link that links the opener's Telegram account to this customer
    ("" when the workspace has no active Telegram bot with a user name)."""
    ch = selectors.channel_for_message(workspace_id, "telegram")
    if ch is None or not ch.config.get("bot_username"):
        return ""
    return deeplink.start_link(ch, customer_id)


def contact_offer(workspace_id: int, customer_id: str) -> ContactOffer:
    ref = customers.customer(workspace_id, customer_id)
    preferred = ref.preferred_channel if ref else ""
    if preferred == "phone":
        ch = selectors.channel_for_message(workspace_id, "phone")
        return ContactOffer(
            "callback", ch.public_id if ch else "", callback_minutes=offers.callback_minutes(workspace_id)
        )
    if preferred == "telegram":
        link = telegram_start_link(workspace_id, customer_id)
        if link:
            ch = selectors.channel_for_message(workspace_id, "telegram")
            return ContactOffer("telegram", ch.public_id if ch else "", url=link)
    ch = selectors.channel_for_message(workspace_id, "webchat")
    return ContactOffer("chat", ch.public_id if ch else "")


def callback_offer(
    *, actor: Actor, workspace_id: int, customer_id: str, reason: str = "", at: datetime | None = None
) -> Offered:
    return offers.callback_offer(
        actor=actor, workspace_id=workspace_id, customer_id=customer_id, reason=reason, at=at
    )
