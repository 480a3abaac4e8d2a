"""The audit trail through the API: shape, filters, cursor pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from carekit.core.events import Actor, EventSpec, emit_many

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _seed(ws):
    base = timezone.now() - timedelta(days=1)
    specs = [
        EventSpec(
            ws.pk,
            "probe.thing.happened",
            "thing",
            str(i % 3),
            Actor("user", f"usr_{i % 2}"),
            {"n": i},
            base + timedelta(minutes=i),
        )
        for i in range(7)
    ]
    with transaction.atomic():
        return emit_many(specs)


def test_audit_list_shape_filters_and_pages(api, workspace):
    events = _seed(workspace)
    resp = api.get("/events", type="probe.thing.happened", limit=3)
    body = resp.json()
    assert resp.status_code == 200
    assert [e["id"] for e in body["items"]] == [e.public_id for e in reversed(events)][:3]
    first = body["items"][0]
    assert set(first) == {"id", "type", "subject_type", "subject_id", "actor", "payload", "occurred_at"}
    assert first["actor"] == "user:usr_0"
    assert first["payload"] == {"n": 6}

    seen = [e["id"] for e in body["items"]]
    while body["next_cursor"]:
        body = api.get("/events", type="probe.thing.happened", limit=3, cursor=body["next_cursor"]).json()
        seen += [e["id"] for e in body["items"]]
    assert seen == [e.public_id for e in reversed(events)]

    by_subject = api.get("/events", subject="thing:1").json()["items"]
    assert sorted(e["payload"]["n"] for e in by_subject) == [1, 4]
    by_actor = api.get("/events", actor="user:usr_1", type="probe.*").json()["items"]
    assert sorted(e["payload"]["n"] for e in by_actor) == [1, 3, 5]
    assert api.get("/events", actor="nonsense").status_code == 422


def test_token_cache_forgets_a_revoked_token_at_once(workspace, settings, django_capture_on_commit_callbacks):
    from carekit.accounts import services
    from carekit.accounts.models import ApiToken
    from carekit.testing.tenants import SYSTEM, api_caller

    settings.API_TOKEN_CACHE_SECONDS = 60
    cached = api_caller(workspace, ["accounts:read"])
    assert cached.get("/workspace").status_code == 200
    # A change behind the services' back is not seen while the entry lives: the cache is really used.
    ApiToken.objects.filter(workspace=workspace).update(revoked_at=timezone.now())
    assert cached.get("/workspace").status_code == 200

    revoked = api_caller(workspace, ["accounts:read"])
    assert revoked.get("/workspace").status_code == 200
    token = ApiToken.objects.get(workspace=workspace, revoked_at__isnull=True)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.api_token_revoke(actor=SYSTEM, token=token)
    assert revoked.get("/workspace").status_code == 401  # the service's revocation clears the entry
