"""Webhooks end to end: signed bodies, retries with recorded attempts, refused private targets."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.test import override_settings

from carekit.core.events import Actor, emit
from carekit.core.webhooks import delivery, http, services, signing
from carekit.core.webhooks.enums import AttemptOutcome, DeliveryStatus
from carekit.core.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from carekit.core.webhooks.testing import webhook_receiver
from carekit.testing.tenants import api_caller

ACTOR = Actor.system("test")


def _subscribe(ws, url: str, types: list[str] | None = None) -> WebhookSubscription:
    with transaction.atomic():
        return services.subscription_create(
            actor=ACTOR, workspace=ws, url=url, event_types=types or ["probe.*"]
        )


def _emit(ws) -> str:
    with transaction.atomic():
        ev = emit(
            workspace_id=ws.pk,
            type="probe.thing.happened",
            subject_type="thing",
            subject_id="t1",
            actor=ACTOR,
            payload={"size": 3},
        )
    return ev.public_id


def test_signature_verifies_and_rejects_tampering_and_replays():
    body = b'{"a":1}'
    header = signing.sign("whsec_x", body, 1_700_000_000)
    assert signing.verify("whsec_x", body, header, now=1_700_000_100)
    assert not signing.verify("whsec_x", b'{"a":2}', header, now=1_700_000_100)
    assert not signing.verify("whsec_y", body, header, now=1_700_000_100)
    assert not signing.verify("whsec_x", body, header, now=1_700_000_000 + 301)
    assert not signing.verify("whsec_x", body, "v1=abc", now=1_700_000_000)


@pytest.mark.sqlite
@override_settings(WEBHOOK_RETRY_BASE_SECONDS=0)
def test_500_500_200_is_delivered_with_three_attempts(transactional_db, workspace, other_workspace):
    with webhook_receiver([500, 500, 200]) as rx:
        sub = _subscribe(workspace, rx.url)
        _subscribe(other_workspace, rx.url)  # another workspace's subscription never sees this event
        event_id = _emit(workspace)
    assert len(rx.requests) == 3
    for req in rx.requests:
        assert signing.verify(sub.secret, req.body, req.headers[signing.SIGNATURE_HEADER])
        assert req.headers["X-Carekit-Event"] == "probe.thing.happened"
    body = json.loads(rx.requests[0].body)
    assert body["event_id"] == event_id
    assert body["workspace_id"] == workspace.public_id
    assert body["data"] == {"size": 3}
    d = WebhookDelivery.objects.get()
    assert (d.subscription_id, d.status, d.attempts, d.last_status_code) == (
        sub.pk,
        DeliveryStatus.SUCCEEDED,
        3,
        200,
    )
    assert len({r.headers["X-Carekit-Delivery"] for r in rx.requests}) == 1
    rows = list(WebhookAttempt.objects.filter(delivery=d).values_list("number", "status_code", "outcome"))
    assert rows == [
        (1, 500, AttemptOutcome.HTTP_ERROR),
        (2, 500, AttemptOutcome.HTTP_ERROR),
        (3, 200, AttemptOutcome.SUCCESS),
    ]


@pytest.mark.sqlite
@override_settings(WEBHOOK_RETRY_BASE_SECONDS=0, WEBHOOK_MAX_ATTEMPTS=2)
def test_gives_up_after_max_attempts_then_resend_delivers(transactional_db, workspace):
    with webhook_receiver([503, 503, 204]) as rx:
        sub = _subscribe(workspace, rx.url)
        _emit(workspace)
        d = WebhookDelivery.objects.get()
        assert (d.status, d.attempts, len(rx.requests)) == (DeliveryStatus.FAILED, 2, 2)
        with transaction.atomic():
            services.delivery_resend(actor=ACTOR, delivery=d)
        d.refresh_from_db()
        assert (d.status, d.attempts, len(rx.requests)) == (DeliveryStatus.SUCCEEDED, 3, 3)
    assert sub.deliveries.count() == 1
    assert list(WebhookAttempt.objects.values_list("status_code", flat=True)) == [503, 503, 204]


def test_backoff_grows_four_times_per_attempt():
    with override_settings(WEBHOOK_RETRY_BASE_SECONDS=30):
        assert [delivery.backoff_seconds(n) for n in (1, 2, 3, 4, 5, 6, 7)] == [
            30.0,
            120.0,
            480.0,
            1920.0,
            7680.0,
            21600.0,
            21600.0,
        ]


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.0.10:8080/x", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]/hook", "loopback"),
        ("http://127.0.0.2/hook", "loopback"),
    ],
)
def test_private_target_is_refused_with_a_clear_error(db, workspace, url, reason):
    caller = api_caller(workspace, ["webhooks:manage"])
    before = WebhookSubscription.objects.count()
    resp = caller.post("/webhooks", {"url": url, "event_types": ["*"]})
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "unsafe_target"
    assert reason in err["message"]
    assert "public addresses" in err["message"]
    assert err["details"]["reason"] == reason
    assert WebhookSubscription.objects.count() == before


@override_settings(WEBHOOK_ALLOWED_NETWORKS=[])
def test_client_refuses_loopback_unless_allowed():
    with pytest.raises(http.UnsafeTarget, match="loopback"):
        http.post("http://127.0.0.1:9/hook", b"{}", {})
    with pytest.raises(http.UnsafeTarget, match="http:// or https://"):
        http.resolve("file:///etc/passwd")
    with pytest.raises(http.UnsafeTarget, match="user name"):
        http.resolve("http://user:pw@example.com/")


@pytest.mark.sqlite
def test_target_turned_private_is_recorded_as_refused_without_retry(transactional_db, workspace):
    with webhook_receiver([200]) as rx:
        _subscribe(workspace, rx.url)
        with override_settings(WEBHOOK_ALLOWED_NETWORKS=[]):
            _emit(workspace)
    assert rx.requests == []
    d = WebhookDelivery.objects.get()
    assert (d.status, d.attempts) == (DeliveryStatus.FAILED, 1)
    attempt = WebhookAttempt.objects.get()
    assert attempt.outcome == AttemptOutcome.REFUSED
    assert "loopback" in attempt.error


def test_event_type_patterns_are_checked(db, workspace):
    with pytest.raises(services.DomainError), transaction.atomic():
        services.subscription_create(
            actor=ACTOR, workspace=workspace, url="http://127.0.0.1:9/", event_types=["Bad"]
        )
    assert WebhookSubscription.objects.count() == 0
    assert services.matches(["accounts.*"], "accounts.team.created")
    assert services.matches(["accounts.team.*"], "accounts.team.created")
    assert not services.matches(["accounts.team.*"], "accounts.member.added")


def test_api_lists_only_own_deliveries_and_shows_attempts(db, workspace, other_workspace):
    from carekit.core.webhooks.tests.routes import _delivery

    own, foreign = _delivery(workspace), _delivery(other_workspace)
    caller = api_caller(workspace, ["webhooks:manage"])
    listed = caller.get("/webhook-deliveries").json()["items"]
    assert [d["id"] for d in listed] == [own.public_id]
    assert caller.get(f"/webhook-deliveries/{foreign.public_id}").status_code == 404
    assert caller.post(f"/webhook-deliveries/{foreign.public_id}/resend").status_code == 404
    detail = caller.get(f"/webhook-deliveries/{own.public_id}").json()
    assert (detail["status"], detail["attempt_log"]) == ("failed", [])
    assert api_caller(workspace, ["audit:read"]).get("/webhook-deliveries").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_events_no_subscription_wants_get_no_webhook_delivery_row(settings):
    """The `*` subscriber declines at emit time, per workspace and type, with its cache cleared on change."""
    from carekit.core.events import Actor as _Actor
    from carekit.core.events import emit as _emit
    from carekit.core.models import EventDelivery
    from carekit.core.webhooks import services as webhook_services
    from carekit.testing.tenants import make_workspace as _make_workspace

    settings.WEBHOOK_INTEREST_CACHE_SECONDS = 60
    ws = _make_workspace()

    def emit_one(type_: str):
        with transaction.atomic():
            return _emit(
                workspace_id=ws.pk, type=type_, subject_type="t", subject_id="1", actor=_Actor.system()
            )

    first = emit_one("probe.thing.happened")
    assert not EventDelivery.objects.filter(event_id=first.pk, handler="core.webhooks.record").exists()
    with transaction.atomic():
        webhook_services.subscription_create(
            actor=_Actor.system(), workspace=ws, url="http://127.0.0.1:9/hook", event_types=["probe.*"]
        )
    wanted = emit_one("probe.thing.happened")
    other = emit_one("accounts.team.created")
    assert EventDelivery.objects.filter(event_id=wanted.pk, handler="core.webhooks.record").count() == 1
    assert not EventDelivery.objects.filter(event_id=other.pk, handler="core.webhooks.record").exists()
