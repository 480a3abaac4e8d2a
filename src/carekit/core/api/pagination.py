"""Cursor pagination: stable under inserts, opaque and tamper-evident cursors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from django.core import signing
from django.db.models import QuerySet
from django.http import HttpResponse

from carekit.core.api.errors import ApiError

_SALT = "carekit.cursor"
MAX_LIMIT = 200


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """Serialize with orjson and skip ninja's output validation.

    For hot read endpoints whose dicts are built from `values()` rows: the declared response schema
    still documents the endpoint, and tests check the shape.
    """
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


def paginate(qs: QuerySet[Any], *, cursor: str | None, limit: int = 50) -> Page:
    """Newest first by primary key; `cursor` is the value returned as `next_cursor` by the previous page."""
    return _page(qs, cursor=cursor, limit=limit, key=lambda row: row.pk)


def check_limit(limit: int) -> None:
    if limit < 1 or limit > MAX_LIMIT:
        raise ApiError(422, "validation_error", f"limit must be between 1 and {MAX_LIMIT}")


def cursor_pk(cursor: str | None) -> int | None:
    """The primary key a `next_cursor` points below; None for the first page; 400 when tampered with."""
    if not cursor:
        return None
    try:
        return int(signing.loads(cursor, salt=_SALT))
    except (signing.BadSignature, ValueError, TypeError):
        raise ApiError(400, "invalid_cursor", "The cursor is not valid.") from None


def page_of(rows: list[Any], *, limit: int, key: Callable[[Any], int]) -> Page:
    """Cut `limit + 1` fetched rows (newest first) into a page and the cursor of the next one."""
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = signing.dumps(key(rows[-1]), salt=_SALT) if more and rows else None
    return Page(items=rows, next_cursor=next_cursor)


def _page(qs: QuerySet[Any], *, cursor: str | None, limit: int, key: Callable[[Any], int]) -> Page:
    check_limit(limit)
    qs = qs.order_by("-pk")
    last_pk = cursor_pk(cursor)
    if last_pk is not None:
        qs = qs.filter(pk__lt=last_pk)
    return page_of(list(qs[: limit + 1]), limit=limit, key=key)
