"""Full-text search over message texts.

PostgreSQL: two expression GIN indexes, `to_tsvector('russian', text)` and `to_tsvector('english', text)`
(Snowball stemmers: Russian morphology by stemming, English stemming); a message matches when either
configuration matches the query (`websearch_to_tsquery`), ranked by the better of the two.

SQLite (embedded) fallback, documented in docs/inbox.md: no index; every query word must occur in the
text, case-insensitively, as a prefix stem (the word without its last one or two letters when it is
longer than five letters: "заказа" finds "заказ", "orders" finds "order"). Good enough for a small
embedded install; production search runs on PostgreSQL.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q, QuerySet

from carekit.conversations.models import Message

WORD_RE = re.compile(r"\w+", re.UNICODE)
CONFIGS = ("russian", "english")


def _stem(word: str) -> str:
    word = word.lower()
    if len(word) > 7:
        return word[:-2]
    if len(word) > 5:
        return word[:-1]
    return word


def search_messages(workspace_id: int, query: str, *, limit: int = 50) -> QuerySet[Message]:
    words = WORD_RE.findall(query)[:10]
    qs = Message.objects.filter(workspace_id=workspace_id).select_related("conversation")
    if not words:
        return qs.none()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vectors = {c: SearchVector("text", config=c) for c in CONFIGS}
        queries = {c: SearchQuery(query, config=c, search_type="websearch") for c in CONFIGS}
        match = Q()
        for c in CONFIGS:
            match |= Q(**{f"v_{c}": queries[c]})
        qs = qs.annotate(**{f"v_{c}": vectors[c] for c in CONFIGS}).filter(match)
        qs = qs.annotate(
            rank=SearchRank(vectors["russian"], queries["russian"])
            + SearchRank(vectors["english"], queries["english"])
        )
        return qs.order_by("-rank", "-pk")[:limit]
    cond = Q()
    for w in words:
        cond &= Q(text__icontains=_stem(w))
    return qs.filter(cond).order_by("-pk")[:limit]
