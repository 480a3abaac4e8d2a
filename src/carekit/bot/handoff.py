"""The summary pinned above the transcript when the bot hands a dialogue to a person, so the customer
does not have to repeat themselves. Pure: built from what `understand` returned for each message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from carekit.bot.policy import SMALL_TALK

if TYPE_CHECKING:
    from carekit.bot.public import EntityRef, Understanding


@dataclass(frozen=True)
class HandoffSummary:
    reason: str  # the Decision.reason that handed off: requested, negative_sentiment, ...
    intent: str | None  # what the customer came for: the last understood, non-small-talk intent
    language: str
    sentiment: str  # of the last message
    entities: tuple[EntityRef, ...]  # one per (kind, value), first mention first
    collected: tuple[tuple[str, str], ...]  # fields the bot asked for (name, value)
    bot_answers: tuple[str, ...]  # what the bot already told the customer

    def lines(self) -> list[str]:
        out = [_("Reason: %(reason)s") % {"reason": self.reason}]
        if self.intent:
            out.append(_("Customer wants: %(intent)s") % {"intent": self.intent})
        out.append(_("Mood: %(sentiment)s") % {"sentiment": self.sentiment})
        out += [f"{e.kind}: {e.value}" for e in self.entities]
        out += [f"{name}: {value}" for name, value in self.collected]
        out += [_("Bot answered: %(answer)s") % {"answer": a} for a in self.bot_answers]
        return out


def summarize(
    turns: Sequence[Understanding],
    *,
    reason: str,
    collected: Mapping[str, str] | None = None,
    answered: Sequence[str] = (),
) -> HandoffSummary:
    intent = next(
        (
            u.intent
            for u in reversed(turns)
            if not u.out_of_scope and u.intent not in SMALL_TALK | {"human_handoff"}
        ),
        None,
    )
    seen: dict[tuple[str, str], EntityRef] = {}
    for u in turns:
        for e in u.entities:
            seen.setdefault((e.kind, e.value), e)
    last = turns[-1] if turns else None
    return HandoffSummary(
        reason=reason,
        intent=intent,
        language=last.language if last else "en",
        sentiment=last.sentiment if last else "neutral",
        entities=tuple(seen.values()),
        collected=tuple(sorted((collected or {}).items())),
        bot_answers=tuple(answered),
    )
