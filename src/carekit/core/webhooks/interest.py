"""Which event types a workspace's active webhook subscriptions want, cached per process.

The webhooks handler subscribes to every event type; without this, every domain event of every
workspace would get a delivery row for it. A subscription change clears this process's cache after
commit; other processes see it within WEBHOOK_INTEREST_CACHE_SECONDS.
"""

from __future__ import annotations

import time

from django.conf import settings

from carekit.core.events.registry import match
from carekit.core.webhooks.models import WebhookSubscription

_CACHE: dict[int, tuple[float, tuple[str, ...]]] = {}


def _patterns(workspace_id: int) -> tuple[str, ...]:
    ttl = settings.WEBHOOK_INTEREST_CACHE_SECONDS
    now = time.monotonic()
    hit = _CACHE.get(workspace_id)
    if ttl > 0 and hit is not None and hit[0] > now:
        return hit[1]
    patterns: set[str] = set()
    for types in WebhookSubscription.objects.filter(workspace_id=workspace_id, is_active=True).values_list(
        "event_types", flat=True
    ):
        patterns.update(types)
    result = tuple(sorted(patterns))
    if ttl > 0:
        _CACHE[workspace_id] = (now + ttl, result)
    return result


def wants(workspace_id: int, event_type: str) -> bool:
    return any(match(p, event_type) for p in _patterns(workspace_id))


def forget(workspace_id: int) -> None:
    _CACHE.pop(workspace_id, None)
