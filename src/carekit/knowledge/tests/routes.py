"""Route cases for the knowledge-base API (see carekit.testing.routes)."""

from __future__ import annotations

from carekit.core.models import Workspace
from carekit.knowledge.tests.factories import article, category
from carekit.testing.routes import RouteCall, route_case


@route_case("GET", "/kb/categories", scope="knowledge:read")
def _categories(own: Workspace, other: Workspace) -> RouteCall:
    mine, theirs = category(own), category(other)
    return RouteCall("/kb/categories", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("POST", "/kb/categories", scope="knowledge:write")
def _category_create(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/kb/categories", body={"slug": "delivery", "names": {"en": "Delivery"}}, kind="plain")


@route_case("GET", "/kb/articles", scope="knowledge:read")
def _articles(own: Workspace, other: Workspace) -> RouteCall:
    mine, theirs = article(own), article(other)
    return RouteCall("/kb/articles", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("POST", "/kb/articles", scope="knowledge:write")
def _article_create(own: Workspace, other: Workspace) -> RouteCall:
    # The foreign reference is in the body: another workspace's article as a related one.
    body = {
        "language": "en",
        "title": "Returns",
        "body": "Within 14 days.",
        "related_ids": [article(other).public_id],
    }
    return RouteCall("/kb/articles", body=body)


@route_case("GET", "/kb/articles/{article_id}", scope="knowledge:read")
def _article_get(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/kb/articles/{article(other).public_id}")


@route_case("PATCH", "/kb/articles/{article_id}", scope="knowledge:write")
def _article_patch(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/kb/articles/{article(other).public_id}", body={"title": "Changed"})


@route_case("DELETE", "/kb/articles/{article_id}", scope="knowledge:write")
def _article_archive(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/kb/articles/{article(other).public_id}")


@route_case("GET", "/kb/articles/{article_id}/versions", scope="knowledge:read")
def _versions(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/kb/articles/{article(other).public_id}/versions")


@route_case("GET", "/kb/search", scope="knowledge:read")
def _search(own: Workspace, other: Workspace) -> RouteCall:
    mine = article(own, slug="returns-own")
    theirs = article(other, slug="returns-other")
    return RouteCall(
        "/kb/search?q=возврат&language=ru",
        kind="list",
        own_ids={mine.public_id},
        foreign_ids={theirs.public_id},
    )
