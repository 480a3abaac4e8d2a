"""The shipped data: well-formed, covering every default intent, and training never copies evaluation."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sqlite]

DATA = Path(__file__).resolve().parents[1] / "data"
ARTICLES = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "default_articles.json"
DEFAULT_INTENTS = {
    "order_status", "delivery_time", "change_delivery", "cancel_order", "return_item", "exchange_size",
    "refund_status", "payment_problem", "bonus_promo", "size_advice", "product_availability",
    "book_consultation", "complaint", "human_handoff", "contacts_hours", "greeting", "thanks", "goodbye",
    "out_of_scope",
}  # fmt: skip
# Character-trigram Jaccard similarity at or above which a training text counts as a copy of an
# evaluation text. Short greetings legitimately share most trigrams ("позовите" / "позови"), so the
# bar sits just above the closest honest pair in the shipped data (0.70).
NEAR_DUPLICATE = 0.75


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _grams(text: str, n: int = 3) -> set[str]:
    t = " " + " ".join(text.lower().replace("ё", "е").split()) + " "
    return {t[i : i + n] for i in range(len(t) - n + 1)}


def near_duplicates(train: list[str], evaluation: list[str], bar: float) -> list[tuple[float, str, str]]:
    out = []
    eval_grams = [(e, _grams(e)) for e in evaluation]
    for t in train:
        gt = _grams(t)
        for e, ge in eval_grams:
            similarity = len(gt & ge) / len(gt | ge)
            if similarity >= bar:
                out.append((round(similarity, 2), t, e))
    return out


def test_the_near_duplicate_check_catches_a_lightly_edited_copy():
    assert near_duplicates(["где мой заказ 10235"], ["где мой заказ 10234"], NEAR_DUPLICATE) != []
    assert near_duplicates(["статус заказа"], ["где мой заказ 10234"], NEAR_DUPLICATE) == []


def test_training_examples_are_not_near_duplicates_of_evaluation_examples():
    for name in ("intents.csv", "sentiment.csv"):
        train = [r["text"] for r in _rows(f"train/{name}")]
        evaluation = [r["text"] for r in _rows(f"eval/{name}")]
        assert near_duplicates(train, evaluation, NEAR_DUPLICATE) == [], name


def test_both_intent_sets_cover_every_default_intent_in_both_languages():
    for name in ("train/intents.csv", "eval/intents.csv"):
        rows = _rows(name)
        assert {r["intent"] for r in rows} == DEFAULT_INTENTS, name
        for lang in ("ru", "en"):
            assert {r["intent"] for r in rows if r["lang"] == lang} == DEFAULT_INTENTS, (name, lang)


def test_the_evaluation_set_has_mixed_language_and_prompt_injection_messages():
    rows = _rows("eval/intents.csv")
    assert sum(r["lang"] == "mixed" for r in rows) >= 5
    assert any("ignore previous instructions" in r["text"] for r in rows)


def test_sentiment_sets_have_three_labels_in_both_languages():
    for name in ("train/sentiment.csv", "eval/sentiment.csv"):
        rows = _rows(name)
        for lang in ("ru", "en"):
            assert {r["label"] for r in rows if r["lang"] == lang} == {"negative", "neutral", "positive"}


def test_every_knowledge_question_points_at_a_default_article_in_its_language():
    articles = {a["slug"]: a for a in json.loads(ARTICLES.read_text(encoding="utf-8"))}
    rows = _rows("eval/kb_questions.csv")
    assert len(rows) >= 40
    for r in rows:
        assert r["lang"] in articles[r["article"]], r
