"""The public help center: one per workspace, server-rendered, no sign-in."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.knowledge import selectors, services
from carekit.knowledge.enums import ArticleStatus, Language
from carekit.knowledge.models import Article


def _language(request: HttpRequest, explicit: str | None = None) -> str:
    lang = explicit or request.GET.get("lang") or (get_language() or "en")[:2]
    if lang not in Language.values:
        raise Http404("unknown language")
    return lang


def home(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    ws = get_object_or_404(Workspace, slug=workspace_slug)
    lang = _language(request)
    articles = list(
        selectors.articles(ws.pk, language=lang, status=ArticleStatus.PUBLISHED).order_by(
            "category__position", "title"
        )
    )
    groups: dict[str, list[Article]] = {}
    for a in articles:
        groups.setdefault(a.category.name_in(lang) if a.category else "", []).append(a)
    return render(
        request,
        "knowledge/home.html",
        {"workspace": ws, "lang": lang, "groups": sorted(groups.items(), key=lambda kv: kv[0])},
    )


def search(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    ws = get_object_or_404(Workspace, slug=workspace_slug)
    lang = _language(request)
    query = request.GET.get("q", "")[:300]
    results = selectors.search(ws.pk, query, lang, limit=10) if query.strip() else []
    return render(
        request, "knowledge/search.html", {"workspace": ws, "lang": lang, "query": query, "results": results}
    )


def article(request: HttpRequest, workspace_slug: str, lang: str, slug: str) -> HttpResponse:
    ws = get_object_or_404(Workspace, slug=workspace_slug)
    lang = _language(request, lang)
    try:
        a = selectors.published_article(ws.pk, lang, slug)
    except Article.DoesNotExist:
        raise Http404("no such article") from None
    return render(
        request,
        "knowledge/article.html",
        {
            "workspace": ws,
            "lang": lang,
            "article": a,
            "paragraphs": [p for p in a.body.split("\n") if p.strip()],
            "related": selectors.related_published(a),
            "voted": request.GET.get("voted") == "1",
        },
    )


def _voter(request: HttpRequest) -> str:
    # One vote per browser session, stored as a hash: the help center keeps no personal data.
    if not request.session.session_key:
        request.session.save()
    return hashlib.sha256(f"session:{request.session.session_key}".encode()).hexdigest()


@require_POST
def vote(request: HttpRequest, workspace_slug: str, lang: str, slug: str) -> HttpResponse:
    ws = get_object_or_404(Workspace, slug=workspace_slug)
    with transaction.atomic(durable=True):
        try:
            a = selectors.published_article(ws.pk, _language(request, lang), slug)
        except Article.DoesNotExist:
            raise Http404("no such article") from None
        services.article_vote(
            actor=Actor("visitor"),
            article=a,
            voter=_voter(request),
            helpful=request.POST.get("helpful") == "yes",
        )
    return redirect(f"{request.path.rsplit('/vote', 1)[0]}/?voted=1")
