"""What other contexts (the inbox, channels, scenarios) may use from the bot: frozen facts only.

Both functions read only and are safe inside the caller's transaction.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from carekit.bot import selectors, services, training
from carekit.bot.enums import ExampleSource
from carekit.bot.handoff import HandoffSummary, summarize
from carekit.bot.nlu import entities as entity_rules
from carekit.bot.nlu.intents import IntentModel
from carekit.bot.nlu.text import MAX_CHARS, detect_language, tokens
from carekit.bot.policy import Decision, decide
from carekit.core.events import Actor
from carekit.knowledge.public import ArticleHit
from carekit.knowledge.public import search as kb_search

__all__ = [
    "ArticleHit",
    "Decision",
    "EntityRef",
    "HandoffSummary",
    "Understanding",
    "decide",
    "intents",
    "kb_answer",
    "suggest_example",
    "summarize",
    "understand",
]

# The best hit must contain at least this share of the question's terms, and others must score within
# KB_RELATIVE of it: below that the bot says it does not know rather than offer an unrelated article.
# Coverage, not the BM25 score, because BM25 scores depend on how many articles a workspace has.
KB_MIN_COVERAGE = 0.3
KB_RELATIVE = 0.5


@dataclass(frozen=True)
class EntityRef:
    kind: str
    value: str
    text: str


@dataclass(frozen=True)
class Understanding:
    language: str
    intent: str
    confidence: float
    out_of_scope: bool
    entities: tuple[EntityRef, ...]
    sentiment: str
    sentiment_score: float
    model_version: int | None  # None: the shipped default model


_lock = threading.Lock()
_loaded: dict[int, tuple[int, IntentModel]] = {}  # workspace id -> (model pk, model)


def _model_for(workspace_id: int) -> tuple[IntentModel, int | None]:
    key = selectors.active_model_key(workspace_id)
    if key is None:
        return training.default_intent_model(), None
    pk, version = key
    cached = _loaded.get(workspace_id)
    if cached is not None and cached[0] == pk:
        return cached[1], version
    model = IntentModel.from_bytes(selectors.artifact(pk))
    with _lock:
        _loaded[workspace_id] = (pk, model)
    return model, version


def understand(
    workspace_id: int, text: str, *, default_language: str = "en", today: date | None = None
) -> Understanding:
    """Language, intent (with out-of-scope), entities and sentiment of one customer message."""
    text = (text or "")[:MAX_CHARS]
    language = detect_language(text, default_language)
    # Relative dates ("завтра", "friday") resolve against the caller's idea of today: the inbox passes
    # the customer's local date; the server's is the fallback.
    today = today or timezone.localdate()
    found = tuple(EntityRef(e.kind, e.value, e.text) for e in entity_rules.extract(text, today=today))
    if not tokens(text):
        # Empty, emoji-only or punctuation: nothing to classify, and nothing to guess from.
        return Understanding(language, training.OOS_LABEL, 0.0, True, found, "neutral", 0.0, None)
    model, version = _model_for(workspace_id)
    pred = model.predict_one(text)
    mood = training.sentiment_model().predict([text])[0]
    return Understanding(
        language=language,
        intent=pred.label,
        confidence=round(pred.confidence, 4),
        out_of_scope=pred.out_of_scope,
        entities=found,
        sentiment=mood.label,
        sentiment_score=mood.score,
        model_version=version,
    )


def kb_answer(workspace_id: int, text: str, language: str, limit: int = 3) -> list[ArticleHit]:
    """Published articles that answer the message, best first; empty when nothing is close enough."""
    hits = kb_search(workspace_id, (text or "")[:MAX_CHARS], language, limit)
    if not hits or hits[0].coverage < KB_MIN_COVERAGE:
        return []
    return [h for h in hits if h.score >= KB_RELATIVE * hits[0].score]


def suggest_example(*, actor: Actor, workspace_id: int, text: str, intent: str) -> str | None:
    """A message the bot missed, or one an agent resolved, proposed as a training example; it waits
    for review (`POST /bot/examples/{id}/review`). Runs inside the caller's transaction. Returns the
    example id, or None if the text is already an example."""
    from carekit.core.errors import Conflict
    from carekit.core.models import Workspace

    try:
        ex = services.example_add(
            actor=actor,
            workspace=Workspace.objects.get(pk=workspace_id),
            text=text,
            intent=intent,
            source=ExampleSource.SUGGESTED,
        )
    except Conflict:
        return None
    return ex.public_id


def intents() -> list[str]:
    """The default intent names, for flows and scenarios that branch on them."""
    return training.default_intents()
