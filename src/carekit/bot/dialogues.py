"""The first-line bot inside real conversations: one customer message in, one bot reply (or a
hand-off) out, through `conversations.public`. Runs in the event handler's transaction.

A dialogue waits on at most one question at a time (`Dialogue.flow`): was the answer helpful, proof of
identity, the size questionnaire, a slot choice, the details of a request, a contact outside business
hours. An answer that does not fit the question is treated as a new message, so the bot never loops.
Quick replies travel in the outbound message's `data["quick_replies"]`; a button sends its payload.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, replace

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carekit.bot import actions, public
from carekit.bot.actions import QuickReply, Reply
from carekit.bot.enums import DialogueState
from carekit.bot.models import BotSettings, Dialogue, Turn
from carekit.bot.policy import ACTIONS
from carekit.conversations import public as conversations
from carekit.core.errors import DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.customers import public as customers

ACTOR = Actor.system("bot")
MAX_TURNS_KEPT = 20
# Intents whose answer shows order data: only for a verified customer.
NEEDS_VERIFIED = frozenset(
    {"order_status", "return_item", "cancel_order", "change_delivery", "refund_status"}
)
# Intents the bot cannot finish itself: it collects the order number and hands off.
TO_AGENT = frozenset({"cancel_order", "change_delivery", "refund_status", "payment_problem"})
YES = re.compile(r"^\s*(да|ага|конечно|согласн\w*|хорошо|yes|yep|sure|ok|okay)\b", re.IGNORECASE)
NO = re.compile(r"^\s*(нет|не помогло|no|nope)\b", re.IGNORECASE)
EXCHANGE = re.compile(r"обмен|exchange", re.IGNORECASE)
NUMBER = re.compile(r"\d{1,3}")
CODE = re.compile(r"\d{6}")
# Below this confidence an in-scope guess is treated as not understood (asked again, then handed off).
LOW_CONFIDENCE = 0.35
WORD = re.compile(r"[^\W\d_]{2,}")
EMAIL = re.compile(r"\S+@\S+")
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


_ON_CACHE: dict[int, tuple[float, bool]] = {}


def bot_on_anywhere(workspace_id: int) -> bool:
    """Whether the workspace has the bot on for any channel, remembered per process for
    WEBHOOK_INTEREST_CACHE_SECONDS: the inbound-message handler declines events at emit time where the
    bot is off, so those messages get no delivery row at all."""
    ttl = settings.WEBHOOK_INTEREST_CACHE_SECONDS
    now = time.monotonic()
    hit = _ON_CACHE.get(workspace_id)
    if ttl > 0 and hit is not None and hit[0] > now:
        return hit[1]
    channels = (
        BotSettings.objects.filter(workspace_id=workspace_id)
        .values_list("enabled_channels", flat=True)
        .first()
    )
    on = bool(channels)
    if ttl > 0:
        _ON_CACHE[workspace_id] = (now + ttl, on)
    return on


def forget(workspace_id: int) -> None:
    _ON_CACHE.pop(workspace_id, None)


def bot_enabled(workspace_id: int, channel: str) -> bool:
    channels = (
        BotSettings.objects.filter(workspace_id=workspace_id)
        .values_list("enabled_channels", flat=True)
        .first()
    )
    return bool(channels) and channel in (channels or [])


def _menu() -> tuple[QuickReply, ...]:
    return (
        QuickReply(_("Where is my order?"), _("Where is my order?")),
        QuickReply(_("Return an item"), _("I want to return an item")),
        QuickReply(_("Book a consultation"), _("Book a consultation")),
        QuickReply(_("Talk to a person"), "/operator"),
    )


def _understood(data: dict) -> public.Understanding:
    ents = tuple(public.EntityRef(**e) for e in data.get("entities", []))
    return public.Understanding(**{**data, "entities": ents})


def _summary(d: Dialogue, reason: str) -> dict:
    """The pinned summary as data: the inbox renders it in the agent's language."""
    s = public.summarize(
        [_understood(t) for t in d.turns],
        reason=reason,
        collected={k: str(v) for k, v in d.collected.items() if k != "claim_id"},
        answered=d.answered,
    )
    return {
        "intent": s.intent or "",
        "language": s.language,
        "sentiment": s.sentiment,
        "entities": [[e.kind, e.value] for e in s.entities],
        "collected": [list(kv) for kv in s.collected],
        "answers": list(s.bot_answers),
    }


class Conversation:
    """One handled message: the dialogue row, what was understood, and the reply being built."""

    def __init__(self, d: Dialogue, text: str, u: public.Understanding) -> None:
        self.d = d
        self.text = text
        self.u = u
        self.decision = ""
        self.reason = ""

    # --- outcomes ---------------------------------------------------------------------------------

    def say(self, reply: Reply, decision: str, reason: str = "") -> None:
        self.decision, self.reason = decision, reason or decision
        conversations.bot_reply(
            actor=ACTOR,
            workspace_id=self.d.workspace_id,
            conversation_id=self.d.conversation_id,
            text=reply.text,
            data=reply.message_data(),
        )
        self.d.answered = ([*self.d.answered, reply.text[:300]])[-10:]

    def resolve(self, reply: Reply) -> None:
        self.say(reply, "reply", "resolved")
        d = self.d
        d.state, d.resolved_by_bot, d.resolved_at, d.flow = DialogueState.RESOLVED, True, timezone.now(), ""
        conversations.bot_resolve(actor=ACTOR, workspace_id=d.workspace_id, conversation_id=d.conversation_id)
        emit(
            workspace_id=d.workspace_id,
            type="bot.dialogue.resolved",
            subject_type="conversation",
            subject_id=d.conversation_id,
            actor=ACTOR,
            payload={"conversation_id": d.conversation_id, "customer_id": d.customer_id},
        )

    def handoff(self, reason: str) -> None:
        d = self.d
        is_open, opens_at = conversations.business_open(d.workspace_id, timezone.now(), self._calendar())
        if not is_open and "contact" not in d.collected:
            d.flow, d.collected["handoff_reason"] = "contact", reason
            self.say(
                Reply(
                    _(
                        "Our team is offline now. Leave your phone or e-mail and we will get back to "
                        "you by %(when)s."
                    )
                    % {"when": self._when(opens_at)}
                ),
                "flow",
                "after_hours",
            )
            return
        self.say(
            Reply(_("I am passing the conversation to a colleague; they will see everything above.")),
            "handoff",
            reason,
        )
        d.state, d.handoff_reason, d.handed_off_at, d.flow = (
            DialogueState.HANDED_OFF,
            reason,
            timezone.now(),
            "",
        )
        settings = self._settings()
        conversations.bot_handoff(
            actor=ACTOR,
            workspace_id=d.workspace_id,
            conversation_id=d.conversation_id,
            reason=reason,
            summary=_summary(d, reason),
            team_id=settings.handoff_team_id if settings else "",
        )
        emit(
            workspace_id=d.workspace_id,
            type="bot.dialogue.handed_off",
            subject_type="conversation",
            subject_id=d.conversation_id,
            actor=ACTOR,
            payload={"conversation_id": d.conversation_id, "customer_id": d.customer_id, "reason": reason},
        )

    def _settings(self) -> BotSettings | None:
        return BotSettings.objects.filter(workspace_id=self.d.workspace_id).first()

    def _calendar(self) -> str:
        s = self._settings()
        return s.calendar_id if s else ""

    @staticmethod
    def _when(at: object) -> str:
        if at is None:
            return _("the next working day")
        return actions.when(at)  # type: ignore[arg-type]

    # --- the waiting question ---------------------------------------------------------------------

    def continue_flow(self) -> bool:
        """Answer the question the bot asked last; False when the message is not an answer to it."""
        d, text = self.d, self.text
        flow, d.flow = d.flow, ""
        if flow == "feedback":
            if YES.match(text):
                self.resolve(Reply(_("Glad I could help! Write any time.")))
                return True
            if NO.match(text) or text == "/not_helped":
                d.misunderstood += 1
                self.handoff("not_helped")
                return True
        elif flow == "size":
            return self._size_step(text)
        elif flow == "booking":
            reply = actions.booking_take(ACTOR, d, text)
            if reply is not None:
                self.say(reply, "action", "book_consultation")
                return True
        elif flow == "verify":
            return self._verify_step(text)
        elif flow == "details":
            d.collected["details"] = text[:500]
            self.handoff(d.collected.pop("handoff_reason", "human_only"))
            return True
        elif flow == "contact":
            contact = next((e.value for e in self.u.entities if e.kind in ("email", "phone")), "")
            if contact:
                d.collected["contact"] = contact
                self.handoff(d.collected.pop("handoff_reason", "after_hours"))
                return True
            d.flow = "contact"
            self.say(Reply(_("Please send a phone number or an e-mail address.")), "flow", "after_hours")
            return True
        return False

    def _verify_step(self, text: str) -> bool:
        """Proof of identity: a one-time code to an email or phone the customer sends here (a claim in
        customers), or a sign-in on the host site meanwhile (a signed token verifies the identity)."""
        d = self.d
        if customers.identity_verified(d.workspace_id, d.customer_id):
            d.verified = True
            self.act(d.pending_intent or "order_status")
            return True
        claim_id = str(d.collected.get("claim_id", ""))
        if claim_id and CODE.fullmatch(text):
            owner = customers.verification_check(
                actor=ACTOR, workspace_id=d.workspace_id, claim_id=claim_id, code=text
            )
            if owner is None:
                d.flow = "verify"
                self.say(Reply(_("The code is not correct or has expired.")), "flow", "verify")
                return True
            d.customer_id, d.verified = owner, True
            d.collected.pop("claim_id")
            self.u = replace(self.u, entities=())  # the code is not an order number
            self.act(d.pending_intent or "order_status")
            return True
        contact = next((e for e in self.u.entities if e.kind in ("email", "phone")), None)
        if contact is None:
            return False
        d.flow = "verify"
        try:
            d.collected["claim_id"] = customers.verification_start(
                actor=ACTOR,
                workspace_id=d.workspace_id,
                customer_id=d.customer_id,
                kind=contact.kind,
                value=contact.value,
            )
        except DomainError:
            self.say(
                Reply(_("I cannot send a code to this address. Please try another one.")), "flow", "verify"
            )
            return True
        self.say(Reply(_("I have sent a one-time code there. Please send it here.")), "flow", "verify")
        return True

    def _size_step(self, text: str) -> bool:
        d = self.d
        numbers = [int(n) for n in NUMBER.findall(text)]
        if not numbers:
            return False
        for key in ("age", "height", "weight"):
            if key not in d.collected and numbers:
                d.collected[key] = numbers.pop(0)
        missing = [k for k in ("age", "height", "weight") if k not in d.collected]
        if missing:
            d.flow = "size"
            self.say(Reply(self._size_question(missing[0])), "flow", "size_advice")
            return True
        size = actions.size_for(d.workspace_id, int(d.collected["height"]), int(d.collected["weight"]))
        if size is None:
            self.handoff("size_unknown")
            return True
        d.collected["size"] = size
        d.flow = "feedback"
        self.say(
            Reply(
                _("Size %(size)s should fit you. Did this help?") % {"size": size},
                (QuickReply(_("Yes"), _("Yes")), QuickReply(_("No"), "/not_helped")),
            ),
            "action",
            "size_advice",
        )
        return True

    @staticmethod
    def _size_question(key: str) -> str:
        return {
            "age": _("To pick a size: how old are you?"),
            "height": _("What is your height in centimetres?"),
            "weight": _("And your weight in kilograms?"),
        }[key]

    # --- a new request ----------------------------------------------------------------------------

    def act(self, intent: str) -> None:
        d, u = self.d, self.u
        number = next((e.value for e in u.entities if e.kind == "order_number"), "")
        if number:
            d.collected["order_number"] = number
        number = number or str(d.collected.get("order_number", ""))
        if intent in NEEDS_VERIFIED and not (
            d.verified or customers.identity_verified(d.workspace_id, d.customer_id)
        ):
            d.flow, d.pending_intent = "verify", intent
            self.say(
                Reply(
                    _(
                        "To show order details I need to make sure it is you. Please sign in on our "
                        "site and open the chat there, or send your e-mail or phone here for a one-time code."
                    ),
                    (QuickReply(_("Talk to a person"), "/operator"),),
                ),
                "flow",
                "verify",
            )
            return
        d.verified = d.verified or intent in NEEDS_VERIFIED
        if intent in TO_AGENT:
            self.ask_details(intent)
        elif intent == "order_status":
            self.say(actions.order_status(d.workspace_id, d.customer_id, number), "action", intent)
        elif intent == "return_item":
            words = tuple(WORD.findall(self.text))
            self.say(actions.return_start(ACTOR, d, number, words), "action", intent)
        elif intent == "exchange_size":
            reply = actions.exchange_accept(ACTOR, d)
            if reply is None:
                self.ask_details(intent)
            else:
                self.say(reply, "action", intent)
        elif intent == "book_consultation":
            reply = actions.booking_offer(d.workspace_id)
            d.flow = "booking" if reply.quick else ""
            self.say(reply, "action", intent)
        elif intent == "size_advice":
            d.collected = {k: v for k, v in d.collected.items() if k not in ("age", "height", "weight")}
            d.flow = "size"
            self.say(Reply(self._size_question("age")), "flow", intent)
        else:  # product availability and anything without an action of its own: a person checks
            self.ask_details(intent)

    def ask_details(self, reason: str) -> None:
        d = self.d
        d.flow, d.collected["handoff_reason"] = "details", reason
        self.say(
            Reply(
                _(
                    "Please describe the request in one message (with the order number, if any); "
                    "I will pass it on."
                )
            ),
            "flow",
            "collect",
        )

    def answer(self, article_ids: tuple[str, ...]) -> None:
        hits = public.kb_answer(self.d.workspace_id, self.text, self.u.language)
        best = next((h for h in hits if h.article_id in article_ids), hits[0] if hits else None)
        if best is None:
            self.clarify()
            return
        self.d.flow = "feedback"
        self.say(
            Reply(
                f"{best.title}\n{best.snippet}\n{best.url}\n" + _("Did this help?"),
                (QuickReply(_("Yes, thanks"), _("Yes")), QuickReply(_("No"), "/not_helped")),
                {"article_id": best.article_id},
            ),
            "answer",
            "faq",
        )

    def clarify(self) -> None:
        self.d.misunderstood += 1
        self.d.fallback_count += 1
        if self.u.out_of_scope and self.text.strip():
            public.suggest_example(
                actor=ACTOR, workspace_id=self.d.workspace_id, text=self.text[:1000], intent=self.u.intent
            )
        self.say(
            Reply(_("Sorry, I did not understand. Could you rephrase, or choose below?"), _menu()),
            "clarify",
            "misunderstood",
        )

    def small_talk(self, intent: str) -> None:
        if intent in ("thanks", "goodbye") and self.d.answered:
            self.resolve(Reply(_("Glad I could help! Write any time.")))
            return
        self.say(
            Reply(
                _("Hello! I can tell you where your order is, start a return or book a consultation."),
                _menu(),
            ),
            "reply",
            intent,
        )


def _record(d: Dialogue, u: public.Understanding, text: str) -> None:
    turn = asdict(u)
    turn["entities"] = [asdict(e) for e in u.entities]
    d.turns = ([*d.turns, turn])[-MAX_TURNS_KEPT:]
    # The reply language follows the words the customer writes: a button's payload, a number, an
    # e-mail address or a tie says nothing, and the dialogue keeps its language.
    if not text.startswith("/"):
        words = WORD.findall(EMAIL.sub(" ", text))
        cyrillic = sum(bool(CYRILLIC.search(w)) for w in words)
        latin = len(words) - cyrillic
        if cyrillic != latin:
            d.language = "ru" if cyrillic > latin else "en"


def handle(workspace_id: int, message_id: str) -> str | None:
    """React to one stored customer message; returns the decision taken (None: not the bot's)."""
    m = conversations.message_facts(workspace_id, message_id)
    if m is None or m.author_kind != "customer":
        return None
    c = conversations.conversation_facts(workspace_id, m.conversation_id)
    if (
        c is None
        or not c.bot_active
        or c.status in ("resolved", "closed")
        or not bot_enabled(workspace_id, c.channel)
    ):
        return None
    if Turn.objects.filter(workspace_id=workspace_id, message_id=message_id).exists():
        return None
    d, _created = Dialogue.objects.select_for_update().get_or_create(
        workspace_id=workspace_id,
        conversation_id=c.conversation_id,
        defaults={
            "customer_id": c.customer_id,
            "channel": c.channel,
            # Until the customer writes words, the bot speaks the conversation's or workspace's language.
            "language": c.language
            or Workspace.objects.values_list("default_language", flat=True).get(pk=workspace_id),
        },
    )
    if d.state == DialogueState.HANDED_OFF:
        return None
    if d.state == DialogueState.RESOLVED:  # the customer wrote again: the dialogue goes on
        d.state = DialogueState.ACTIVE
    u = public.understand(workspace_id, m.text, default_language=d.language)
    if d.flow == "verify" and CODE.fullmatch(m.text.strip()):
        u = replace(u, entities=())  # a one-time code: never an order number, never in the summary
    _record(d, u, m.text)
    with translation.override(d.language):
        conv = Conversation(d, m.text.strip(), u)
        _decide(conv)
    d.turn_count += 1
    d.save()
    Turn.objects.create(
        workspace_id=workspace_id,
        dialogue=d,
        message_id=message_id,
        intent=u.intent,
        confidence=u.confidence,
        decision=conv.decision,
        reason=conv.reason,
    )
    return conv.decision


def _decide(conv: Conversation) -> None:
    d, u, text = conv.d, conv.u, conv.text
    if text == "/operator":
        conv.handoff("requested")
        return
    if d.flow and conv.continue_flow():
        d.misunderstood = 0 if conv.decision != "handoff" else d.misunderstood
        return
    if (YES.match(text) and len(text) < 40) or EXCHANGE.search(text):
        reply = actions.exchange_accept(ACTOR, d)
        if reply is not None:
            conv.say(reply, "action", "exchange_accepted")
            return
    low = not u.out_of_scope and u.confidence < LOW_CONFIDENCE and u.intent != "human_handoff"
    if low:
        u = conv.u = replace(u, out_of_scope=True)
    hits = public.kb_answer(d.workspace_id, text, u.language) if text else []
    decision = public.decide(u, hits, misunderstood_before=d.misunderstood)
    if decision.kind == "handoff":
        if decision.reason == "human_only" and "details" not in d.collected:
            conv.ask_details(decision.reason)
        else:
            conv.handoff("low_confidence" if low and decision.reason == "misunderstood" else decision.reason)
        return
    if decision.kind == "clarify":
        conv.clarify()
        return
    d.misunderstood = 0
    if decision.kind == "reply":
        conv.small_talk(decision.intent)
    elif decision.kind == "answer":
        conv.answer(decision.article_ids)
    elif decision.kind == "action" and decision.intent in ACTIONS:
        conv.act(decision.intent)
