"""One paginated timeline per customer, merged from every registered provider.

Pages are cut by a signed cursor over (time, kind, ref), so items with equal times are neither lost
nor repeated between pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing

from carekit.core.api.errors import ApiError
from carekit.customers.registry import TIMELINE_PROVIDERS, TimelineItem, TimelineQuery

_SALT = "carekit.customers.timeline"
MAX_LIMIT = 200


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str | None


def _sort_key(item: TimelineItem) -> tuple[datetime, str, str]:
    return (item.occurred_at, item.kind, item.ref)


def _from_provider(
    name: str,
    workspace_id: int,
    customer_id: str,
    after: tuple[datetime, str, str] | None,
    want: int,
    kinds: frozenset[str],
) -> list[TimelineItem]:
    """Up to `want` items older than the cursor. Providers cut by time only, so items sharing the
    cursor's time may fill their answer; ask again with a larger limit until enough remain."""
    limit = want
    for _round in range(12):
        query = TimelineQuery(workspace_id, customer_id, after[0] if after else None, limit, kinds)
        got = TIMELINE_PROVIDERS[name](query)
        kept = [i for i in got if (not kinds or i.kind in kinds) and (after is None or _sort_key(i) < after)]
        if len(got) < limit or len(kept) >= want:
            return kept
        limit *= 2
    return kept


def timeline(
    workspace_id: int,
    customer_id: str,
    *,
    cursor: str | None = None,
    limit: int = 50,
    kinds: frozenset[str] = frozenset(),
) -> TimelinePage:
    if limit < 1 or limit > MAX_LIMIT:
        raise ApiError(422, "validation_error", f"limit must be between 1 and {MAX_LIMIT}")
    after: tuple[datetime, str, str] | None = None
    if cursor:
        try:
            at, kind, ref = signing.loads(cursor, salt=_SALT)
            after = (datetime.fromisoformat(at), kind, ref)
        except (signing.BadSignature, ValueError, TypeError):
            raise ApiError(400, "invalid_cursor", "The cursor is not valid.") from None
    items: list[TimelineItem] = []
    for name in sorted(TIMELINE_PROVIDERS):
        items.extend(_from_provider(name, workspace_id, customer_id, after, limit + 1, kinds))
    items.sort(key=_sort_key, reverse=True)
    page = items[:limit]
    next_cursor = None
    if len(items) > limit:
        last = page[-1]
        next_cursor = signing.dumps([last.occurred_at.isoformat(), last.kind, last.ref], salt=_SALT)
    return TimelinePage(page, next_cursor)
