"""What the bot does with an understood message: reply, answer from the knowledge base, run an
action, ask again, or hand off to a person. Pure: the conversation flows of phase 2 call it with the
dialogue's state and carry out the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carekit.bot.public import ArticleHit, Understanding

# Intents a person must take: the customer asked for one, or is complaining (ISSUE 8, hand-off).
HUMAN_ONLY = frozenset({"human_handoff", "complaint"})
# Intents answered by an action through another context (orders, returns, bookings): phase 2.
ACTIONS = frozenset(
    {
        "order_status",
        "cancel_order",
        "return_item",
        "exchange_size",
        "change_delivery",
        "refund_status",
        "book_consultation",
        "size_advice",
        "product_availability",
    }
)
SMALL_TALK = frozenset({"greeting", "thanks", "goodbye"})
# A customer this upset gets a person, whatever they asked.
NEGATIVE_HANDOFF = -0.5
MAX_MISUNDERSTOOD = 2


@dataclass(frozen=True)
class Decision:
    kind: str  # reply | answer | action | clarify | handoff
    reason: str  # why: the intent, "requested", "negative_sentiment", "misunderstood", "human_only"
    intent: str
    article_ids: tuple[str, ...] = ()


def decide(u: Understanding, hits: list[ArticleHit], *, misunderstood_before: int = 0) -> Decision:
    """`misunderstood_before`: how many of the customer's previous messages in a row the bot did not
    understand; the second miss in a row hands off rather than looping."""
    if u.intent == "human_handoff":
        return Decision("handoff", "requested", u.intent)
    if u.sentiment_score <= NEGATIVE_HANDOFF and u.sentiment == "negative":
        return Decision("handoff", "negative_sentiment", u.intent)
    if u.intent in HUMAN_ONLY:
        return Decision("handoff", "human_only", u.intent)
    if not u.out_of_scope:
        if u.intent in SMALL_TALK:
            return Decision("reply", u.intent, u.intent)
        if u.intent in ACTIONS:
            return Decision("action", u.intent, u.intent)
        if hits:
            return Decision("answer", u.intent, u.intent, tuple(h.article_id for h in hits))
    elif hits:
        return Decision("answer", "faq", u.intent, tuple(h.article_id for h in hits))
    if misunderstood_before + 1 >= MAX_MISUNDERSTOOD:
        return Decision("handoff", "misunderstood", u.intent)
    return Decision("clarify", "misunderstood", u.intent)
