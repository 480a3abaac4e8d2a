"""The public help center: published articles only, per workspace, with votes."""

from __future__ import annotations

import pytest
from django.test import Client

from carekit.knowledge.tests.factories import article, category

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_home_lists_published_articles_of_the_language(workspace):
    cat = category(workspace)
    a = article(workspace, slug="returns")
    a.category = cat
    a.save()
    article(workspace, title="Черновик", slug="draft", publish=False)
    article(workspace, title="Returns", slug="returns", language="en")
    resp = Client().get(f"/help/{workspace.slug}/?lang=ru")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Возврат товара" in html
    assert "Возвраты" in html
    assert "Черновик" not in html
    assert ">Returns<" not in html


def test_article_page_search_and_vote(workspace):
    article(workspace, slug="returns")
    client = Client()
    page = client.get(f"/help/{workspace.slug}/ru/returns/")
    assert page.status_code == 200
    assert "14 дней" in page.content.decode()
    found = client.get(f"/help/{workspace.slug}/search/", {"q": "вернуть", "lang": "ru"})
    assert f"/help/{workspace.slug}/ru/returns/" in found.content.decode()
    voted = client.post(f"/help/{workspace.slug}/ru/returns/vote", {"helpful": "yes"})
    assert voted.status_code == 302
    client.post(f"/help/{workspace.slug}/ru/returns/vote", {"helpful": "yes"})
    from carekit.knowledge.models import Article

    assert Article.objects.get(workspace=workspace, slug="returns").helpful_yes == 1


def test_drafts_and_other_workspaces_articles_are_not_found(workspace, other_workspace):
    article(workspace, slug="draft", publish=False)
    article(other_workspace, slug="theirs")
    client = Client()
    assert client.get(f"/help/{workspace.slug}/ru/draft/").status_code == 404
    assert client.get(f"/help/{workspace.slug}/ru/theirs/").status_code == 404
    assert client.get("/help/no-such-shop/").status_code == 404
    assert client.get(f"/help/{workspace.slug}/de/draft/").status_code == 404


def test_seed_command_publishes_the_default_help_center(workspace):
    import io

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("kb", "seed", "--workspace", workspace.slug, stdout=out)
    assert out.getvalue().strip() == f"Published 28 articles in {workspace.slug}: /help/{workspace.slug}/"
    page = Client().get(f"/help/{workspace.slug}/search/", {"q": "как отследить посылку", "lang": "ru"})
    assert f"/help/{workspace.slug}/ru/order-tracking/" in page.content.decode()
    with pytest.raises(CommandError):
        call_command("kb", "seed", "--workspace", workspace.slug, stdout=io.StringIO())
