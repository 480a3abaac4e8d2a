"""The hand-off rules: on request, human-only intents, negative sentiment, two misses in a row."""

from __future__ import annotations

import pytest

from carekit.bot.policy import decide
from carekit.bot.public import ArticleHit, Understanding

pytestmark = [pytest.mark.sqlite]

HIT = ArticleHit("kba_1", "returns", "ru", "Возврат", "…", "/help/x/ru/returns/", 3.0, 1.0)


def _u(intent: str, *, oos: bool = False, sentiment: str = "neutral", score: float = 0.0) -> Understanding:
    return Understanding("ru", intent, 0.9, oos, (), sentiment, score, None)


@pytest.mark.parametrize(
    ("understanding", "hits", "missed", "expected"),
    [
        (_u("human_handoff"), [], 0, ("handoff", "requested")),
        (_u("complaint"), [], 0, ("handoff", "human_only")),
        (_u("order_status", sentiment="negative", score=-0.8), [], 0, ("handoff", "negative_sentiment")),
        (_u("order_status", sentiment="negative", score=-0.3), [], 0, ("action", "order_status")),
        (_u("greeting"), [], 0, ("reply", "greeting")),
        (_u("delivery_time"), [HIT], 0, ("answer", "delivery_time")),
        (_u("out_of_scope", oos=True), [HIT], 0, ("answer", "faq")),
        (_u("out_of_scope", oos=True), [], 0, ("clarify", "misunderstood")),
        (_u("out_of_scope", oos=True), [], 1, ("handoff", "misunderstood")),
        (_u("delivery_time"), [], 1, ("handoff", "misunderstood")),
    ],
)
def test_decide(understanding, hits, missed, expected):
    d = decide(understanding, hits, misunderstood_before=missed)
    assert (d.kind, d.reason) == expected


def test_handoff_summary_carries_the_context():
    from carekit.bot.public import EntityRef, summarize

    turns = [
        Understanding("ru", "greeting", 0.9, False, (), "neutral", 0.0, None),
        Understanding(
            "ru",
            "return_item",
            0.9,
            False,
            (EntityRef("order_number", "10234", "10234"),),
            "neutral",
            0,
            None,
        ),
        Understanding(
            "ru",
            "human_handoff",
            0.9,
            False,
            (EntityRef("order_number", "10234", "10234"),),
            "negative",
            -0.6,
            None,
        ),
    ]
    s = summarize(turns, reason="requested", collected={"size": "M"}, answered=["Возврат товара"])
    assert (s.intent, s.language, s.sentiment) == ("return_item", "ru", "negative")
    assert s.entities == (EntityRef("order_number", "10234", "10234"),)
    assert s.lines() == [
        "Reason: requested",
        "Customer wants: return_item",
        "Mood: negative",
        "order_number: 10234",
        "size: M",
        "Bot answered: Возврат товара",
    ]
    assert summarize([], reason="misunderstood").intent is None
