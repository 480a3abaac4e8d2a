"""What other contexts (the bot, the widget) may use from the knowledge base: frozen facts only."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from carekit.core.events import Actor
from carekit.knowledge import selectors, services
from carekit.knowledge.enums import ArticleStatus
from carekit.knowledge.models import Article
from carekit.knowledge.search import Doc, SearchIndex

__all__ = ["ArticleHit", "Doc", "SearchIndex", "record_vote", "search"]


@dataclass(frozen=True)
class ArticleHit:
    article_id: str
    slug: str
    language: str
    title: str
    snippet: str
    url: str
    score: float
    coverage: float


def search(workspace_id: int, query: str, language: str, limit: int = 5) -> list[ArticleHit]:
    """Published articles in `language` that answer `query`, best first."""
    from carekit.core.models import Workspace

    slug = Workspace.objects.values_list("slug", flat=True).get(pk=workspace_id)
    return [
        ArticleHit(
            article_id=a.public_id,
            slug=a.slug,
            language=a.language,
            title=a.title,
            snippet=hit.snippet,
            url=reverse("knowledge:article", args=[slug, a.language, a.slug]),
            score=hit.score,
            coverage=hit.coverage,
        )
        for a, hit in selectors.search(workspace_id, query, language, limit)
    ]


def record_vote(*, actor: Actor, workspace_id: int, article_id: str, voter: str, helpful: bool) -> bool:
    """A "did this help?" answer given in a conversation; runs inside the caller's transaction."""
    article: Article = selectors.article(workspace_id, article_id)
    if article.status != ArticleStatus.PUBLISHED:
        return False
    return services.article_vote(actor=actor, article=article, voter=voter, helpful=helpful)
