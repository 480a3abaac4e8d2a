"""Search: Russian morphology, English stemming, typos, synonyms, languages and tenants kept apart."""

from __future__ import annotations

import pytest

from carekit.knowledge import public
from carekit.knowledge.search import Doc, SearchIndex
from carekit.knowledge.tests.factories import article

pytestmark = [pytest.mark.sqlite]

DOCS = [
    Doc("returns", "ru", "Возврат товара", "Вернуть вещь можно в течение 14 дней, если сохранены ярлыки."),
    Doc(
        "tracking", "ru", "Как отследить заказ", "Трек-номер приходит в SMS, когда заказ передан в доставку."
    ),
    Doc("payment", "ru", "Оплата", "Мы принимаем банковские карты и оплату при получении."),
    Doc("refunds", "en", "Refunds", "Refunds go back to the original payment method within 10 working days."),
    Doc("shipping", "en", "Delivery times", "Couriers deliver in 1-2 days in big cities."),
]


@pytest.mark.parametrize(
    ("query", "language", "first"),
    [
        ("как вернуть товары", "ru", "returns"),  # inflected forms meet through lemmas
        ("возратом товара", "ru", "returns"),  # a typo, inflected
        ("где моя посылка", "ru", "tracking"),  # synonym: посылка ~ заказ
        ("when do I get my refund", "en", "refunds"),  # stemming: refund / refunds
        ("how long is shipping", "en", "shipping"),  # synonym: shipping ~ delivery
        ("refnds", "en", "refunds"),  # a typo in English
    ],
)
def test_search_finds_the_answer_first(query, language, first):
    hits = SearchIndex(DOCS).search(query, language)
    assert hits[0].key == first


def test_search_stays_in_the_asked_language_and_returns_nothing_for_nonsense():
    index = SearchIndex(DOCS)
    assert {h.key for h in index.search("refund возврат", "ru")} <= {"returns", "tracking", "payment"}
    assert index.search("zzzz qqqq", "en") == []
    assert index.search("", "ru") == []


def test_snippet_is_the_sentence_that_answers():
    index = SearchIndex([Doc("a", "en", "Refunds", "We love our customers. Refunds take 10 days to arrive.")])
    assert index.search("refund", "en")[0].snippet == "Refunds take 10 days to arrive."


@pytest.mark.django_db
def test_workspace_search_sees_only_its_own_published_articles(workspace, other_workspace):
    mine = article(workspace, slug="returns")
    article(workspace, title="Возврат черновик", slug="draft", publish=False)
    article(other_workspace, slug="returns")
    hits = public.search(workspace.pk, "вернуть товар", "ru")
    assert [h.article_id for h in hits] == [mine.public_id]
    assert hits[0].url == f"/help/{workspace.slug}/ru/returns/"


@pytest.mark.django_db
def test_the_cached_index_follows_edits(workspace):
    assert public.search(workspace.pk, "возврат", "ru") == []
    a = article(workspace, slug="returns")
    assert [h.article_id for h in public.search(workspace.pk, "возврат", "ru")] == [a.public_id]
