"""Knowledge-base API: categories, articles with versions and status, search. Thin: parse, scope, call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from carekit.core.api import StrictSchema, need, paginate
from carekit.core.models import Workspace
from carekit.knowledge import public, selectors, services
from carekit.knowledge.enums import ArticleStatus, Language
from carekit.knowledge.models import Article, Category

router = Router(tags=["knowledge"])


class CategoryIn(StrictSchema):
    slug: str = Field(min_length=1, max_length=80)
    names: dict[str, str] = Field(default_factory=dict)


class CategoryOut(Schema):
    id: str
    slug: str
    names: dict[str, str]


class CategoryPage(Schema):
    items: list[CategoryOut]
    next_cursor: str | None


class ArticleIn(StrictSchema):
    language: Language
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(max_length=services.MAX_BODY)
    slug: str = Field(default="", max_length=120)
    keywords: str = Field(default="", max_length=500)
    category_id: str | None = None
    related_ids: list[str] = Field(default_factory=list, max_length=20)
    publish: bool = False


class ArticlePatch(StrictSchema):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, max_length=services.MAX_BODY)
    keywords: str | None = Field(default=None, max_length=500)
    category_id: str | None = None
    related_ids: list[str] | None = Field(default=None, max_length=20)
    status: ArticleStatus | None = None


class ArticleOut(Schema):
    id: str
    slug: str
    language: str
    status: str
    title: str
    body: str
    keywords: str
    category_id: str | None
    related_ids: list[str]
    version: int
    helpful_yes: int
    helpful_no: int
    published_at: datetime | None
    updated_at: datetime


class ArticlePage(Schema):
    items: list[ArticleOut]
    next_cursor: str | None


class VersionOut(Schema):
    number: int
    title: str
    body: str
    author: str
    created_at: datetime


class VersionPage(Schema):
    items: list[VersionOut]
    next_cursor: str | None


class HitOut(Schema):
    id: str
    slug: str
    language: str
    title: str
    snippet: str
    url: str
    score: float
    coverage: float


class SearchOut(Schema):
    items: list[HitOut]


def _article(a: Article) -> dict[str, Any]:
    return {
        "id": a.public_id,
        "slug": a.slug,
        "language": a.language,
        "status": a.status,
        "title": a.title,
        "body": a.body,
        "keywords": a.keywords,
        "category_id": a.category.public_id if a.category else None,
        "related_ids": [r.public_id for r in a.related.all()],
        "version": a.version,
        "helpful_yes": a.helpful_yes,
        "helpful_no": a.helpful_no,
        "published_at": a.published_at,
        "updated_at": a.updated_at,
    }


def _category(c: Category) -> dict[str, Any]:
    return {"id": c.public_id, "slug": c.slug, "names": c.names}


@router.get("/kb/categories", response=CategoryPage)
def list_categories(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "knowledge:read")
    page = paginate(selectors.categories(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_category(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/kb/categories", response={201: CategoryOut})
def create_category(request: HttpRequest, body: CategoryIn) -> Status:
    p = need(request, "knowledge:write")
    with transaction.atomic(durable=True):
        ws = Workspace.objects.get(pk=p.workspace_id)
        c = services.category_create(actor=p.actor, workspace=ws, slug=body.slug, names=body.names)
    return Status(201, _category(c))


@router.get("/kb/articles", response=ArticlePage)
def list_articles(
    request: HttpRequest,
    language: Language | None = None,
    status: ArticleStatus | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    p = need(request, "knowledge:read")
    qs = selectors.articles(p.workspace_id, language=language, status=status).prefetch_related("related")
    page = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_article(a) for a in page.items], "next_cursor": page.next_cursor}


@router.post("/kb/articles", response={201: ArticleOut})
def create_article(request: HttpRequest, body: ArticleIn) -> Status:
    p = need(request, "knowledge:write")
    with transaction.atomic(durable=True):
        ws = Workspace.objects.get(pk=p.workspace_id)
        category = selectors.category(p.workspace_id, body.category_id) if body.category_id else None
        related = selectors.articles_by_ids(p.workspace_id, body.related_ids)
        a = services.article_create(
            actor=p.actor,
            workspace=ws,
            language=body.language,
            title=body.title,
            body=body.body,
            slug=body.slug,
            keywords=body.keywords,
            category=category,
        )
        if related:
            services.article_set_related(actor=p.actor, article=a, related=related)
        if body.publish:
            services.article_set_status(actor=p.actor, article=a, status=ArticleStatus.PUBLISHED)
    return Status(201, _article(a))


@router.get("/kb/articles/{article_id}", response=ArticleOut)
def get_article(request: HttpRequest, article_id: str) -> dict[str, Any]:
    p = need(request, "knowledge:read")
    return _article(selectors.article(p.workspace_id, article_id))


@router.patch("/kb/articles/{article_id}", response=ArticleOut)
def update_article(request: HttpRequest, article_id: str, body: ArticlePatch) -> dict[str, Any]:
    p = need(request, "knowledge:write")
    with transaction.atomic(durable=True):
        a = selectors.article(p.workspace_id, article_id)
        category = selectors.category(p.workspace_id, body.category_id) if body.category_id else None
        services.article_update(
            actor=p.actor,
            article=a,
            title=body.title,
            body=body.body,
            keywords=body.keywords,
            category=category,
        )
        if body.related_ids is not None:
            related = selectors.articles_by_ids(p.workspace_id, body.related_ids)
            services.article_set_related(actor=p.actor, article=a, related=related)
        if body.status is not None:
            services.article_set_status(actor=p.actor, article=a, status=body.status)
    return _article(a)


@router.delete("/kb/articles/{article_id}", response=ArticleOut, summary="Archive an article")
def archive_article(request: HttpRequest, article_id: str) -> dict[str, Any]:
    p = need(request, "knowledge:write")
    with transaction.atomic(durable=True):
        a = selectors.article(p.workspace_id, article_id)
        services.article_set_status(actor=p.actor, article=a, status=ArticleStatus.ARCHIVED)
    return _article(a)


@router.get("/kb/articles/{article_id}/versions", response=VersionPage)
def list_versions(
    request: HttpRequest, article_id: str, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    p = need(request, "knowledge:read")
    selectors.article(p.workspace_id, article_id)  # 404 for another workspace's article
    page = paginate(selectors.versions(p.workspace_id, article_id), cursor=cursor, limit=limit)
    items = [
        {"number": v.number, "title": v.title, "body": v.body, "author": v.author, "created_at": v.created_at}
        for v in page.items
    ]
    return {"items": items, "next_cursor": page.next_cursor}


@router.get("/kb/search", response=SearchOut, summary="Published articles that answer a question")
def search(request: HttpRequest, q: str, language: Language = Language.EN, limit: int = 5) -> dict[str, Any]:
    p = need(request, "knowledge:read")
    hits = public.search(p.workspace_id, q[:1000], language, min(max(limit, 1), 20))
    return {
        "items": [
            {
                "id": h.article_id,
                "slug": h.slug,
                "language": h.language,
                "title": h.title,
                "snippet": h.snippet,
                "url": h.url,
                "score": h.score,
                "coverage": h.coverage,
            }
            for h in hits
        ]
    }
