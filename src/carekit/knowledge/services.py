"""Every write to the knowledge base (keyword-only, with `actor=`), inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from carekit.core.errors import Conflict, DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.knowledge.enums import ArticleStatus, Language
from carekit.knowledge.models import Article, ArticleVersion, ArticleVote, Category

MAX_BODY = 100_000


class KnowledgeError(DomainError):
    code = "invalid"


def _event(article: Article, verb: str, actor: Actor, **payload: object) -> None:
    emit(
        workspace_id=article.workspace_id,
        type=f"knowledge.article.{verb}",
        subject_type="article",
        subject_id=article.public_id,
        actor=actor,
        payload={"language": article.language, "version": article.version, **payload},
    )


def _check_content(title: str, body: str) -> None:
    if not title.strip():
        raise KnowledgeError(_("An article needs a title."), field="title")
    if len(body) > MAX_BODY:
        raise KnowledgeError(_("The article is too long."), field="body")


def category_create(*, actor: Actor, workspace: Workspace, slug: str, names: dict[str, str]) -> Category:
    slug = slugify(slug)[:80]
    if not slug:
        raise KnowledgeError(_("A category needs a slug."), field="slug")
    if not set(names) <= set(Language.values):
        raise KnowledgeError(_("Unsupported language in names."), field="names")
    try:
        with transaction.atomic():
            category = Category.objects.create(workspace=workspace, slug=slug, names=names)
    except IntegrityError:
        raise Conflict(_("A category with this slug exists."), field="slug") from None
    emit(
        workspace_id=workspace.pk,
        type="knowledge.category.created",
        subject_type="category",
        subject_id=category.public_id,
        actor=actor,
        payload={},
    )
    return category


def article_create(
    *,
    actor: Actor,
    workspace: Workspace,
    language: str,
    title: str,
    body: str,
    slug: str = "",
    category: Category | None = None,
    keywords: str = "",
) -> Article:
    """A new draft; translations of one article share its slug."""
    if language not in Language.values:
        raise KnowledgeError(_("Unsupported language."), field="language")
    _check_content(title, body)
    if category is not None and category.workspace_id != workspace.pk:
        raise KnowledgeError(_("Unknown category."), field="category_id")
    article = Article(
        workspace=workspace,
        language=language,
        slug=slugify(slug or title, allow_unicode=False)[:120] or timezone.now().strftime("a%Y%m%d%H%M%S"),
        title=title.strip(),
        body=body,
        keywords=keywords,
        category=category,
    )
    try:
        with transaction.atomic():
            article.save()
    except IntegrityError:
        raise Conflict(_("An article with this slug exists in this language."), field="slug") from None
    ArticleVersion.objects.create(
        workspace=workspace, article=article, number=1, title=article.title, body=body,
        keywords=keywords, author=str(actor),
    )  # fmt: skip
    _event(article, "created", actor)
    return article


def article_update(
    *,
    actor: Actor,
    article: Article,
    title: str | None = None,
    body: str | None = None,
    keywords: str | None = None,
    category: Category | None = None,
    clear_category: bool = False,
) -> Article:
    """Change the content; every change of title, body or keywords is a new version."""
    new_title = article.title if title is None else title.strip()
    new_body = article.body if body is None else body
    new_keywords = article.keywords if keywords is None else keywords
    _check_content(new_title, new_body)
    if category is not None and category.workspace_id != article.workspace_id:
        raise KnowledgeError(_("Unknown category."), field="category_id")
    content_changed = (new_title, new_body, new_keywords) != (article.title, article.body, article.keywords)
    article.title, article.body, article.keywords = new_title, new_body, new_keywords
    if category is not None or clear_category:
        article.category = category
    if content_changed:
        article.version += 1
        ArticleVersion.objects.create(
            workspace_id=article.workspace_id, article=article, number=article.version, title=new_title,
            body=new_body, keywords=new_keywords, author=str(actor),
        )  # fmt: skip
    article.updated_at = timezone.now()
    article.save()
    _event(article, "updated", actor)
    return article


def article_set_status(*, actor: Actor, article: Article, status: ArticleStatus) -> Article:
    """Publish, return to draft, or archive."""
    if article.status == status:
        return article
    article.status = status
    if status == ArticleStatus.PUBLISHED:
        article.published_at = timezone.now()
    article.updated_at = timezone.now()
    article.save(update_fields=["status", "published_at", "updated_at"])
    verb = {"published": "published", "draft": "unpublished", "archived": "archived"}[status]
    _event(article, verb, actor)
    return article


def article_set_related(*, actor: Actor, article: Article, related: Sequence[Article]) -> Article:
    if any(r.workspace_id != article.workspace_id or r.pk == article.pk for r in related):
        raise KnowledgeError(_("Related articles must be other articles of this workspace."), field="related")
    article.related.set(related)
    article.updated_at = timezone.now()
    article.save(update_fields=["updated_at"])
    _event(article, "updated", actor, related=len(related))
    return article


def article_vote(*, actor: Actor, article: Article, voter: str, helpful: bool) -> bool:
    """Record "was this helpful?"; a voter's later answer replaces their earlier one. True if counted."""
    previous = ArticleVote.objects.filter(article=article, voter=voter).first()
    if previous is not None and previous.helpful == helpful:
        return False
    if previous is None:
        ArticleVote.objects.create(
            workspace_id=article.workspace_id, article=article, voter=voter, helpful=helpful
        )
    else:
        ArticleVote.objects.filter(pk=previous.pk).update(helpful=helpful)
        undo = "helpful_yes" if previous.helpful else "helpful_no"
        Article.objects.filter(pk=article.pk).update(**{undo: F(undo) - 1})
    field = "helpful_yes" if helpful else "helpful_no"
    Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})
    article.refresh_from_db(fields=["helpful_yes", "helpful_no"])
    _event(article, "voted", actor, helpful=helpful)
    return True


DEFAULT_ARTICLES = Path(__file__).resolve().parent / "data" / "default_articles.json"
DEFAULT_CATEGORIES = {
    "returns": {"en": "Returns and exchanges", "ru": "Возврат и обмен"},
    "delivery": {"en": "Delivery", "ru": "Доставка"},
    "payment": {"en": "Payment", "ru": "Оплата"},
    "loyalty": {"en": "Promo codes and gift cards", "ru": "Промокоды и сертификаты"},
    "sizes": {"en": "Sizes", "ru": "Размеры"},
    "orders": {"en": "Orders", "ru": "Заказы"},
    "services": {"en": "Fittings and stylists", "ru": "Примерка и стилисты"},
    "about": {"en": "About us", "ru": "О нас"},
    "products": {"en": "Product care", "ru": "Уход за вещами"},
}


def seed_default_articles(*, actor: Actor, workspace: Workspace) -> list[Article]:
    """Publish the shipped ru/en e-commerce articles (returns, delivery, payment, ...) in a workspace
    that has none yet: a help center that answers on day one, and the corpus of the search figures."""
    if Article.objects.filter(workspace=workspace).exists():
        raise Conflict(_("The workspace already has articles."))
    data = json.loads(DEFAULT_ARTICLES.read_text(encoding="utf-8"))
    categories: dict[str, Category] = {}
    by_key: dict[tuple[str, str], Article] = {}
    for item in data:
        cat_slug = item["category"]
        if cat_slug not in categories:
            categories[cat_slug] = category_create(
                actor=actor,
                workspace=workspace,
                slug=cat_slug,
                names=DEFAULT_CATEGORIES.get(cat_slug, {"en": cat_slug.title()}),
            )
        for lang in Language.values:
            if lang not in item:
                continue
            a = article_create(
                actor=actor,
                workspace=workspace,
                language=lang,
                title=item[lang]["title"],
                body=item[lang]["body"],
                slug=item["slug"],
                category=categories[cat_slug],
            )
            by_key[(item["slug"], lang)] = article_set_status(
                actor=actor, article=a, status=ArticleStatus.PUBLISHED
            )
    for item in data:
        for lang in Language.values:
            related = [by_key[(slug, lang)] for slug in item.get("related", []) if (slug, lang) in by_key]
            if related and (item["slug"], lang) in by_key:
                article_set_related(actor=actor, article=by_key[(item["slug"], lang)], related=related)
    return list(by_key.values())
