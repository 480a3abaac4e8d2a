"""The timeline: merged from providers, newest first, paginated without loss or repeats, filterable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from carekit.customers import registry
from carekit.customers.registry import TimelineItem, TimelineQuery
from carekit.customers.tests.factories import make_customer, make_order

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

T0 = timezone.now() - timedelta(days=1)


def _probe(q: TimelineQuery) -> list[TimelineItem]:
    # Five items share one timestamp: the cursor must neither drop nor repeat them.
    items = [TimelineItem(T0, "probe.note", f"n{i}", f"note {i}") for i in range(5)]
    items += [
        TimelineItem(T0 - timedelta(minutes=i), "probe.call", f"c{i}", f"call {i}") for i in range(1, 8)
    ]
    items = [i for i in items if q.before is None or i.occurred_at <= q.before]
    return sorted(items, key=lambda i: i.occurred_at, reverse=True)[: q.limit]


@pytest.fixture
def probe_provider():
    registry.register_timeline_provider("probe", _probe)
    yield
    registry.unregister("probe")


def test_pages_cover_every_item_once_in_order(api, workspace, probe_provider):
    c = make_customer(workspace, emails=["a@example.com"])
    for n in range(3):
        make_order(workspace, c, f"T-{n}")
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = api.get(f"/customers/{c.public_id}/timeline", **params).json()
        seen += [(i["occurred_at"], i["kind"], i["ref"]) for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 12 + 3 + 1  # probe items, orders, the email identity
    assert seen == sorted(seen, reverse=True)


def test_kinds_filter(api, workspace, probe_provider):
    c = make_customer(workspace)
    body = api.get(f"/customers/{c.public_id}/timeline", kinds="probe.call").json()
    assert [i["ref"] for i in body["items"]] == [f"c{i}" for i in range(1, 8)]
