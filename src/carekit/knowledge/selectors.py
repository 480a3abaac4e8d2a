"""Reads for the knowledge base. Every selector takes the workspace."""

from __future__ import annotations

from django.db.models import Count, Max, QuerySet

from carekit.knowledge.enums import ArticleStatus
from carekit.knowledge.models import Article, ArticleVersion, Category
from carekit.knowledge.search import Doc, Hit, SearchIndex


def articles(
    workspace_id: int, *, language: str | None = None, status: str | None = None
) -> QuerySet[Article]:
    qs = Article.objects.filter(workspace_id=workspace_id).select_related("category")
    if language:
        qs = qs.filter(language=language)
    if status:
        qs = qs.filter(status=status)
    return qs


def article(workspace_id: int, public_id: str) -> Article:
    return Article.objects.select_related("category").get(workspace_id=workspace_id, public_id=public_id)


def articles_by_ids(workspace_id: int, public_ids: list[str]) -> list[Article]:
    found = list(Article.objects.filter(workspace_id=workspace_id, public_id__in=public_ids))
    if len(found) != len(set(public_ids)):
        raise Article.DoesNotExist("unknown article id")
    return found


def published_article(workspace_id: int, language: str, slug: str) -> Article:
    return Article.objects.select_related("category").get(
        workspace_id=workspace_id, language=language, slug=slug, status=ArticleStatus.PUBLISHED
    )


def versions(workspace_id: int, article_public_id: str) -> QuerySet[ArticleVersion]:
    return ArticleVersion.objects.filter(workspace_id=workspace_id, article__public_id=article_public_id)


def categories(workspace_id: int) -> QuerySet[Category]:
    return Category.objects.filter(workspace_id=workspace_id)


def category(workspace_id: int, public_id: str) -> Category:
    return Category.objects.get(workspace_id=workspace_id, public_id=public_id)


def related_published(article: Article) -> list[Article]:
    return list(
        article.related.filter(
            workspace_id=article.workspace_id, status=ArticleStatus.PUBLISHED, language=article.language
        ).order_by("title")
    )


# --- search -----------------------------------------------------------------------------------------

# workspace id -> (stamp, index). Per process; the stamp query is one indexed aggregate, so an edit in
# another process is seen on the next search.
_INDEXES: dict[int, tuple[tuple[int, object], SearchIndex]] = {}


def _stamp(workspace_id: int) -> tuple[int, object]:
    agg = Article.objects.filter(workspace_id=workspace_id, status=ArticleStatus.PUBLISHED).aggregate(
        n=Count("id"), last=Max("updated_at")
    )
    return int(agg["n"] or 0), agg["last"]


def search_index(workspace_id: int) -> SearchIndex:
    stamp = _stamp(workspace_id)
    cached = _INDEXES.get(workspace_id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rows = Article.objects.filter(workspace_id=workspace_id, status=ArticleStatus.PUBLISHED).values_list(
        "public_id", "language", "title", "body", "keywords"
    )
    index = SearchIndex([Doc(*row) for row in rows])
    _INDEXES[workspace_id] = (stamp, index)
    return index


def search(workspace_id: int, query: str, language: str, limit: int = 5) -> list[tuple[Article, Hit]]:
    hits = search_index(workspace_id).search(query, language, limit)
    by_id = {
        a.public_id: a
        for a in Article.objects.filter(workspace_id=workspace_id, public_id__in=[h.key for h in hits])
    }
    return [(by_id[h.key], h) for h in hits if h.key in by_id]
