"""Articles: versions, states, related articles, votes; all through the services."""

from __future__ import annotations

import pytest
from django.db import transaction

from carekit.core.errors import Conflict, DomainError
from carekit.core.models import Event
from carekit.knowledge import services
from carekit.knowledge.enums import ArticleStatus
from carekit.knowledge.models import ArticleVersion
from carekit.knowledge.tests.factories import article
from carekit.testing.tenants import SYSTEM
from carekit.testing.transactions import call_inside_transaction

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_every_content_change_is_a_version(workspace):
    a = article(workspace, publish=False)
    call_inside_transaction(services.article_update, actor=SYSTEM, article=a, body="Новый текст.")
    call_inside_transaction(
        services.article_update, actor=SYSTEM, article=a, title="Возврат товара"
    )  # unchanged
    assert a.version == 2
    assert list(ArticleVersion.objects.filter(article=a).values_list("number", "body")) == [
        (2, "Новый текст."),
        (1, "Вернуть вещь можно в течение 14 дней."),
    ]


def test_publish_unpublish_and_archive_emit_events(workspace):
    a = article(workspace, publish=False)
    for status in (ArticleStatus.PUBLISHED, ArticleStatus.DRAFT, ArticleStatus.ARCHIVED):
        call_inside_transaction(services.article_set_status, actor=SYSTEM, article=a, status=status)
    types = list(Event.objects.filter(subject_id=a.public_id).order_by("id").values_list("type", flat=True))
    assert types == [
        "knowledge.article.created",
        "knowledge.article.published",
        "knowledge.article.unpublished",
        "knowledge.article.archived",
    ]
    assert a.published_at is not None


def test_slug_is_unique_per_language(workspace):
    article(workspace, slug="returns", language="ru")
    article(workspace, slug="returns", language="en", title="Returns")
    with pytest.raises(Conflict):
        article(workspace, slug="returns", language="ru")


def test_related_articles_must_belong_to_the_workspace(workspace, other_workspace):
    a, b = article(workspace, slug="a"), article(workspace, slug="b")
    foreign = article(other_workspace, slug="c")
    call_inside_transaction(services.article_set_related, actor=SYSTEM, article=a, related=[b])
    assert list(a.related.all()) == [b]
    with pytest.raises(DomainError):
        call_inside_transaction(services.article_set_related, actor=SYSTEM, article=a, related=[foreign])


def test_votes_count_once_per_voter_and_can_change(workspace):
    a = article(workspace)
    with transaction.atomic():
        assert services.article_vote(actor=SYSTEM, article=a, voter="v1", helpful=True) is True
        assert services.article_vote(actor=SYSTEM, article=a, voter="v1", helpful=True) is False
        services.article_vote(actor=SYSTEM, article=a, voter="v2", helpful=True)
        services.article_vote(actor=SYSTEM, article=a, voter="v1", helpful=False)
    assert (a.helpful_yes, a.helpful_no) == (1, 1)


def test_an_article_needs_a_title(workspace):
    with pytest.raises(DomainError):
        article(workspace, title="  ")


def test_default_articles_seed_a_searchable_help_center(workspace):
    from carekit.knowledge import public

    created = call_inside_transaction(services.seed_default_articles, actor=SYSTEM, workspace=workspace)
    assert len(created) == 28
    assert {a.status for a in created} == {ArticleStatus.PUBLISHED}
    hits = public.search(workspace.pk, "как вернуть платье", "ru")
    assert hits[0].slug == "returns"
    returns_en = next(a for a in created if (a.slug, a.language) == ("returns", "en"))
    assert sorted(r.slug for r in returns_en.related.all()) == ["exchange", "refunds"]
    with pytest.raises(Conflict):
        call_inside_transaction(services.seed_default_articles, actor=SYSTEM, workspace=workspace)
