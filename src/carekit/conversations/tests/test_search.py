"""Full-text search: PostgreSQL full text with Russian and English stemming; the SQLite fallback."""

from __future__ import annotations

import pytest

from carekit.conversations.search import search_messages
from carekit.conversations.tests.factories import inbound
from carekit.testing.tenants import make_workspace

pytestmark = [pytest.mark.django_db]


@pytest.mark.sqlite
def test_search_finds_word_forms_and_keeps_workspaces_apart(workspace):
    hit_ru = inbound(workspace, text="Где мой заказ? Курьер не приехал").message
    hit_en = inbound(workspace, text="My orders never arrived").message
    inbound(workspace, text="Спасибо, всё хорошо")
    other = make_workspace()
    inbound(other, text="Где мой заказ?")
    assert [m.pk for m in search_messages(workspace.pk, "заказа")] == [hit_ru.pk]
    assert [m.pk for m in search_messages(workspace.pk, "order")] == [hit_en.pk]
    assert list(search_messages(workspace.pk, "   ")) == []


@pytest.mark.postgres
def test_postgres_full_text_uses_both_stemmers(workspace):
    hit_ru = inbound(workspace, text="Курьеры привезли заказы").message
    hit_en = inbound(workspace, text="The parcels were delivered").message
    assert [m.pk for m in search_messages(workspace.pk, "курьер заказ")] == [hit_ru.pk]
    assert [m.pk for m in search_messages(workspace.pk, "deliver parcel")] == [hit_en.pk]
