"""What a workspace's model learns from, and how a candidate is judged against the active model.

Pure computation on lists of examples; services store the results.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from carekit.bot.nlu.intents import IntentModel
from carekit.bot.nlu.sentiment import SentimentModel

DATA = Path(__file__).resolve().parent / "data"
OOS_LABEL = "out_of_scope"
HELD_OUT_EVERY = 5  # one example in five is held out


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


def _read(path: Path, label_col: str) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(r["text"], r[label_col]) for r in csv.DictReader(fh)]


@lru_cache(maxsize=1)
def default_examples() -> tuple[Example, ...]:
    """The default e-commerce intent set shipped with Carekit (ru + en)."""
    return tuple(Example(t, label) for t, label in _read(DATA / "train" / "intents.csv", "intent"))


def default_intents() -> list[str]:
    return sorted({e.intent for e in default_examples()})


def fit_intents(examples: list[Example], *, seed: int = 0) -> IntentModel:
    return IntentModel(oos_label=OOS_LABEL).fit(
        [e.text for e in examples], [e.intent for e in examples], seed=seed
    )


@lru_cache(maxsize=1)
def default_intent_model() -> IntentModel:
    """The model a workspace uses until it trains its own (built once per process, in ~2 s)."""
    return fit_intents(list(default_examples()))


@lru_cache(maxsize=1)
def sentiment_model() -> SentimentModel:
    rows = _read(DATA / "train" / "sentiment.csv", "label")
    return SentimentModel().fit([t for t, _ in rows], [label for _, label in rows])


def held_out_accuracy(model: IntentModel, examples: list[Example]) -> float | None:
    if not examples:
        return None
    preds = model.predict([e.text for e in examples])
    return round(sum(p.label == e.intent for p, e in zip(preds, examples, strict=True)) / len(examples), 4)


def judge(candidate: IntentModel, active: IntentModel | None, held_out: list[Example]) -> dict[str, Any]:
    """Whether the candidate may replace the active model: not worse on the held-out examples."""
    new = held_out_accuracy(candidate, held_out)
    old = held_out_accuracy(active, held_out) if active is not None else None
    accept = active is None or new is None or old is None or new >= old
    return {
        "held_out_examples": len(held_out),
        "held_out_accuracy": new,
        "active_held_out_accuracy": old,
        "accepted": accept,
    }
