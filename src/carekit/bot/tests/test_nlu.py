"""Language, normalization, entities, sentiment and the intent classifier, without a database."""

from __future__ import annotations

from datetime import date

import pytest

from carekit.bot.evaluation import sample_per_class
from carekit.bot.nlu.entities import extract
from carekit.bot.nlu.intents import IntentModel
from carekit.bot.nlu.text import detect_language, normalize
from carekit.bot.training import default_intent_model, sentiment_model

pytestmark = [pytest.mark.sqlite]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("где мой заказ", "ru"),
        ("where is my order", "en"),
        ("хочу return эту кофту", "ru"),
        ("🙂🙂", "en"),
        ("", "en"),
        ("order 12345 пожалуйста отмените", "ru"),
    ],
)
def test_language_is_detected_by_script(text, lang):
    assert detect_language(text) == lang


def test_normalization_uses_russian_lemmas_and_english_stems():
    assert normalize("Посылки не доставлены") == "посылка не доставить"
    assert normalize("Deliveries shipping cards") == "deliveri ship card"
    assert normalize("заказ 10234 и 12") == "заказ num и smallnum"


def test_entities_in_russian_and_english():
    today = date(2026, 11, 22)  # a Sunday
    found = extract("заказ 10234, пишите на Anna.K@mail.ru или +7 900 123-45-67", today=today)
    assert [(e.kind, e.value) for e in found] == [
        ("order_number", "10234"),
        ("email", "anna.k@mail.ru"),
        ("phone", "+79001234567"),
    ]
    found = extract("привезите завтра в 15:30, размер 42 или L, доплачу 1 500 руб", today=today)
    assert [(e.kind, e.value) for e in found] == [
        ("date", "2026-11-23"),
        ("time", "15:30"),
        ("size", "42"),
        ("size", "L"),
        ("amount", "1500 RUB"),
    ]
    found = extract("charged $20 twice for order #55871 on 12.11, call me friday at 3pm", today=today)
    assert [(e.kind, e.value) for e in found] == [
        ("amount", "20 USD"),
        ("order_number", "55871"),
        ("date", "2026-11-12"),
        ("date", "2026-11-27"),
        ("time", "15:00"),
    ]


def test_entities_survive_hostile_input():
    assert extract("") == []
    assert extract("🙂" * 5000) == []
    assert len(extract("заказ 12345 " * 2000)) >= 1


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("это просто ужасно, верните деньги", "negative"),
        ("курьер нахамил и опоздал", "negative"),
        ("спасибо, всё отлично", "positive"),
        ("where is my order 12345", "neutral"),
        ("you are awful", "negative"),
        ("great, thank you", "positive"),
    ],
)
def test_sentiment(text, label):
    assert sentiment_model().predict([text])[0].label == label


def _toy() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for i in range(8):
        texts += [f"где мой заказ {1000 + i}", f"where is my parcel {i}", f"хочу вернуть товар {i}"]
        texts += [f"return this item {i}", f"какая погода {i}", f"tell me a joke {i}"]
        labels += ["order_status", "order_status", "return_item", "return_item", "oos", "oos"]
    return texts, labels


def test_intent_model_chooses_its_configuration_by_cross_validation_and_round_trips():
    texts, labels = _toy()
    model = IntentModel(oos_label="oos").fit(texts, labels, seed=0)
    assert model.figures["cv_folds"] == 5
    assert len(model.figures["search"]) == 8
    assert model.classes == ["oos", "order_status", "return_item"]
    restored = IntentModel.from_bytes(model.to_bytes())
    assert restored.predict_one("где мой заказ 555").label == "order_status"
    assert restored.predict_one("хочу вернуть платье").label == "return_item"
    assert restored.predict_one("какая погода завтра").out_of_scope is True


def test_few_shot_sampling_is_fixed_by_the_seed():
    texts, labels = _toy()
    a = sample_per_class(texts, labels, 2, seed=7)
    b = sample_per_class(texts, labels, 2, seed=7)
    assert a == b
    assert sorted(a[1]) == ["oos", "oos", "order_status", "order_status", "return_item", "return_item"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("где мой заказ 10234", "order_status"),
        ("хочу вернуть платье", "return_item"),
        ("позовите оператора", "human_handoff"),
        ("can i exchange these jeans for a bigger size", "exchange_size"),
    ],
)
def test_default_model_on_the_issue_examples(text, intent):
    assert default_intent_model().predict_one(text).label == intent
