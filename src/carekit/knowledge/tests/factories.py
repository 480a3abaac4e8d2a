"""Knowledge-base rows for tests, written through the services."""

from __future__ import annotations

from django.db import transaction

from carekit.core.models import Workspace
from carekit.knowledge import services
from carekit.knowledge.enums import ArticleStatus
from carekit.knowledge.models import Article
from carekit.testing.tenants import SYSTEM


def article(
    ws: Workspace,
    *,
    title: str = "Возврат товара",
    body: str = "Вернуть вещь можно в течение 14 дней.",
    language: str = "ru",
    slug: str = "",
    publish: bool = True,
) -> Article:
    with transaction.atomic():
        a = services.article_create(
            actor=SYSTEM, workspace=ws, language=language, title=title, body=body, slug=slug
        )
        if publish:
            services.article_set_status(actor=SYSTEM, article=a, status=ArticleStatus.PUBLISHED)
    return a


def category(ws: Workspace, slug: str = "returns"):
    with transaction.atomic():
        return services.category_create(
            actor=SYSTEM, workspace=ws, slug=slug, names={"en": "Returns", "ru": "Возвраты"}
        )
